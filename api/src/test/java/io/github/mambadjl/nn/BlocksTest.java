package io.github.mambadjl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The blocks as ordinary DJL blocks: composition, shapes, parameter names, initialisation. */
class BlocksTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static List<String> names(Block block) {
        List<String> names = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            names.add(p.getKey());
        }
        return names;
    }

    private NDArray forward(Block block, NDList input) {
        return block.forward(new ParameterStore(manager, false), input, false).head();
    }

    @Test
    void mixersComposeWithDjlBlocksInsideSequentialBlock() {
        SequentialBlock net = new SequentialBlock();
        net.add(Linear.builder().setUnits(16).build());
        net.add(Mamba.builder().setHiddenSize(16).optStateSize(4).build());
        net.add(
                Mamba2.builder()
                        .setHiddenSize(16)
                        .setHeads(4, 8)
                        .optStateSize(4)
                        .optChunkSize(3)
                        .build());
        net.add(
                GroupedQueryAttention.builder()
                        .setHeads(16, 4, 2)
                        .optPartialRotaryFactor(0.5)
                        .build());
        net.add(new SwiGluMlp(16, 24, false, 0.02));
        net.add(RmsNorm.builder().setSize(16).build());
        net.add(Linear.builder().setUnits(5).build());
        Shape input = new Shape(2, 7, 8);
        net.initialize(manager, DataType.FLOAT32, input);
        assertArrayEquals(
                new Shape[] {new Shape(2, 7, 5)}, net.getOutputShapes(new Shape[] {input}));
        NDArray out = forward(net, new NDList(manager.randomNormal(input)));
        assertEquals(new Shape(2, 7, 5), out.getShape());
        assertTrue(Float.isFinite(out.abs().sum().getFloat()));
    }

    @Test
    void parametersCarryCheckpointNames() {
        assertEquals(
                List.of(
                        "in_proj.weight",
                        "conv1d.weight",
                        "conv1d.bias",
                        "x_proj.weight",
                        "dt_proj.weight",
                        "dt_proj.bias",
                        "A_log",
                        "D",
                        "out_proj.weight"),
                names(Mamba.builder().setHiddenSize(8).build()));
        assertEquals(
                List.of(
                        "in_proj.weight",
                        "conv1d.weight",
                        "conv1d.bias",
                        "dt_bias",
                        "A_log",
                        "D",
                        "norm.weight",
                        "out_proj.weight"),
                names(Mamba2.builder().setHiddenSize(8).setHeads(2, 8).build()));
        assertEquals(
                List.of("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"),
                names(GroupedQueryAttention.builder().setHeads(8, 2, 1).build()));
    }

    @Test
    void initialisationFollowsTheReferenceSchemes() {
        Mamba mamba =
                Mamba.builder()
                        .setHiddenSize(16)
                        .optStateSize(6)
                        .optTimeStepRank(4)
                        .optTimeStepRange(0.001, 0.1, 1e-4)
                        .build();
        mamba.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 16));
        NDArray aLog = mamba.getParameters().get("A_log").getArray();
        assertEquals(new Shape(32, 6), aLog.getShape());
        float[] row = aLog.get(5).toFloatArray();
        for (int n = 0; n < 6; n++) {
            assertEquals(Math.log(n + 1), row[n], 1e-6);
        }
        assertEquals(32f, mamba.getParameters().get("D").getArray().sum().getFloat());
        assertTimeSteps(mamba.getParameters().get("dt_proj.bias").getArray(), 0.001, 0.1);
        float dtStd = (float) Math.pow(4, -0.5);
        assertTrue(
                mamba.getParameters().get("dt_proj.weight").getArray().abs().max().getFloat()
                        <= dtStd);

        Mamba2 mamba2 = Mamba2.builder().setHiddenSize(16).setHeads(4, 8).optStateSize(4).build();
        mamba2.initialize(manager, DataType.FLOAT32, new Shape(1, 3, 16));
        assertArrayEquals(
                new float[] {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)},
                mamba2.getParameters().get("A_log").getArray().toFloatArray(),
                1e-6f);
        assertTimeSteps(mamba2.getParameters().get("dt_bias").getArray(), 0.001, 0.1);
        assertEquals(32f, mamba2.getParameters().get("norm.weight").getArray().sum().getFloat());
    }

    private static void assertTimeSteps(NDArray bias, double min, double max) {
        // softplus(bias) is the initial time step, drawn in [min, max]
        float[] dt = bias.exp().add(1).log().toFloatArray();
        for (float v : dt) {
            assertTrue(v >= min * 0.999 && v <= max * 1.001, "initial time step " + v);
        }
    }

    @Test
    void blocksAreCausalAndHonourTheMask() {
        for (SequenceBlock block :
                List.of(
                        Mamba.builder().setHiddenSize(8).optStateSize(4).build(),
                        Mamba2.builder()
                                .setHiddenSize(8)
                                .setHeads(2, 8)
                                .optStateSize(4)
                                .optChunkSize(2)
                                .build(),
                        GroupedQueryAttention.builder()
                                .setHeads(8, 2, 1)
                                .optPartialRotaryFactor(0.5)
                                .build())) {
            block.initialize(manager, DataType.FLOAT32, new Shape(1, 6, 8));
            NDArray x = manager.randomNormal(new Shape(1, 6, 8));
            NDArray changed = x.duplicate();
            changed.set(new ai.djl.ndarray.index.NDIndex(":, 4:"), 3f);
            NDArray a = forward(block, new NDList(x));
            NDArray b = forward(block, new NDList(changed));
            assertEquals(0f, a.get(":, 0:4").sub(b.get(":, 0:4")).abs().max().getFloat(), 1e-6f);
            assertTrue(a.get(":, 4:").sub(b.get(":, 4:")).abs().max().getFloat() > 1e-3f);
            // left padding: the padded positions do not influence the tokens after them
            NDArray mask = manager.create(new long[] {0, 0, 1, 1, 1, 1}, new Shape(1, 6));
            NDArray padded = forward(block, new NDList(x, mask));
            NDArray alone = forward(block, new NDList(x.get(":, 2:")));
            assertEquals(0f, padded.get(":, 2:").sub(alone).abs().max().getFloat(), 1e-5f);
        }
    }

    @Test
    void buildersRejectInconsistentSettings() {
        assertThrows(IllegalArgumentException.class, () -> Mamba.builder().build());
        assertThrows(
                IllegalArgumentException.class,
                () -> Mamba.builder().setHiddenSize(8).optConvKernel(5).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> Mamba2.builder().setHiddenSize(8).setHeads(3, 8).optGroups(2).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> GroupedQueryAttention.builder().setHeads(8, 3, 1).build());
        assertThrows(IllegalArgumentException.class, () -> RmsNorm.builder().build());
    }
}
