package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.nativeops.DType;
import io.github.mambadjl.nativeops.NativeTensor;
import io.github.mambadjl.nativeops.RmsNormGatedArgs;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@link SsmKernelDispatch} runs a kernel where its anchor array lives. */
class SsmKernelDispatchTest {

    private static NativeTensor tensor(NDArray a) {
        MambaNDArray m = (MambaNDArray) a;
        return NativeTensor.wrap(
                m.address(), a.getShape().size() * 4, DType.FLOAT32, a.getShape().getShape());
    }

    /** Gated RMSNorm (no gate) of 2 rows of 4 through the dispatch, against Java arithmetic. */
    static void rmsNormOn(Device device) {
        try (NDManager m = Engine.getEngine("Mamba").newBaseManager(device)) {
            float[] x = {1, 2, 3, 4, -1, 0.5f, 2, -3};
            float[] w = {1, 0.5f, 2, 1};
            NDArray xa = m.create(x, new Shape(2, 4));
            NDArray wa = m.create(w, new Shape(4));
            NDArray out = m.zeros(new Shape(2, 4));
            SsmKernelDispatch.rmsNormGated(
                    out,
                    new RmsNormGatedArgs(
                            tensor(xa), null, tensor(wa), 4, 1e-6f, false, tensor(out)));
            float[] actual = out.toFloatArray();
            for (int r = 0; r < 2; r++) {
                double ms = 0;
                for (int c = 0; c < 4; c++) {
                    ms += x[r * 4 + c] * x[r * 4 + c] / 4.0;
                }
                for (int c = 0; c < 4; c++) {
                    double expected = x[r * 4 + c] / Math.sqrt(ms + 1e-6) * w[c];
                    assertEquals(expected, actual[r * 4 + c], 1e-5);
                }
            }
        }
    }

    @Test
    void hostArraysRunTheCpuKernel() {
        rmsNormOn(Device.cpu());
    }

    @Test
    @Tag("gpu")
    void gpuArraysRunTheCudaKernelOnTheEngineStream() {
        rmsNormOn(Device.gpu());
    }
}
