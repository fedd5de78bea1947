package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link FusedAttention} on the CPU against a float64 oracle, and its argument checks. */
class FusedAttentionTest {

    /** Causal GQA attention in float64: q [b,hq,lq,d], k/v [b,hkv,lk,d], row-major. */
    static double[] oracle(float[] q, float[] k, float[] v, int[] dims, long offset, double scale) {
        int b = dims[0];
        int hq = dims[1];
        int hkv = dims[2];
        int lq = dims[3];
        int lk = dims[4];
        int d = dims[5];
        int group = hq / hkv;
        double[] out = new double[b * hq * lq * d];
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < hq; h++) {
                int g = h / group;
                for (int i = 0; i < lq; i++) {
                    int qBase = ((bi * hq + h) * lq + i) * d;
                    int visible = (int) Math.min(lk, offset + i + 1);
                    double[] s = new double[visible];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        int kBase = ((bi * hkv + g) * lk + j) * d;
                        double dot = 0;
                        for (int c = 0; c < d; c++) {
                            dot += (double) q[qBase + c] * k[kBase + c];
                        }
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < visible; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < visible; j++) {
                        int vBase = ((bi * hkv + g) * lk + j) * d;
                        for (int c = 0; c < d; c++) {
                            out[qBase + c] += s[j] / sum * v[vBase + c];
                        }
                    }
                }
            }
        }
        return out;
    }

    static float[] random(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }

    /** Runs one case on a manager's device and checks it against the oracle. */
    static void check(NDManager manager, DataType type, int[] dims, long offset, double tol) {
        Random rng = new Random(dims[3] * 31L + dims[4]);
        int b = dims[0];
        int d = dims[5];
        Shape qShape = new Shape(b, dims[1], dims[3], d);
        Shape kShape = new Shape(b, dims[2], dims[4], d);
        float[] q = random(rng, (int) qShape.size());
        float[] k = random(rng, (int) kShape.size());
        float[] v = random(rng, (int) kShape.size());
        double scale = 1 / Math.sqrt(d);
        try (NDManager m = manager.newSubManager()) {
            NDArray qa = m.create(q, qShape).toType(type, false);
            NDArray ka = m.create(k, kShape).toType(type, false);
            NDArray va = m.create(v, kShape).toType(type, false);
            // the oracle reads the values as stored in the type
            float[] qs = qa.toType(DataType.FLOAT32, false).toFloatArray();
            float[] ks = ka.toType(DataType.FLOAT32, false).toFloatArray();
            float[] vs = va.toType(DataType.FLOAT32, false).toFloatArray();
            double[] expected = oracle(qs, ks, vs, dims, offset, scale);
            NDArray out = FusedAttention.causal(qa, ka, va, offset, (float) scale);
            assertEquals(qShape, out.getShape());
            assertEquals(type, out.getDataType());
            assertEquals(manager.getDevice(), out.getDevice());
            float[] actual = out.toType(DataType.FLOAT32, false).toFloatArray();
            for (int i = 0; i < actual.length; i++) {
                if (Math.abs(actual[i] - expected[i]) > tol * Math.max(1, Math.abs(expected[i]))) {
                    throw new AssertionError(
                            "element " + i + ": expected " + expected[i] + " got " + actual[i]);
                }
            }
        }
    }

    @Test
    void cpuMatchesTheOracle() {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager()) {
            check(manager, DataType.FLOAT32, new int[] {2, 4, 2, 5, 12, 16}, 7, 1e-5);
            check(manager, DataType.FLOAT32, new int[] {1, 3, 1, 9, 9, 8}, 0, 1e-5);
            check(manager, DataType.FLOAT32, new int[] {1, 2, 2, 1, 40, 32}, 39, 1e-5);
            check(manager, DataType.BFLOAT16, new int[] {1, 4, 2, 6, 6, 16}, 0, 3e-2);
        }
    }

    @Test
    void badArgumentsAreRefused() {
        try (NDManager m = Engine.getEngine("Mamba").newBaseManager()) {
            NDArray q = m.zeros(new Shape(1, 4, 3, 8));
            NDArray k = m.zeros(new Shape(1, 3, 5, 8));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> FusedAttention.causal(q, k, k, 2, 1f));
            assertTrue(e.getMessage().contains("multiple of kvHeads"), e.getMessage());
            NDArray k2 = m.zeros(new Shape(1, 2, 5, 8));
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> FusedAttention.causal(q, k2, k2, 3, 1f));
            assertTrue(e.getMessage().contains("must not exceed kvLen 5"), e.getMessage());
            NDArray ints = m.zeros(new Shape(1, 4, 3, 8), DataType.INT32);
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> FusedAttention.causal(ints, k2, k2, 2, 1f));
            assertTrue(e.getMessage().contains("floating-point"), e.getMessage());
        }
    }
}
