package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Token sampling of the CPU library against a Java walk of {@code mops_cpu_sample_tokens}'s
 * definition (a full sort of each row); {@code SampleTokensGpuTest} runs the same cases on the CUDA
 * library.
 */
class SampleTokensCpuTest {

    private static final double TWO_TO_44 = 0x1p44;

    /** Chooses the tokens of {@code rows} rows of logits stored {@code stride} apart. */
    long[] sample(
            DType dtype,
            float[] logits,
            int rows,
            int vocab,
            int stride,
            SamplingSettings settings,
            long[] draws) {
        NativeTensor x = Host.tensor(dtype, logits, logits.length);
        long d = CpuTensorOps.allocate(8L * rows, false);
        long out = CpuTensorOps.allocate(8L * rows, false);
        try {
            new Pointer(d).write(0, draws, 0, rows);
            CpuTensorOps.sampleTokens(
                    TensorDType.valueOf(dtype.name()),
                    x.address(),
                    rows,
                    vocab,
                    stride,
                    settings,
                    d,
                    out);
            return new Pointer(out).getLongArray(0, rows);
        } finally {
            CpuTensorOps.free(d);
            CpuTensorOps.free(out);
        }
    }

    @ParameterizedTest(name = "{0}, vocab {1}, T {2}, top-k {3}, top-p {4}, min-p {5}, ties {6}")
    @CsvSource({
        "FLOAT32, 1, 1.0, 0, 1.0, 0.0, false",
        "FLOAT32, 7, 0.7, 0, 1.0, 0.0, false",
        "FLOAT32, 1000, 1.0, 50, 1.0, 0.0, false",
        "FLOAT32, 1000, 0.8, 0, 0.9, 0.0, false",
        "FLOAT32, 1000, 1.3, 0, 1.0, 0.05, false",
        "FLOAT32, 1000, 0.6, 40, 0.95, 0.02, false",
        "FLOAT32, 1000, 1.0, 1000, 1.0, 0.0, false",
        "FLOAT32, 1000, 1.0, 5000, 0.5, 0.0, false",
        "FLOAT32, 1000, 1.0, 1, 1.0, 0.0, false",
        "FLOAT32, 1000, 1.0, 0, 0.000001, 0.0, false",
        "FLOAT32, 1000, 1.0, 0, 1.0, 1.0, true",
        "FLOAT32, 1000, 2.5, 20, 0.8, 0.1, true",
        "BFLOAT16, 50280, 0.8, 0, 0.9, 0.0, false",
        "BFLOAT16, 50280, 1.0, 50, 0.95, 0.05, false",
        "BFLOAT16, 50280, 1.0, 0, 1.0, 0.0, true",
        "FLOAT16, 50280, 0.7, 100, 0.9, 0.0, true",
        "FLOAT16, 4096, 1.0, 0, 0.99, 0.01, false"
    })
    void choosesWhatTheDefinitionChooses(
            DType dtype,
            int vocab,
            float temperature,
            long topK,
            float topP,
            float minP,
            boolean ties) {
        Random rnd = new Random(vocab * 31L + topK);
        int rows = 6;
        int stride = vocab + 3;
        float[] logits = new float[rows * stride];
        for (int i = 0; i < logits.length; i++) {
            double v = rnd.nextGaussian() * 3;
            logits[i] = (float) (ties ? Math.rint(v) : v);
        }
        logits = Host.quantize(dtype, logits);
        SamplingSettings settings = new SamplingSettings(temperature, topK, topP, minP);
        for (int round = 0; round < 4; round++) {
            long[] draws = new long[rows];
            for (int r = 0; r < rows; r++) {
                draws[r] = (long) (rnd.nextDouble() * 0x1p53);
            }
            draws[0] = round == 0 ? 0 : draws[0];
            draws[1] = round == 1 ? (1L << 53) - 1 : draws[1];
            long[] expected = new long[rows];
            for (int r = 0; r < rows; r++) {
                expected[r] =
                        definition(
                                Arrays.copyOfRange(logits, r * stride, r * stride + vocab),
                                settings,
                                draws[r]);
            }
            assertArrayEquals(
                    expected,
                    sample(dtype, logits, rows, vocab, stride, settings, draws),
                    "round " + round);
        }
    }

    @Test
    void drawsFollowTheProbabilities() {
        // logits ln(1), ln(2), ln(3), ln(4): draws spread evenly over [0, 1) land in proportion
        float[] logits = {0f, (float) Math.log(2), (float) Math.log(3), (float) Math.log(4)};
        int rows = 1000;
        float[] all = new float[rows * 4];
        long[] draws = new long[rows];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(logits, 0, all, r * 4, 4);
            draws[r] = (long) ((r + 0.5) / rows * 0x1p53);
        }
        Function<SamplingSettings, int[]> counts =
                settings -> count(sample(DType.FLOAT32, all, rows, 4, 4, settings, draws));
        // ranked 3, 2, 1, 0 with weights 4, 3, 2, 1 out of 10
        assertArrayEquals(
                new int[] {100, 200, 300, 400}, counts.apply(new SamplingSettings(1f, 0, 1f, 0f)));
        // top-p 0.5 keeps tokens 3 and 2 (0.4 + 0.3 >= 0.5), drawn 4 : 3
        assertArrayEquals(
                new int[] {0, 0, 429, 571}, counts.apply(new SamplingSettings(1f, 0, 0.5f, 0f)));
        // top-k 1 keeps only the best
        assertArrayEquals(
                new int[] {0, 0, 0, 1000}, counts.apply(new SamplingSettings(1f, 1, 1f, 0f)));
        // min-p 0.8 drops token 2 (3/4 of the best's weight) and all below it
        assertArrayEquals(
                new int[] {0, 0, 0, 1000}, counts.apply(new SamplingSettings(1f, 0, 1f, 0.8f)));
    }

    @Test
    void refusesBadArguments() {
        float[] logits = {1f, 2f, 3f};
        long[] draws = {0};
        SamplingSettings ok = new SamplingSettings(1f, 0, 1f, 0f);
        NativeOpException e =
                assertThrows(
                        NativeOpException.class,
                        () -> sample(DType.FLOAT32, logits, 1, 3, 2, ok, draws));
        assertTrue(e.getMessage().contains("row_stride"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(0f, 0, 1f, 0f));
        assertThrows(
                IllegalArgumentException.class,
                () -> new SamplingSettings(Float.POSITIVE_INFINITY, 0, 1f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(1f, -1, 1f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(1f, 0, 0f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(1f, 0, 1.5f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(1f, 0, 1f, -0.1f));
    }

    /** The CPU library refuses a draw outside [0, 2^53), naming it. */
    @Test
    void drawsOutsideTheirRange() {
        float[] logits = {1f, 2f, 3f};
        SamplingSettings all = new SamplingSettings(1f, 0, 1f, 0f);
        for (long draw : new long[] {-1, 1L << 53, Long.MIN_VALUE, Long.MAX_VALUE}) {
            NativeOpException e =
                    assertThrows(
                            NativeOpException.class,
                            () -> sample(DType.FLOAT32, logits, 1, 3, 3, all, new long[] {draw}));
            assertTrue(e.getMessage().contains("draw " + draw), e.getMessage());
        }
    }

    private static int[] count(long[] tokens) {
        int[] counts = new int[4];
        for (long t : tokens) {
            counts[(int) t]++;
        }
        return counts;
    }

    /** The definition of {@code mambaops.h}, walked over a full sort of the row. */
    static long definition(float[] logits, SamplingSettings s, long draw) {
        Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(
                order,
                Comparator.<Integer>comparingDouble(i -> -logits[i])
                        .thenComparing(Comparator.naturalOrder()));
        int n = s.topK() > 0 && s.topK() < logits.length ? (int) s.topK() : logits.length;
        double best = logits[order[0]] / s.temperature();
        double[] w = new double[n];
        long[] q = new long[n];
        long sum = 0;
        for (int r = 0; r < n; r++) {
            w[r] = Math.exp(logits[order[r]] / s.temperature() - best);
            q[r] = (long) (w[r] * TWO_TO_44 + 0.5);
            sum += q[r];
        }
        int keep = n;
        if (s.topP() < 1) {
            long cumulative = 0;
            for (int r = 0; r < n; r++) {
                cumulative += q[r];
                if ((double) cumulative >= (double) s.topP() * (double) sum) {
                    keep = r + 1;
                    break;
                }
            }
        }
        if (s.minP() > 0) {
            int r = 1;
            while (r < keep && w[r] >= s.minP()) {
                r++;
            }
            keep = r;
        }
        long total = 0;
        for (int r = 0; r < keep; r++) {
            total += q[r];
        }
        double target = draw * 0x1p-53 * total;
        long cumulative = 0;
        for (int r = 0; r < keep; r++) {
            cumulative += q[r];
            if ((double) cumulative > target) {
                return order[r];
            }
        }
        return order[keep - 1];
    }
}
