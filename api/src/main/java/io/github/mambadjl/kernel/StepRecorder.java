package io.github.mambadjl.kernel;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.function.Supplier;

/**
 * The optional part of an engine's {@link SsmKernels} that records the device work of a step once
 * and replays it with a single launch (a CUDA graph): a decoding step of many small operations then
 * costs the host one call instead of one call per operation.
 *
 * <p>A recorded step reads the arrays made before the recording (weights, input buffers, states) at
 * the addresses it was recorded with, so between replays they are updated in place (for example
 * with {@code NDArray.set}), never replaced. The arrays the step made and did not close are its
 * outputs: every replay writes them again at the same addresses.
 */
public interface StepRecorder {

    /**
     * Returns the recorder of the engine of an array when that engine can record steps on the
     * array's device.
     *
     * @param array an array of the engine and device in use
     * @return the recorder, or {@code null} when steps cannot be recorded there
     */
    static StepRecorder of(NDArray array) {
        SsmKernels kernels = SsmKernels.of(array);
        return kernels instanceof StepRecorder r && r.canRecord(array.getDevice()) ? r : null;
    }

    /**
     * Returns whether steps on a device can be recorded.
     *
     * @param device the device
     * @return whether {@link #record} works there
     */
    boolean canRecord(Device device);

    /**
     * Records a step: runs its Java code once with the device work recorded instead of run, then
     * runs the recording once, so that its outputs hold the step's results when this returns (as
     * far as the device's queue is concerned: reading them waits for it).
     *
     * @param device the device whose work to record
     * @param step the step; it must not copy data between host and device, wait for the device, or
     *     free an array made before the recording
     * @return the recorded step and its outputs
     * @throws IllegalStateException when the step cannot be recorded; nothing ran then, and the
     *     arrays the step made hold nothing (close them)
     */
    RecordedStep record(Device device, Supplier<NDList> step);
}
