package io.github.mambadjl.engine;

import io.github.mambadjl.nativeops.CpuTensorOps;

/**
 * A block of aligned native host memory shared by an array and its views, freed when the last of
 * them releases it.
 */
final class HostMemory extends ArrayMemory {

    private HostMemory(long address, long bytes) {
        super(address, bytes);
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

    @Override
    Backend backend() {
        return HostBackend.INSTANCE;
    }

    @Override
    void free(long address) {
        CpuTensorOps.free(address);
    }
}
