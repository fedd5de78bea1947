package io.github.mambadjl.engine;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A block of native memory (host or device) shared by an array and its views, freed when the last
 * of them releases it.
 */
abstract class ArrayMemory {

    private final long address;
    private final long bytes;
    private final AtomicInteger references = new AtomicInteger(1);
    private volatile long writes;

    ArrayMemory(long address, long bytes) {
        this.address = address;
        this.bytes = bytes;
    }

    /** Adds a reference (a new view). */
    final void retain() {
        if (references.getAndIncrement() <= 0) {
            references.decrementAndGet();
            throw new IllegalStateException("the native memory of this array was freed already");
        }
    }

    /** Drops a reference, freeing the memory with the last one. */
    final void release() {
        int left = references.decrementAndGet();
        if (left == 0) {
            free(address);
        } else if (left < 0) {
            throw new IllegalStateException("native memory released more often than retained");
        }
    }

    /**
     * Returns the backend that owns this memory and runs the operations on it.
     *
     * @return the backend
     */
    abstract Backend backend();

    /**
     * Frees the memory.
     *
     * @param address the address to free
     */
    abstract void free(long address);

    /** Records a write into memory that arrays already held (an in-place update or a set). */
    final synchronized void written() {
        writes++;
    }

    /**
     * Returns how many writes {@link #written()} recorded: values derived from this memory stay
     * valid while it does not change.
     *
     * @return the count of recorded writes
     */
    final long writes() {
        return writes;
    }

    final long address() {
        return address;
    }

    final long bytes() {
        return bytes;
    }
}
