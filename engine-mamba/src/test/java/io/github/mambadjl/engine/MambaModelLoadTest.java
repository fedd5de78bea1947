package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import io.github.mambadjl.checkpoint.CheckpointException;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationResult;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link MambaModel#load}: checkpoint directories in the three dtypes, the weights in native memory
 * exactly once, DJL {@code .params} into a block set, and loads that fail cleanly.
 */
class MambaModelLoadTest {

    /**
     * The half-precision tolerance on logits, relative to the largest golden logit: eight roundings
     * to the dtype (unit roundoff u = 2^-8 for bfloat16, 2^-11 for float16). In these 2 to 4 layer
     * models every layer rounds its mixer output and the residual sum to the dtype (the weights
     * were rounded once at load), and the final norm and the LM head round once more: about eight
     * roundings reach the logits, each a relative error of at most u of the values it touches,
     * which are bounded by the scale of the logits. Accumulation is float32 inside every kernel and
     * GEMM, so sums add no error of the dtype's size. Measured: 0.005 (mamba-tiny) to 0.021
     * (mamba2-tiny) of the largest logit in bfloat16, 0.0007 to 0.0018 in float16.
     */
    static double halfTolerance(DataType type, double maxLogit) {
        double u = type == DataType.BFLOAT16 ? Math.scalb(1.0, -8) : Math.scalb(1.0, -11);
        return 8 * u * maxLogit;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "mamba2-mistral-tiny", "bamba-tiny"})
    void halfPrecisionLoadsStayWithinTheirRounding(String model) throws Exception {
        checkHalfPrecisionLogits(model, Device.cpu());
    }

    /**
     * Loads a golden model in bfloat16 and in float16 on a device and checks its logits against the
     * golden float64 ones within {@link #halfTolerance}.
     */
    static void checkHalfPrecisionLogits(String model, Device device) throws Exception {
        for (DataType type : new DataType[] {DataType.BFLOAT16, DataType.FLOAT16}) {
            String name = type == DataType.BFLOAT16 ? "bfloat16" : "float16";
            try (ZooModel<NDList, NDList> zoo =
                            Goldens.criteria(Goldens.model(model))
                                    .optDevice(device)
                                    .optOption("dtype", name)
                                    .build()
                                    .loadModel();
                    Predictor<NDList, NDList> predictor = zoo.newPredictor();
                    NDManager manager = zoo.getNDManager().newSubManager();
                    SafetensorsFile golden = SafetensorsFile.open(Goldens.goldens(model))) {
                assertEquals(type, zoo.getDataType());
                CausalLM lm = (CausalLM) zoo.getBlock();
                for (Map.Entry<String, Parameter> e : lm.namedParameters().entrySet()) {
                    DataType expected =
                            NativeWeightReader.keptInFloat32(e.getKey()) ? DataType.FLOAT32 : type;
                    assertEquals(expected, e.getValue().getArray().getDataType(), e.getKey());
                }
                NDArray ids = golden.tensor("input_ids").toNDArray(manager);
                NDList out = predictor.predict(new NDList(ids));
                out.attach(manager);
                assertEquals(DataType.FLOAT32, out.get(0).getDataType(), "logits are float32");
                TensorData logits = golden.tensor("logits");
                double maxLogit = 0;
                for (float v : logits.toFloatArray()) {
                    maxLogit = Math.max(maxLogit, Math.abs(v));
                }
                double tol = halfTolerance(type, maxLogit);
                double diff = Goldens.maxDiff(model, logits, out.get(0));
                assertTrue(diff <= tol, model + " " + name + " logits differ by " + diff);
                assertTrue(diff > 1e-4, "the weights really are " + name + " (diff " + diff + ")");
            }
        }
    }

    /**
     * Greedy decoding with bfloat16 weights follows transformers' float64 tokens at every step
     * whose top-2 margin exceeds twice the bfloat16 tolerance (either logit may move by the
     * tolerance); after the first step that is closer, the sequences may part. Over the four models
     * at least a few steps must be clear enough to compare (mamba2-tiny's first step is not).
     */
    @Test
    void bfloat16GreedyTokensMatchWhereTheMarginAllows() throws Exception {
        checkGreedyBf16(Device.cpu());
    }

    /**
     * {@link #compareGreedyBf16} for the four golden models on a device; at least three steps in
     * all must have a margin clear enough to compare.
     */
    static void checkGreedyBf16(Device device) throws Exception {
        int compared = 0;
        for (String model :
                new String[] {"mamba-tiny", "mamba2-tiny", "mamba2-mistral-tiny", "bamba-tiny"}) {
            compared += compareGreedyBf16(model, device);
        }
        assertTrue(compared >= 3, "only " + compared + " steps had a clear margin");
    }

    /**
     * Generates greedily with a golden model loaded in bfloat16 on a device and compares the tokens
     * with the golden ones up to the first step whose float64 top-2 margin is within twice {@link
     * #halfTolerance}; returns the number of steps compared.
     */
    private static int compareGreedyBf16(String model, Device device) throws Exception {
        try (ZooModel<NDList, NDList> zoo =
                        Goldens.criteria(Goldens.model(model))
                                .optDevice(device)
                                .optOption("dtype", "bfloat16")
                                .build()
                                .loadModel();
                SafetensorsFile golden = SafetensorsFile.open(Goldens.goldens(model))) {
            CausalLM lm = (CausalLM) zoo.getBlock();
            TensorData input = golden.tensor("input_ids");
            int promptLength = (int) input.shape()[1];
            long[] prompt = Arrays.copyOf(Goldens.longs(input), promptLength);
            long[] expected = Goldens.longs(golden.tensor("generated_ids"));
            TensorData scores = golden.tensor("generated_scores");
            int steps = (int) scores.shape()[1];
            int vocab = (int) scores.shape()[2];
            float[] s = scores.toFloatArray();
            double maxLogit = 0;
            for (float v : golden.tensor("logits").toFloatArray()) {
                maxLogit = Math.max(maxLogit, Math.abs(v));
            }
            double tol = halfTolerance(DataType.BFLOAT16, maxLogit);
            GenerationResult result =
                    new Generator(lm, zoo.getNDManager())
                            .generate(
                                    new long[][] {prompt},
                                    GenerationConfig.builder().optMaxNewTokens(steps).build());
            long[] got = result.sequences()[0];
            int compared = 0;
            for (int step = 0; step < steps; step++) {
                float[] row = Arrays.copyOfRange(s, step * vocab, (step + 1) * vocab);
                float[] sorted = row.clone();
                Arrays.sort(sorted);
                double margin = sorted[vocab - 1] - sorted[vocab - 2];
                if (margin <= 2 * tol) {
                    break;
                }
                assertEquals(
                        expected[promptLength + step],
                        got[promptLength + step],
                        model + " step " + step + " (margin " + margin + ")");
                compared++;
            }
            return compared;
        }
    }

    @Test
    void nativeMemoryHoldsEachWeightOnce() throws Exception {
        long before = MambaNDManager.hostBytesInUse();
        try (Model model = Model.newInstance("m", Device.cpu(), "Mamba")) {
            model.load(Goldens.model("mamba2-mistral-tiny"), null, Map.of("dtype", "float32"));
            CausalLM lm = (CausalLM) model.getBlock();
            long weights = 0;
            for (Parameter p : lm.namedParameters().values()) {
                NDArray a = p.getArray();
                weights += a.getShape().size() * a.getDataType().getNumOfBytes();
                assertInstanceOf(MambaNDArray.class, a);
            }
            assertEquals(weights, MambaNDManager.hostBytesInUse() - before);
            // the checkpoint stores bfloat16: float32 weights hold exactly those values
            try (SafetensorsFile file =
                    SafetensorsFile.open(
                            Goldens.model("mamba2-mistral-tiny")
                                    .resolve("consolidated.safetensors"))) {
                String name = "backbone.layers.1.mixer.in_proj.weight";
                float[] stored = file.tensor("model." + name).toFloatArray();
                assertArrayEquals(stored, lm.namedParameters().get(name).getArray().toFloatArray());
            }
        }
        assertEquals(before, MambaNDManager.hostBytesInUse(), "closing the model frees them");
    }

    @Test
    void outputHiddenStatesAsALoadOption() throws Exception {
        try (Model model = Model.newInstance("m", Device.cpu(), "Mamba")) {
            model.load(Goldens.model("mamba-tiny"), null, Map.of("outputHiddenStates", "true"));
            try (NDManager manager = model.getNDManager().newSubManager()) {
                NDArray ids = manager.create(new long[] {1, 2, 3}, new Shape(1, 3));
                NDList out =
                        model.getBlock()
                                .forward(
                                        new ParameterStore(manager, false), new NDList(ids), false);
                assertEquals(1 + 3, out.size(), "logits, 2 layer inputs and the final norm");
            }
        }
    }

    @Test
    void aDirectoryWithoutACheckpointIsRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "no model here");
        try (Model model = Model.newInstance("m", Device.cpu(), "Mamba")) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> model.load(dir));
            assertTrue(e.getMessage().contains("found no model to load"), e.getMessage());
            assertTrue(e.getMessage().contains("setBlock"), e.getMessage());
            assertThrows(
                    FileNotFoundException.class, () -> model.load(dir.resolve("does-not-exist")));
        }
    }

    @Test
    void badOptionsAreRefusedBeforeAnythingIsRead() throws Exception {
        try (Model model = Model.newInstance("m", Device.cpu(), "Mamba")) {
            IllegalArgumentException dtype =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    model.load(
                                            Goldens.model("mamba-tiny"),
                                            null,
                                            Map.of("dtype", "int8")));
            assertTrue(dtype.getMessage().contains("'int8'"), dtype.getMessage());
            assertTrue(dtype.getMessage().contains("bfloat16"), dtype.getMessage());
            IllegalArgumentException hidden =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    model.load(
                                            Goldens.model("mamba-tiny"),
                                            null,
                                            Map.of("outputHiddenStates", "yes")));
            assertTrue(hidden.getMessage().contains("outputHiddenStates"), hidden.getMessage());
            assertNull(model.getBlock());
        }
    }

    @Test
    void aFailedLoadLeavesNothingAndTheModelUsable(@TempDir Path dir) throws Exception {
        // mamba2-tiny's config with mamba-tiny's weights: the shapes disagree
        Files.copy(Goldens.model("mamba2-tiny").resolve("config.json"), dir.resolve("config.json"));
        Files.copy(
                Goldens.model("mamba-tiny").resolve("model.safetensors"),
                dir.resolve("model.safetensors"));
        long before = MambaNDManager.hostBytesInUse();
        try (Model model = Model.newInstance("m", Device.cpu(), "Mamba")) {
            Exception e = assertThrows(Exception.class, () -> model.load(dir));
            assertTrue(
                    e instanceof CheckpointException || e instanceof IllegalArgumentException,
                    e.toString());
            assertTrue(e.getMessage().contains("weight"), e.getMessage());
            assertNull(model.getBlock(), "no half-loaded model");
            assertEquals(before, MambaNDManager.hostBytesInUse(), "no weights left behind");
            model.load(Goldens.model("mamba-tiny"));
            assertInstanceOf(CausalLM.class, model.getBlock());
        }
        assertEquals(before, MambaNDManager.hostBytesInUse());
    }

    @Test
    void djlParamsStillLoadIntoABlockSetFirst(@TempDir Path dir) throws Exception {
        float[] saved;
        // DJL's parameter format is engine-neutral: written here by PyTorch
        try (Model model = Model.newInstance("linear", Device.cpu(), "PyTorch")) {
            Linear block = Linear.builder().setUnits(3).build();
            block.setInitializer(Initializer.ONES, Parameter.Type.WEIGHT);
            block.initialize(model.getNDManager(), DataType.FLOAT32, new Shape(1, 4));
            block.getParameters().get("weight").getArray().muli(2.5f);
            model.setBlock(block);
            saved = block.getParameters().get("weight").getArray().toFloatArray();
            model.save(dir, "linear");
        }
        try (Model model = Model.newInstance("linear", Device.cpu(), "Mamba")) {
            Linear block = Linear.builder().setUnits(3).build();
            model.setBlock(block);
            model.load(dir, "linear");
            NDArray w = block.getParameters().get("weight").getArray();
            assertInstanceOf(MambaNDArray.class, w);
            assertArrayEquals(saved, w.toFloatArray());
        }
    }
}
