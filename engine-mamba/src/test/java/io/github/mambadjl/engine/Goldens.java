package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.repository.zoo.Criteria;
import ai.djl.translate.NoopTranslator;
import io.github.mambadjl.checkpoint.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Stream;

/** The golden fixtures (see fixtures/golden/README.md) and the Criteria of the Mamba engine. */
final class Goldens {

    /**
     * Every golden model folder: the argument source of the tests that run them all ({@code
     * MethodSource("io.github.mambadjl.engine.Goldens#models")}).
     */
    static Stream<String> models() {
        return Stream.of(
                "mamba-tiny", "mamba-tiny-ssm", "mamba2-tiny", "mamba2-mistral-tiny", "bamba-tiny");
    }

    private Goldens() {}

    static Path root() {
        String dir = System.getProperty("mambadjl.fixtures");
        if (dir == null) {
            throw new IllegalStateException(
                    "System property mambadjl.fixtures is not set; run the tests through Maven");
        }
        Path root = Paths.get(dir);
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("mambadjl.fixtures " + root + " is not a directory");
        }
        return root;
    }

    static Path model(String model) {
        return root().resolve(model);
    }

    /** The golden outputs a model folder is checked against. */
    static Path goldens(String model) {
        return root().resolve(model.equals("mamba-tiny-ssm") ? "mamba-tiny" : model)
                .resolve("golden.safetensors");
    }

    /** The Criteria of the contract, on the Mamba engine and the CPU. */
    static Criteria.Builder<NDList, NDList> criteria(Path dir) {
        return Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(dir)
                .optEngine("Mamba")
                .optDevice(Device.cpu())
                .optTranslator(new NoopTranslator());
    }

    /** Returns max |expected - actual| after checking the shape. */
    static double maxDiff(String what, TensorData expected, NDArray actual) {
        assertEquals(
                new ai.djl.ndarray.types.Shape(expected.shape()),
                actual.getShape(),
                what + " shape");
        float[] e = expected.toFloatArray();
        float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray();
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, d);
        }
        return worst;
    }

    static long[] longs(TensorData t) {
        long[] out = new long[(int) t.numel()];
        t.data().asLongBuffer().get(out);
        return out;
    }
}
