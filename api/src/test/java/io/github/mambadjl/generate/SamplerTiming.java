package io.github.mambadjl.generate;

import java.util.Random;

/**
 * Host time of one sampled token over a 50 280-token vocabulary (temperature 0.8, top-p 0.9), for
 * jmh/NOTES.md (the sampler is package-private, so this timing lives beside its tests):
 *
 * <pre>
 * java -cp api/target/classes:api/target/test-classes io.github.mambadjl.generate.SamplerTiming
 * </pre>
 */
public final class SamplerTiming {

    private SamplerTiming() {}

    /**
     * Prints the mean time per token of five rounds of 50 draws.
     *
     * @param args unused
     */
    public static void main(String[] args) {
        GenerationConfig config =
                GenerationConfig.builder().optSample(0.8f).optTopP(0.9f).optSeed(1).build();
        TokenSampler sampler = new TokenSampler(config);
        Random random = new Random(3);
        int draws = 50;
        float[][] logits = new float[draws][50280];
        for (float[] row : logits) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (random.nextGaussian() * 3);
            }
        }
        long[] none = new long[0];
        for (int round = 0; round < 5; round++) {
            float[][] copies = new float[draws][];
            for (int d = 0; d < draws; d++) {
                copies[d] = logits[d].clone();
            }
            long start = System.nanoTime();
            for (float[] row : copies) {
                sampler.next(row, none, 0);
            }
            System.out.printf(
                    "round %d: %.2f ms per token%n",
                    round, (System.nanoTime() - start) / 1e6 / draws);
        }
    }
}
