package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CausalConv1dCpuTest {

    private static final long SEED = System.nanoTime();

    /** Keeps the direct buffers reachable while their tensors are in use, by address. */
    private static final Map<Long, ByteBuffer> BUFFERS = new ConcurrentHashMap<>();

    @ParameterizedTest(name = "batch {0}, dim {1}, seqlen {2}, width {3}, bias {4}, silu {5}")
    @CsvSource({
        "1, 1, 1, 2, false, false",
        "2, 7, 13, 4, true, true",
        "3, 5, 2, 4, true, false",
        "2, 33, 65, 3, false, true",
        "1, 130, 257, 4, true, true"
    })
    void matchesFloat64Oracle(
            int batch, int dim, int seqlen, int width, boolean withBias, boolean silu) {
        Random rnd = new Random(SEED + batch * 31L + dim * 7L + seqlen + width);
        float[] x = random(rnd, batch * dim * seqlen);
        float[] w = random(rnd, dim * width);
        float[] bias = withBias ? random(rnd, dim) : null;
        float[] init = random(rnd, batch * dim * (width - 1));
        // x in [batch, seqlen, dim] memory order, read as [batch, dim, seqlen] through strides
        NativeTensor xt =
                tensor(x, batch, seqlen, dim)
                        .view(
                                0,
                                new long[] {batch, dim, seqlen},
                                new long[] {(long) seqlen * dim, 1, dim});
        NativeTensor outT = tensor(poisoned(batch * dim * seqlen), batch, dim, seqlen);
        NativeTensor finalT = tensor(poisoned(batch * dim * (width - 1)), batch, dim, width - 1);
        CpuKernels.causalConv1d(
                new CausalConv1dArgs(
                        xt,
                        tensor(w, dim, width),
                        bias == null ? null : tensor(bias, dim),
                        tensor(init, batch, dim, width - 1),
                        finalT,
                        outT,
                        silu));
        float[] out = read(outT);
        float[] fin = read(finalT);
        for (int b = 0; b < batch; b++) {
            for (int d = 0; d < dim; d++) {
                double[] padded = new double[width - 1 + seqlen];
                for (int k = 0; k < width - 1; k++) {
                    padded[k] = init[(b * dim + d) * (width - 1) + k];
                }
                for (int t = 0; t < seqlen; t++) {
                    padded[width - 1 + t] = x[(b * seqlen + t) * dim + d];
                }
                for (int t = 0; t < seqlen; t++) {
                    double acc = bias == null ? 0 : bias[d];
                    for (int k = 0; k < width; k++) {
                        acc += (double) w[d * width + k] * padded[t + k];
                    }
                    double expected = silu ? acc / (1 + Math.exp(-acc)) : acc;
                    double got = out[(b * dim + d) * seqlen + t];
                    assertEquals(
                            expected,
                            got,
                            1e-5 * (1 + Math.abs(expected)),
                            "out[" + b + "," + d + "," + t + "] seed " + SEED);
                }
                for (int k = 0; k < width - 1; k++) {
                    assertEquals(
                            padded[seqlen + k],
                            fin[(b * dim + d) * (width - 1) + k],
                            0.0,
                            "final state seed " + SEED);
                }
            }
        }
    }

    @Test
    void splitSequenceEqualsOneCall() {
        int batch = 2;
        int dim = 6;
        int seqlen = 11;
        int width = 4;
        Random rnd = new Random(SEED);
        float[] x = random(rnd, batch * dim * seqlen);
        float[] w = random(rnd, dim * width);
        NativeTensor weight = tensor(w, dim, width);
        NativeTensor full = tensor(poisoned(x.length), batch, dim, seqlen);
        CpuKernels.causalConv1d(
                new CausalConv1dArgs(
                        tensor(x, batch, dim, seqlen), weight, null, null, null, full, true));
        int first = 3;
        NativeTensor xAll = tensor(x, batch, dim, seqlen);
        NativeTensor outAll = tensor(poisoned(x.length), batch, dim, seqlen);
        NativeTensor state = tensor(new float[batch * dim * (width - 1)], batch, dim, width - 1);
        long[] st = NativeTensor.contiguousStrides(batch, dim, seqlen);
        CpuKernels.causalConv1d(
                new CausalConv1dArgs(
                        xAll.view(0, new long[] {batch, dim, first}, st),
                        weight,
                        null,
                        null,
                        state,
                        outAll.view(0, new long[] {batch, dim, first}, st),
                        true));
        CpuKernels.causalConv1d(
                new CausalConv1dArgs(
                        xAll.view(first, new long[] {batch, dim, seqlen - first}, st),
                        weight,
                        null,
                        state,
                        state,
                        outAll.view(first, new long[] {batch, dim, seqlen - first}, st),
                        true));
        float[] a = read(full);
        float[] b = read(outAll);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-6, "element " + i + " seed " + SEED);
        }
    }

    @Test
    void nullPointerBecomesExceptionWithNativeMessage() {
        NativeTensor nullX = NativeTensor.wrap(0, 1 << 20, DType.FLOAT32, 1, 4, 8);
        NativeOpException e =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                CpuKernels.causalConv1d(
                                        new CausalConv1dArgs(
                                                nullX,
                                                tensor(new float[16], 4, 4),
                                                null,
                                                null,
                                                null,
                                                tensor(new float[32], 1, 4, 8),
                                                false)));
        assertEquals(Status.INVALID_ARGUMENT, e.getStatus());
        assertTrue(e.getMessage().contains("x is NULL"), e.getMessage());
        assertTrue(e.getMessage().contains("causal_conv1d"), e.getMessage());
        assertTrue(e.getMessage().contains("[1, 4, 8]"), e.getMessage());
    }

    @Test
    void unsupportedWidthBecomesExceptionWithNativeMessage() {
        NativeOpException e =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                CpuKernels.causalConv1d(
                                        new CausalConv1dArgs(
                                                tensor(new float[32], 1, 4, 8),
                                                tensor(new float[20], 4, 5),
                                                null,
                                                null,
                                                null,
                                                tensor(new float[32], 1, 4, 8),
                                                false)));
        assertTrue(e.getMessage().contains("width must be 2, 3 or 4"), e.getMessage());
        assertTrue(e.getMessage().contains("weight [4, 5]"), e.getMessage());
    }

    @Test
    void inconsistentShapesAreRefusedBeforeTheCall() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new CausalConv1dArgs(
                                        tensor(new float[32], 1, 4, 8),
                                        tensor(new float[12], 3, 4),
                                        null,
                                        null,
                                        null,
                                        tensor(new float[32], 1, 4, 8),
                                        false));
        assertTrue(e.getMessage().contains("weight's first dimension"), e.getMessage());
    }

    @Test
    void viewOutsideItsMemoryIsRefused() {
        NativeTensor tooSmall =
                tensor(new float[16], 16)
                        .view(0, new long[] {1, 4, 8}, NativeTensor.contiguousStrides(1, 4, 8));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                CpuKernels.causalConv1d(
                                        new CausalConv1dArgs(
                                                tooSmall,
                                                tensor(new float[16], 4, 4),
                                                null,
                                                null,
                                                null,
                                                tensor(new float[32], 1, 4, 8),
                                                false)));
        assertTrue(e.getMessage().contains("needs 128 bytes"), e.getMessage());
    }

    @Test
    void buildInfoNamesTheAbi() {
        assertTrue(
                CpuKernels.buildInfo().contains("abi " + NativeLibraries.ABI_VERSION),
                CpuKernels.buildInfo());
    }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    static float[] poisoned(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    static NativeTensor tensor(float[] data, long... shape) {
        ByteBuffer buf = ByteBuffer.allocateDirect(data.length * 4).order(ByteOrder.nativeOrder());
        buf.asFloatBuffer().put(data);
        NativeTensor t = NativeTensor.of(buf, DType.FLOAT32, shape);
        BUFFERS.put(t.address(), buf);
        return t;
    }

    static float[] read(NativeTensor t) {
        ByteBuffer buf = BUFFERS.get(t.address());
        FloatBuffer fb = buf.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }
}
