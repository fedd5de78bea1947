package io.github.mambadjl.engine;

import io.github.mambadjl.nativeops.CpuTensorOps;

/**
 * The engine's setting of the native cache of freed host blocks ({@link
 * CpuTensorOps#setCacheLimit}): a block freed by a closed array is kept for the next array of the
 * same rounded size, so that the same-sized intermediates of every decoding step reuse resident
 * pages instead of faulting fresh ones in.
 *
 * <p>The cache holds at most {@value #DEFAULT_LIMIT} bytes, or the bytes of the system property
 * {@value #LIMIT_PROPERTY} (0 turns it off), dropping the least recently freed blocks first; it is
 * emptied when a base manager (a model's, or one from {@code Engine.newBaseManager}) closes. Cached
 * blocks are not counted by {@link MambaNDManager#hostBytesInUse()}.
 */
final class HostBlockCache {

    /** The system property that sets the limit in bytes. */
    static final String LIMIT_PROPERTY = "mambadjl.hostCacheBytes";

    /** The default limit: 64 MiB, eight times the intermediates of a mamba-130m decoding step. */
    static final long DEFAULT_LIMIT = 64L << 20;

    private HostBlockCache() {}

    /** Applies the limit; the engine calls it once, when it starts. */
    static void configure() {
        CpuTensorOps.setCacheLimit(Long.getLong(LIMIT_PROPERTY, DEFAULT_LIMIT));
    }

    /** Frees every cached block. */
    static void release() {
        CpuTensorOps.trimCache(0);
    }
}
