package io.github.mambadjl.examples.train;

import java.nio.file.Path;

/**
 * The options of {@link TrainEmbeddedModel}; the defaults are those the embedded model was trained
 * with.
 *
 * @param text the verse file ({@code --text})
 * @param out the output directory ({@code --out})
 * @param hiddenSize the residual width ({@code --hidden-size})
 * @param layers the number of Mamba2 layers ({@code --layers})
 * @param headDim the channels per SSM head ({@code --head-dim})
 * @param stateSize the SSM state size ({@code --state-size})
 * @param chunkSize the SSD chunk length ({@code --chunk-size})
 * @param steps the number of optimizer steps ({@code --steps})
 * @param batch the sequences per step ({@code --batch})
 * @param length the bytes per sequence ({@code --length})
 * @param lr the peak learning rate of Adam ({@code --lr})
 * @param seed the seed of the window sampler ({@code --seed})
 * @param heldOutFraction the share of the text, at its end, never trained on
 * @param logEvery the steps between two lines of the log ({@code --log-every})
 * @param evalEvery the steps between two held-out evaluations ({@code --eval-every})
 * @param maxMinutes the wall-clock budget: training stops early, and says so in the log, when it
 *     runs out ({@code --max-minutes}, 0 for none)
 */
public record TrainingOptions(
        Path text,
        Path out,
        int hiddenSize,
        int layers,
        int headDim,
        int stateSize,
        int chunkSize,
        int steps,
        int batch,
        int length,
        float lr,
        long seed,
        double heldOutFraction,
        int logEvery,
        int evalEvery,
        double maxMinutes) {

    /**
     * Parses {@code --name value} pairs.
     *
     * @param args the command line
     * @return the options
     * @throws IllegalArgumentException if an option is unknown, lacks its value or is malformed
     */
    public static TrainingOptions parse(String[] args) {
        Path text = null;
        Path out = null;
        int hidden = 128;
        int layers = 4;
        int headDim = 32;
        int state = 32;
        int chunk = 64;
        int steps = 2500;
        int batch = 16;
        int length = 128;
        float lr = 3e-3f;
        long seed = 1;
        int logEvery = 50;
        int evalEvery = 500;
        double maxMinutes = 0;
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            String value = args[i + 1];
            switch (args[i]) {
                case "--text" -> text = Path.of(value);
                case "--out" -> out = Path.of(value);
                case "--hidden-size" -> hidden = Integer.parseInt(value);
                case "--layers" -> layers = Integer.parseInt(value);
                case "--head-dim" -> headDim = Integer.parseInt(value);
                case "--state-size" -> state = Integer.parseInt(value);
                case "--chunk-size" -> chunk = Integer.parseInt(value);
                case "--steps" -> steps = Integer.parseInt(value);
                case "--batch" -> batch = Integer.parseInt(value);
                case "--length" -> length = Integer.parseInt(value);
                case "--lr" -> lr = Float.parseFloat(value);
                case "--seed" -> seed = Long.parseLong(value);
                case "--log-every" -> logEvery = Integer.parseInt(value);
                case "--eval-every" -> evalEvery = Integer.parseInt(value);
                case "--max-minutes" -> maxMinutes = Double.parseDouble(value);
                default ->
                        throw new IllegalArgumentException(
                                "unknown option " + args[i] + " (see TrainingOptions)");
            }
        }
        if (text == null || out == null) {
            throw new IllegalArgumentException("--text FILE and --out DIR are required");
        }
        return new TrainingOptions(
                text,
                out,
                hidden,
                layers,
                headDim,
                state,
                chunk,
                steps,
                batch,
                length,
                lr,
                seed,
                0.01,
                logEvery,
                evalEvery,
                maxMinutes);
    }
}
