package io.github.mambadjl.engine;

import io.github.mambadjl.nativeops.CudaTensorOps;

/**
 * A block of CUDA device memory from the engine's stream-ordered pool, shared by an array and its
 * views; the last release returns it to the pool in the order of the device's stream, so no
 * synchronisation is needed. Memory that a thread makes while it records a step belongs to the
 * recorded graph ({@link GraphRecording}).
 */
final class DeviceMemory extends ArrayMemory {

    private final CudaBackend backend;
    private volatile boolean forgotten;

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
        DeviceMemory memory =
                new DeviceMemory(
                        backend, CudaTensorOps.allocate(backend.stream(), bytes, zero), bytes);
        GraphRecording recording = backend.recording();
        if (recording != null && recording.isOwner()) {
            recording.made(memory);
        }
        return memory;
    }

    /** Marks memory of a discarded graph recording, which was never allocated: nothing to free. */
    void forget() {
        forgotten = true;
    }

    /** Frees memory whose release a graph recording deferred. */
    void freeNow() {
        CudaTensorOps.free(backend.stream(), address());
    }

    @Override
    Backend backend() {
        return backend;
    }

    @Override
    void free(long address) {
        if (forgotten) {
            return;
        }
        GraphRecording recording = backend.recording();
        if (recording == null || !recording.isOwner() || !recording.deferRelease(this)) {
            CudaTensorOps.free(backend.stream(), address);
        }
    }
}
