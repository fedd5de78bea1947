package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.kernel.SsmKernels;
import io.github.mambadjl.nn.RmsNorm;
import io.github.mambadjl.nn.SequenceBlock;
import io.github.mambadjl.nn.SequenceContext;
import io.github.mambadjl.nn.SwiGluMlp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * On the Mamba engine's CPU, {@code rmsNormLinear} and {@code linearAdd} are the operations they
 * compose (the fused kernels are the GPU's), and a block's fused residual step is the default.
 */
class FusedResidualCpuTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = Engine.getEngine("Mamba").newBaseManager(Device.cpu());
    }

    @AfterEach
    void close() {
        manager.close();
    }

    enum Storage {
        FLOAT32,
        FLOAT16,
        BFLOAT16
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void kernelsAreTheCompositionOnTheCpu(Storage storage) {
        DataType type = DataType.valueOf(storage.name());
        SsmKernels k = SsmKernels.of(manager.zeros(new Shape(1)));
        assertSame(MambaSsmKernels.INSTANCE, k);
        NDArray x = random(type, 2, 1, 64);
        NDArray g = manager.randomUniform(0.5f, 1.5f, new Shape(64)).toType(type, false);
        NDArray w = random(type, 24, 64);
        NDArray b = random(type, 24);
        NDArray addend = random(type, 2, 1, 24);
        // decoding-shaped operands that the GPU fuses: none is fused on the CPU
        assertNull(FusedGemv.rmsNormLinear(x, g, 1e-5f, w, null));
        assertNull(FusedGemv.linearAdd(x, w, null, addend));
        NDArray normed = k.gatedRmsNorm(x, null, g, 1e-5f, 64, true);
        assertExactly(Linear.linear(normed, w).head(), k.rmsNormLinear(x, g, 1e-5f, w, null));
        assertExactly(Linear.linear(normed, w, b).head(), k.rmsNormLinear(x, g, 1e-5f, w, b));
        assertExactly(addend.add(Linear.linear(x, w).head()), k.linearAdd(x, w, null, addend));
        assertExactly(addend.add(Linear.linear(x, w, b).head()), k.linearAdd(x, w, b, addend));
    }

    @ParameterizedTest(name = "batch {0}, length {1}")
    @CsvSource({"1, 1", "2, 1", "1, 6"})
    void blocksAreTheDefaultOnTheCpu(int batch, int length) {
        Shape shape = new Shape(batch, length, 32);
        ParameterStore ps = new ParameterStore(manager, false);
        RmsNorm norm = RmsNorm.builder().setSize(32).build();
        // this engine records no gradients
        norm.freezeParameters(true);
        norm.initialize(manager, DataType.FLOAT32, shape);
        // (the mixers draw their initial values in float64, which this engine does not store:
        // they run here in the golden tests, MambaGoldenTest and BlocksOnDeviceGoldenTest)
        SequenceBlock[] blocks = {new SwiGluMlp(32, 48, false, 0.1)};
        NDArray x = manager.randomNormal(shape);
        SequenceContext context = SequenceContext.of(null);
        for (SequenceBlock block : blocks) {
            block.freezeParameters(true);
            block.initialize(manager, DataType.FLOAT32, shape);
            NDArray expected =
                    x.add(block.forward(ps, norm.forward(ps, x, false), context, null, false));
            assertExactly(expected, block.forwardResidual(ps, x, norm, context, null, false));
        }
    }

    private NDArray random(DataType type, long... shape) {
        return manager.randomNormal(new Shape(shape)).toType(type, false);
    }

    private static void assertExactly(NDArray expected, NDArray actual) {
        assertEquals(expected.getShape(), actual.getShape());
        assertEquals(expected.getDataType(), actual.getDataType());
        float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray();
        boolean nonZero = false;
        for (float v : e) {
            nonZero |= v != 0;
        }
        assertTrue(nonZero, "the output must not be zeros");
        assertArrayEquals(e, actual.toType(DataType.FLOAT32, false).toFloatArray());
    }
}
