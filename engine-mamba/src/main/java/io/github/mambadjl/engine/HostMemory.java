package io.github.mambadjl.engine;

import io.github.mambadjl.nativeops.CpuTensorOps;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A block of aligned native host memory shared by an array and its views, freed when the last of
 * them releases it.
 */
final class HostMemory {

    private final long address;
    private final long bytes;
    private final AtomicInteger references = new AtomicInteger(1);

    private HostMemory(long address, long bytes) {
        this.address = address;
        this.bytes = bytes;
    }

    /**
     * Allocates memory with one reference, held by the caller.
     *
     * @param bytes the size
     * @param zero whether to zero it
     * @return the memory
     */
    static HostMemory allocate(long bytes, boolean zero) {
        return new HostMemory(CpuTensorOps.allocate(bytes, zero), bytes);
    }

    /** Adds a reference (a new view). */
    void retain() {
        if (references.getAndIncrement() <= 0) {
            references.decrementAndGet();
            throw new IllegalStateException("the native memory of this array was freed already");
        }
    }

    /** Drops a reference, freeing the memory with the last one. */
    void release() {
        int left = references.decrementAndGet();
        if (left == 0) {
            CpuTensorOps.free(address);
        } else if (left < 0) {
            throw new IllegalStateException("native memory released more often than retained");
        }
    }

    long address() {
        return address;
    }

    long bytes() {
        return bytes;
    }
}
