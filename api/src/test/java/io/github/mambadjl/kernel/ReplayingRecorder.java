package io.github.mambadjl.kernel;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.function.Supplier;

/**
 * A stand-in {@link StepRecorder} for an engine without device graphs: "recording" runs the step's
 * Java code, and every replay runs it again and writes its results into the first run's outputs. It
 * checks how a caller splits and drives its recorded steps (which inputs it updates in place, what
 * it runs between replays), not the device's replay of a graph.
 */
public final class ReplayingRecorder implements AutoCloseable {

    private final String engine;
    private final SsmKernels previous;

    private ReplayingRecorder(String engine) {
        this.engine = engine;
        this.previous = KernelRegistry.PROVIDERS.get(engine);
        SsmKernels delegate = previous == null ? ReferenceSsmKernels.INSTANCE : previous;
        StepRecorder recorder =
                new StepRecorder() {
                    @Override
                    public boolean canRecord(Device device) {
                        return true;
                    }

                    @Override
                    public RecordedStep record(Device device, Supplier<NDList> step) {
                        return new Replay(step);
                    }
                };
        Class<?>[] interfaces =
                delegate instanceof TokenSampling
                        ? new Class<?>[] {SsmKernels.class, StepRecorder.class, TokenSampling.class}
                        : new Class<?>[] {SsmKernels.class, StepRecorder.class};
        Object kernels =
                Proxy.newProxyInstance(
                        SsmKernels.class.getClassLoader(),
                        interfaces,
                        (proxy, method, args) -> {
                            Object target =
                                    method.getDeclaringClass() == StepRecorder.class
                                            ? recorder
                                            : delegate;
                            try {
                                return method.invoke(target, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
        KernelRegistry.PROVIDERS.put(engine, (SsmKernels) kernels);
    }

    /**
     * Makes the arrays of an engine record steps this way until {@link #close()}.
     *
     * @param engine the engine's name
     * @return the installation, to close
     */
    public static ReplayingRecorder install(String engine) {
        return new ReplayingRecorder(engine);
    }

    /** Restores the engine's kernels. */
    @Override
    public void close() {
        if (previous == null) {
            KernelRegistry.PROVIDERS.remove(engine);
        } else {
            KernelRegistry.PROVIDERS.put(engine, previous);
        }
    }

    /** A "recorded" step: its code, and the outputs of its first run. */
    private static final class Replay implements RecordedStep {

        private final Supplier<NDList> step;
        private final NDList outputs;

        Replay(Supplier<NDList> step) {
            this.step = step;
            this.outputs = step.get();
        }

        @Override
        public NDList outputs() {
            return outputs;
        }

        @Override
        public void replay() {
            NDList again = step.get();
            for (int i = 0; i < outputs.size(); i++) {
                NDArray out = again.get(i);
                outputs.get(i).set(out.toByteBuffer());
                out.close();
            }
        }

        @Override
        public void close() {}
    }
}
