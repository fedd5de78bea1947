package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Criteria on the GPU: {@code optEngine("Mamba")}, {@code optDevice(Device.gpu())}, weights
 * uploaded from the mapped checkpoint, the native SSM kernels on the CUDA stream; float32 logits
 * within 1e-4 of transformers.
 */
@Tag("gpu")
class MambaGpuCriteriaTest {

    @ParameterizedTest
    @MethodSource("io.github.mambadjl.engine.Goldens#models")
    void float32LogitsMatchTransformersOnTheGpu(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo =
                        Goldens.criteria(Goldens.model(model))
                                .optDevice(Device.gpu())
                                .optOption("dtype", "float32")
                                .build()
                                .loadModel();
                Predictor<NDList, NDList> predictor = zoo.newPredictor();
                NDManager manager = zoo.getNDManager().newSubManager();
                SafetensorsFile golden = SafetensorsFile.open(Goldens.goldens(model))) {
            assertEquals(Device.gpu(), manager.getDevice());
            NDArray ids = golden.tensor("input_ids").toNDArray(manager);
            NDList out = predictor.predict(new NDList(ids));
            out.attach(manager);
            NDArray logits = out.get(0);
            assertEquals(Device.gpu(), logits.getDevice());
            assertEquals(DataType.FLOAT32, logits.getDataType());
            double worst = Goldens.maxDiff(model + " logits", golden.tensor("logits"), logits);
            assertTrue(worst <= MambaGoldenTest.TOL, model + " logits differ by " + worst);
        }
    }

    /**
     * The golden models in bfloat16 and float16 on the GPU (the fast paths: GEMV or cuBLASLt
     * products, the tensor-core SSD, the one-step kernels): logits within the half-precision
     * tolerance of {@link MambaModelLoadTest#halfTolerance}.
     */
    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "mamba2-mistral-tiny", "bamba-tiny"})
    void halfPrecisionLogitsStayWithinTheirRoundingOnTheGpu(String model) throws Exception {
        MambaModelLoadTest.checkHalfPrecisionLogits(model, Device.gpu());
    }

    /**
     * Greedy generation in bfloat16 on the GPU (recorded decoding steps) gives the golden tokens
     * wherever the float64 margin allows, as on the CPU.
     */
    @Test
    void bfloat16GreedyTokensMatchWhereTheMarginAllowsOnTheGpu() throws Exception {
        MambaModelLoadTest.checkGreedyBf16(Device.gpu());
    }
}
