package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decoding shapes of {@code matMul} (one to four rows against a weight read through a
 * transpose, or against a row-major matrix), which take the unpacked GEMV path of the native
 * library, in the three floating-point dtypes, against PyTorch in float32 on the same values.
 */
class MambaDecodeMatMulTest {

    private TwoEngines e;

    @BeforeEach
    void open() {
        e = new TwoEngines();
    }

    @AfterEach
    void close() {
        e.close();
    }

    @ParameterizedTest(name = "{0}: {1} rows, n {2}, k {3}, weight transposed {4}")
    @CsvSource({
        "FLOAT32, 1, 1031, 771, true",
        "FLOAT32, 4, 300, 96, false",
        "FLOAT16, 1, 515, 64, true",
        "FLOAT16, 3, 260, 33, false",
        "BFLOAT16, 1, 1031, 130, true",
        "BFLOAT16, 2, 513, 48, false"
    })
    void fewRowsTimesAWeight(DataType type, int rows, int n, int k, boolean transposed) {
        NDArray[] x = rounded(type, e.uniform(-1, 1, 1, rows, k));
        NDArray[] w = rounded(type, transposed ? e.uniform(-1, 1, n, k) : e.uniform(-1, 1, k, n));
        NDArray expected = x[1].matMul(transposed ? w[1].transpose() : w[1]);
        NDArray actual = x[0].matMul(transposed ? w[0].transpose() : w[0]);
        double tol = type == DataType.FLOAT32 ? 1e-5 : type == DataType.FLOAT16 ? 2e-3 : 1.6e-2;
        TwoEngines.assertClose(
                expected, actual.toType(DataType.FLOAT32, false), tol * Math.sqrt(k));
    }

    /** {mamba array in the dtype, torch float32 array of the same rounded values}. */
    private NDArray[] rounded(DataType type, NDArray[] both) {
        if (type == DataType.FLOAT32) {
            return both;
        }
        NDArray m = both[0].toType(type, false);
        NDArray t =
                e.torch.create(
                        m.toType(DataType.FLOAT32, false).toFloatArray(),
                        new Shape(both[0].getShape().getShape()));
        return new NDArray[] {m, t};
    }
}
