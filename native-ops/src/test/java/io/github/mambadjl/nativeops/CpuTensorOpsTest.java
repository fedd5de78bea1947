package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The engine ops of the CPU library against float64 oracles, with poisoned outputs. */
class CpuTensorOpsTest {

    private final Random random = new Random();

    private static long floats(float[] values) {
        long address = CpuTensorOps.allocate(values.length * 4L, false);
        new Pointer(address).write(0, values, 0, values.length);
        return address;
    }

    private static float[] read(long address, int count) {
        return new Pointer(address).getFloatArray(0, count);
    }

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextFloat() * 2 - 1;
        }
        return v;
    }

    private static float[] poison(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, Float.NaN);
        return v;
    }

    @ParameterizedTest(name = "batch {0}, m {1}, n {2}, k {3}, b transposed {4}, shared b {5}")
    @CsvSource({
        "1, 1, 1, 1, false, false",
        "1, 7, 19, 5, false, false",
        "3, 13, 33, 300, true, false",
        "2, 100, 17, 513, false, true",
        "1, 1, 2100, 64, true, false",
        "2, 97, 40, 260, true, true",
        "1, 3, 1030, 77, true, false",
        "2, 4, 515, 37, false, true",
        "1, 2, 3, 9, false, false",
        "3, 1, 9, 300, true, true",
        // packed: more columns than one packed block of B (2048), a partial panel
        "1, 7, 2100, 40, true, false"
    })
    void matmulMatchesFloat64Oracle(
            int batch, int m, int n, int k, boolean transposedB, boolean sharedB) {
        float[] a = random(batch * m * k);
        int bCount = (sharedB ? 1 : batch) * k * n;
        float[] b = random(bCount);
        long pa = floats(a);
        long pb = floats(b);
        long pc = floats(poison(batch * m * n));
        long bBatch = sharedB ? 0 : (long) k * n;
        // transposed: b is stored [n, k] per batch and read as [k, n] through its strides
        long[] bStrides = transposedB ? new long[] {bBatch, 1, k} : new long[] {bBatch, n, 1};
        try {
            CpuTensorOps.matmul(
                    TensorDType.FLOAT32,
                    batch,
                    m,
                    n,
                    k,
                    pa,
                    new long[] {(long) m * k, k, 1},
                    pb,
                    bStrides,
                    pc);
            float[] c = read(pc, batch * m * n);
            for (int s = 0; s < batch; s++) {
                int bBase = sharedB ? 0 : s * k * n;
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double ref = 0;
                        for (int p = 0; p < k; p++) {
                            float bv = transposedB ? b[bBase + j * k + p] : b[bBase + p * n + j];
                            ref += (double) a[s * m * k + i * k + p] * bv;
                        }
                        float got = c[s * m * n + i * n + j];
                        assertEquals(
                                ref,
                                got,
                                1e-5 * Math.max(1, Math.sqrt(k)),
                                "c[" + s + "," + i + "," + j + "]");
                    }
                }
            }
        } finally {
            CpuTensorOps.free(pa);
            CpuTensorOps.free(pb);
            CpuTensorOps.free(pc);
        }
    }

    /** Copies n floats into new memory of a half-precision type. */
    private static long toHalf(TensorDType type, float[] values) {
        long src = floats(values);
        long dst = CpuTensorOps.allocate(values.length * 2L, false);
        try {
            long[] shape = {values.length};
            long[] unit = {1};
            CpuTensorOps.copy(shape, TensorDType.FLOAT32, src, unit, type, dst, unit);
        } finally {
            CpuTensorOps.free(src);
        }
        return dst;
    }

    /** Reads n values of a half-precision type as floats. */
    private static float[] readHalf(TensorDType type, long address, int count) {
        long dst = floats(poison(count));
        try {
            long[] shape = {count};
            long[] unit = {1};
            CpuTensorOps.copy(shape, type, address, unit, TensorDType.FLOAT32, dst, unit);
            return read(dst, count);
        } finally {
            CpuTensorOps.free(dst);
        }
    }

    @ParameterizedTest(name = "{0}, m {1}, n {2}, k {3}, b transposed {4}")
    @CsvSource({
        "BFLOAT16, 1, 37, 80, true",
        "FLOAT16, 3, 19, 1030, true",
        "BFLOAT16, 4, 8, 16, true",
        "FLOAT16, 2, 65, 33, true",
        "BFLOAT16, 2, 300, 21, false",
        "FLOAT16, 1, 7, 64, false"
    })
    void fewRowProductsOfHalfPrecisionMatchTheOracle(
            TensorDType type, int m, int n, int k, boolean transposedB) {
        long pa = toHalf(type, random(m * k));
        long pb = toHalf(type, random(k * n));
        long pc = toHalf(type, poison(m * n));
        try {
            float[] a = readHalf(type, pa, m * k);
            float[] b = readHalf(type, pb, k * n);
            long[] bStrides = transposedB ? new long[] {0, 1, k} : new long[] {0, n, 1};
            CpuTensorOps.matmul(type, 1, m, n, k, pa, new long[] {0, k, 1}, pb, bStrides, pc);
            float[] c = readHalf(type, pc, m * n);
            double unit = type == TensorDType.BFLOAT16 ? 0x1p-8 : 0x1p-11;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = 0;
                    for (int p = 0; p < k; p++) {
                        ref += (double) a[i * k + p] * (transposedB ? b[j * k + p] : b[p * n + j]);
                    }
                    // the float32 sum rounded once to the storage type
                    assertEquals(
                            ref,
                            c[i * n + j],
                            unit * Math.abs(ref) + 1e-5 * Math.sqrt(k),
                            "c[" + i + "," + j + "]");
                }
            }
        } finally {
            CpuTensorOps.free(pa);
            CpuTensorOps.free(pb);
            CpuTensorOps.free(pc);
        }
    }

    @Test
    void copyConvertsThroughBfloat16AndTransposes() {
        float[] x = random(6);
        long src = floats(x);
        long half = CpuTensorOps.allocate(12, false);
        long back = floats(poison(6));
        try {
            CpuTensorOps.copy(
                    new long[] {2, 3},
                    TensorDType.FLOAT32,
                    src,
                    new long[] {3, 1},
                    TensorDType.BFLOAT16,
                    half,
                    new long[] {3, 1});
            // read [2, 3] bf16 transposed into a [3, 2] float32
            CpuTensorOps.copy(
                    new long[] {3, 2},
                    TensorDType.BFLOAT16,
                    half,
                    new long[] {1, 3},
                    TensorDType.FLOAT32,
                    back,
                    new long[] {2, 1});
            float[] out = read(back, 6);
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 3; j++) {
                    float v = x[i * 3 + j];
                    assertEquals(v, out[j * 2 + i], Math.abs(v) / 128, "element " + i + "," + j);
                }
            }
        } finally {
            CpuTensorOps.free(src);
            CpuTensorOps.free(half);
            CpuTensorOps.free(back);
        }
    }

    @Test
    void allocationIsCountedAndFreed() {
        long[] before = CpuTensorOps.inUse();
        long p = CpuTensorOps.allocate(1000, true);
        assertEquals(0, p % 64, "64-byte alignment");
        assertEquals(before[0] + 1000, CpuTensorOps.inUse()[0]);
        assertEquals(before[1] + 1, CpuTensorOps.inUse()[1]);
        assertEquals(0f, new Pointer(p).getFloat(996));
        CpuTensorOps.free(p);
        assertEquals(before[0], CpuTensorOps.inUse()[0]);
        NativeOpException e =
                assertThrows(NativeOpException.class, () -> CpuTensorOps.allocate(-1, false));
        assertEquals(Status.INVALID_ARGUMENT, e.getStatus());
        e = assertThrows(NativeOpException.class, () -> CpuTensorOps.allocate(1L << 60, false));
        assertEquals(Status.OUT_OF_MEMORY, e.getStatus());
    }

    @Test
    void badArgumentsBecomeExceptions() {
        long x = floats(random(4));
        long out = floats(poison(4));
        try {
            NativeOpException e =
                    assertThrows(
                            NativeOpException.class,
                            () -> CpuTensorOps.softmax(TensorDType.INT64, x, 1, 4, 1, false, out));
            assertTrue(e.getMessage().contains("softmax"), e.getMessage());
            e =
                    assertThrows(
                            NativeOpException.class,
                            () ->
                                    CpuTensorOps.topK(
                                            TensorDType.FLOAT32, x, 1, 4, 1, 5, true, out, out));
            assertTrue(e.getMessage().contains("k = 5"), e.getMessage());
            e =
                    assertThrows(
                            NativeOpException.class,
                            () ->
                                    CpuTensorOps.unary(
                                            CpuTensorOps.Unary.EXP,
                                            TensorDType.INT32,
                                            new long[] {4},
                                            x,
                                            new long[] {1},
                                            0,
                                            out));
            assertTrue(e.getMessage().contains("floating-point"), e.getMessage());
        } finally {
            CpuTensorOps.free(x);
            CpuTensorOps.free(out);
        }
    }
}
