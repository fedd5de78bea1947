package io.github.mambadjl.engine;

import io.github.mambadjl.nativeops.CudaTensorOps;

/**
 * A block of CUDA device memory from the engine's stream-ordered pool, shared by an array and its
 * views; the last release returns it to the pool in the order of the device's stream, so no
 * synchronisation is needed.
 */
final class DeviceMemory extends ArrayMemory {

    private final CudaBackend backend;

    private DeviceMemory(CudaBackend backend, long address, long bytes) {
        super(address, bytes);
        this.backend = backend;
    }

    /**
     * Allocates memory with one reference, held by the caller.
     *
     * @param backend the device's backend (its stream orders the allocation)
     * @param bytes the size
     * @param zero whether to zero it
     * @return the memory
     */
    static DeviceMemory allocate(CudaBackend backend, long bytes, boolean zero) {
        return new DeviceMemory(
                backend, CudaTensorOps.allocate(backend.stream(), bytes, zero), bytes);
    }

    @Override
    Backend backend() {
        return backend;
    }

    @Override
    void free(long address) {
        CudaTensorOps.free(backend.stream(), address);
    }
}
