package io.github.mambadjl.engine;

import ai.djl.ndarray.NDList;
import io.github.mambadjl.kernel.RecordedStep;
import io.github.mambadjl.nativeops.CudaTensorOps;

/** A step recorded into a CUDA graph on a device's engine stream. */
final class RecordedGraph implements RecordedStep {

    private final CudaBackend backend;
    private final NDList outputs;
    private long exec;

    RecordedGraph(CudaBackend backend, long exec, NDList outputs) {
        this.backend = backend;
        this.exec = exec;
        this.outputs = outputs;
    }

    /** {@inheritDoc} */
    @Override
    public NDList outputs() {
        return outputs;
    }

    /** {@inheritDoc} */
    @Override
    public synchronized void replay() {
        if (exec == 0) {
            throw new IllegalStateException("the recorded step was closed");
        }
        CudaTensorOps.launchGraph(exec, backend.engineStream());
    }

    /** {@inheritDoc} */
    @Override
    public synchronized void close() {
        if (exec != 0) {
            CudaTensorOps.destroyGraph(exec);
            exec = 0;
        }
    }
}
