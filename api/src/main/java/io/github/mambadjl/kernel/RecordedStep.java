package io.github.mambadjl.kernel;

import ai.djl.ndarray.NDList;

/** A step recorded by a {@link StepRecorder}, replayed with one launch. Close it to free it. */
public interface RecordedStep extends AutoCloseable {

    /**
     * Returns the arrays the step returned; every {@link #replay()} writes them again.
     *
     * @return the outputs
     */
    NDList outputs();

    /** Queues one more run of the step on its device (asynchronous, like any engine operation). */
    void replay();

    /** Frees the recording; the outputs stay open until they are closed. */
    @Override
    void close();
}
