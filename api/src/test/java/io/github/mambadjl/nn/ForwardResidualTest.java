package io.github.mambadjl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import io.github.mambadjl.config.BambaConfig;
import io.github.mambadjl.config.Fixtures;
import io.github.mambadjl.config.ModelConfigs;
import io.github.mambadjl.kernel.ReferenceSsmKernels;
import io.github.mambadjl.kernel.SsmKernels;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The pre-norm residual step of the blocks ({@link SequenceBlock#forwardResidual}, the norm and the
 * add through {@link SsmKernels#rmsNormLinear} and {@link SsmKernels#linearAdd}) against the
 * default {@code x + block(norm(x))}, and those two kernel defaults against the operations they
 * compose, on the PyTorch engine: the same operations in the same order, so the same values.
 */
class ForwardResidualTest {

    private static final int HIDDEN = 32;

    private NDManager manager;
    private ParameterStore ps;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
        ps = new ParameterStore(manager, false);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void kernelDefaultsAreTheOperationsTheyCompose() {
        SsmKernels k = SsmKernels.of(manager.zeros(new Shape(1)));
        assertEquals(ReferenceSsmKernels.INSTANCE, k);
        NDArray x = manager.randomNormal(new Shape(2, 3, 24));
        NDArray g = manager.randomUniform(0.5f, 1.5f, new Shape(24));
        NDArray w = manager.randomNormal(new Shape(10, 24));
        NDArray b = manager.randomNormal(new Shape(10));
        NDArray addend = manager.randomNormal(new Shape(2, 3, 10));
        NDArray normed = k.gatedRmsNorm(x, null, g, 1e-5f, 24, true);
        assertExactly(Linear.linear(normed, w).head(), k.rmsNormLinear(x, g, 1e-5f, w, null));
        assertExactly(Linear.linear(normed, w, b).head(), k.rmsNormLinear(x, g, 1e-5f, w, b));
        assertExactly(addend.add(Linear.linear(x, w).head()), k.linearAdd(x, w, null, addend));
        assertExactly(addend.add(Linear.linear(x, w, b).head()), k.linearAdd(x, w, b, addend));
    }

    @ParameterizedTest(name = "batch {0}, length {1}, mask {2}")
    @CsvSource({"1, 1, false", "2, 1, false", "2, 7, false", "2, 7, true"})
    void mambaIsTheDefault(int batch, int length, boolean masked) {
        Mamba block = Mamba.builder().setHiddenSize(HIDDEN).optStateSize(8).build();
        assertSameAsDefault(block, batch, length, masked);
    }

    @ParameterizedTest(name = "batch {0}, length {1}, mask {2}")
    @CsvSource({"1, 1, false", "2, 1, false", "2, 7, false", "2, 7, true"})
    void mamba2IsTheDefault(int batch, int length, boolean masked) {
        Mamba2 block = mamba2();
        assertSameAsDefault(block, batch, length, masked);
    }

    @ParameterizedTest(name = "batch {0}, length {1}")
    @CsvSource({"1, 1", "2, 1", "2, 7"})
    void swiGluMlpIsTheDefault(int batch, int length) {
        assertSameAsDefault(new SwiGluMlp(HIDDEN, 48, false, 0.1), batch, length, false);
    }

    @Test
    void swiGluMlpWithBiasesIsTheDefault() {
        assertSameAsDefault(new SwiGluMlp(HIDDEN, 48, true, 0.1), 2, 3, false);
    }

    @ParameterizedTest(name = "layer {0}, batch {1}, length {2}")
    @CsvSource({"0, 1, 1", "0, 2, 1", "0, 2, 7", "1, 1, 1", "1, 2, 7"})
    void bambaLayersAreTheDefault(int index, int batch, int length) throws IOException {
        BambaConfig config = (BambaConfig) ModelConfigs.read(Fixtures.dir("bamba-tiny"));
        BambaDecoderLayer layer = new BambaDecoderLayer(config, index);
        int hidden = config.hiddenSize();
        Shape shape = new Shape(batch, length, hidden);
        layer.initialize(manager, DataType.FLOAT32, shape);
        RmsNorm inputNorm = child(layer, "input_layernorm", RmsNorm.class);
        SequenceBlock mixer = child(layer, index == 1 ? "self_attn" : "mamba", SequenceBlock.class);
        RmsNorm preFfNorm = child(layer, "pre_ff_layernorm", RmsNorm.class);
        SwiGluMlp feedForward = child(layer, "feed_forward", SwiGluMlp.class);
        scramble(inputNorm);
        scramble(preFfNorm);
        NDArray x = manager.randomNormal(shape);
        SequenceContext context = SequenceContext.of(null);
        NDArray h = x.add(mixer.forward(ps, inputNorm.forward(ps, x, false), context, null, false));
        NDArray expected =
                h.add(
                        feedForward.forward(
                                ps, preFfNorm.forward(ps, h, false), context, null, false));
        assertExactly(expected, layer.forward(ps, x, context, null, false));
    }

    @Test
    void gradientsFlowThroughTheFusedForm() {
        Mamba2 block = mamba2();
        RmsNorm norm = RmsNorm.builder().setSize(HIDDEN).build();
        Shape shape = new Shape(2, 5, HIDDEN);
        block.initialize(manager, DataType.FLOAT32, shape);
        norm.initialize(manager, DataType.FLOAT32, shape);
        scramble(norm);
        NDArray x = manager.randomNormal(shape);
        SequenceContext context = SequenceContext.of(null);
        float[] expected;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray in = x.duplicate();
            in.setRequiresGradient(true);
            NDArray y = in.add(block.forward(ps, norm.forward(ps, in, true), context, null, true));
            gc.backward(y.square().sum());
            expected = in.getGradient().toFloatArray();
        }
        float[] actual;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray in = x.duplicate();
            in.setRequiresGradient(true);
            NDArray y = block.forwardResidual(ps, in, norm, context, null, true);
            gc.backward(y.square().sum());
            actual = in.getGradient().toFloatArray();
        }
        assertTrue(maxAbs(expected) > 0, "the gradient must not vanish");
        assertArrayEquals(expected, actual, 1e-5f * maxAbs(expected));
    }

    private void assertSameAsDefault(SequenceBlock block, int batch, int length, boolean masked) {
        Shape shape = new Shape(batch, length, HIDDEN);
        RmsNorm norm = RmsNorm.builder().setSize(HIDDEN).optEps(1e-5).build();
        block.initialize(manager, DataType.FLOAT32, shape);
        norm.initialize(manager, DataType.FLOAT32, shape);
        scramble(norm);
        NDArray x = manager.randomNormal(shape);
        NDArray mask = null;
        if (masked) {
            // left padding: the first two positions of the first sequence
            float[] m = new float[batch * length];
            java.util.Arrays.fill(m, 1f);
            m[0] = 0f;
            m[1] = 0f;
            mask = manager.create(m, new Shape(batch, length)).toType(DataType.INT64, false);
        }
        SequenceContext context = SequenceContext.of(mask);
        NDArray expected =
                x.add(block.forward(ps, norm.forward(ps, x, false), context, null, false));
        NDArray actual = block.forwardResidual(ps, x, norm, context, null, false);
        assertExactly(expected, actual);
    }

    /** Gives the norm's scale values other than its initial ones. */
    private void scramble(RmsNorm norm) {
        Parameter weight = norm.getParameters().get("weight");
        assertNotNull(weight);
        NDArray w = weight.getArray();
        w.set(manager.randomUniform(0.5f, 1.5f, w.getShape()).toFloatArray());
    }

    private static <T> T child(Block layer, String name, Class<T> type) {
        for (Pair<String, Block> c : layer.getChildren()) {
            if (c.getKey().endsWith(name)) {
                return type.cast(c.getValue());
            }
        }
        throw new AssertionError("no child " + name + " in " + layer.getChildren().keys());
    }

    private static void assertExactly(NDArray expected, NDArray actual) {
        assertEquals(expected.getShape(), actual.getShape());
        float[] e = expected.toFloatArray();
        assertTrue(maxAbs(e) > 0, "the output must not be zeros");
        assertArrayEquals(e, actual.toFloatArray());
    }

    private static float maxAbs(float[] values) {
        float m = 0;
        for (float v : values) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** A small Mamba2 mixer of {@link #HIDDEN} channels: 4 heads of 16, state 8, chunks of 4. */
    private static Mamba2 mamba2() {
        return Mamba2.builder()
                .setHiddenSize(HIDDEN)
                .setHeads(4, 16)
                .optStateSize(8)
                .optChunkSize(4)
                .build();
    }
}
