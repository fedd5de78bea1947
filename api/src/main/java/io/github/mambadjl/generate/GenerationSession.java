package io.github.mambadjl.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.model.CausalLM;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A generation in progress, advanced one step per {@link #next()}: each call runs the model on the
 * tokens chosen by the previous call (through the cache, one position) and chooses the next ones,
 * so tokens stream out as they are decided. Close it to free its cache.
 */
public final class GenerationSession implements Iterator<long[]>, AutoCloseable {

    /** The fewest remaining steps for which greedy decoding records its step. */
    private static final int MIN_STEPS_TO_RECORD = 4;

    private final CausalLM model;
    private final ParameterStore parameterStore;
    private final NDManager manager;
    private final GenerationConfig config;
    private final TokenSampler sampler;
    private final InferenceCache cache;
    private final int batch;
    private final long[][] history;
    private final int[] length;
    private final int[] promptLength;
    private final boolean[] finished;
    private final List<long[]> steps = new ArrayList<>();
    private final List<float[][]> scores = new ArrayList<>();
    private DeviceChoice deviceChoice;
    private RecordedDecodingStep recorded;
    private boolean recordingTried;
    private float[][] pending;
    private long[] pendingTokens;
    private long[] last;

    GenerationSession(
            CausalLM model,
            ParameterStore parameterStore,
            NDManager parent,
            long[][] prompts,
            GenerationConfig config) {
        this.model = model;
        this.parameterStore = parameterStore;
        this.config = config;
        this.sampler = new TokenSampler(config);
        batch = prompts.length;
        if (batch == 0) {
            throw new IllegalArgumentException("generate: at least one prompt is needed");
        }
        int maxPrompt = 0;
        for (long[] p : prompts) {
            if (p.length == 0) {
                throw new IllegalArgumentException("generate: every prompt needs a token");
            }
            maxPrompt = Math.max(maxPrompt, p.length);
        }
        manager = parent.newSubManager();
        history = new long[batch][maxPrompt + config.maxNewTokens()];
        length = new int[batch];
        promptLength = new int[batch];
        finished = new boolean[batch];
        long[] ids = new long[batch * maxPrompt];
        long[] mask = new long[batch * maxPrompt];
        boolean padded = false;
        for (int r = 0; r < batch; r++) {
            int pad = maxPrompt - prompts[r].length;
            padded |= pad > 0;
            for (int t = 0; t < prompts[r].length; t++) {
                ids[r * maxPrompt + pad + t] = prompts[r][t];
                mask[r * maxPrompt + pad + t] = 1;
            }
            System.arraycopy(prompts[r], 0, history[r], 0, prompts[r].length);
            length[r] = prompts[r].length;
            promptLength[r] = prompts[r].length;
        }
        cache = model.newCache(manager, batch);
        try (NDManager step = manager.newSubManager()) {
            Shape shape = new Shape(batch, maxPrompt);
            NDArray idArray = step.create(ids, shape);
            NDArray maskArray = padded ? step.create(mask, shape) : null;
            // only the last position's logits: the prompt's next token
            NDArray logits =
                    model.forward(parameterStore, idArray, maskArray, cache, false, false, 1)
                            .logits();
            deviceChoice = DeviceChoice.of(config, logits);
            choose(logits, deviceChoice == null ? null : draws());
        }
    }

    /** {@inheritDoc} */
    @Override
    public boolean hasNext() {
        if (steps.size() >= config.maxNewTokens()) {
            return false;
        }
        for (boolean f : finished) {
            if (!f) {
                return true;
            }
        }
        return false;
    }

    /**
     * Computes the next step and returns its token for every row ({@link
     * GenerationConfig#padTokenId()} for rows that have stopped).
     *
     * @return the tokens of this step, one per row
     */
    @Override
    public long[] next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the generation has ended");
        }
        if (last != null) {
            decode();
        }
        if (config.outputScores()) {
            float[][] copy = new float[batch][];
            for (int r = 0; r < batch; r++) {
                copy[r] = pending[r].clone();
            }
            scores.add(copy);
        }
        long[] tokens = new long[batch];
        for (int r = 0; r < batch; r++) {
            if (finished[r]) {
                tokens[r] = config.padTokenId();
                continue;
            }
            long token =
                    deviceChoice != null
                            ? pendingTokens[r]
                            : sampler.next(pending[r], history[r], length[r]);
            tokens[r] = token;
            history[r][length[r]++] = token;
            if (config.isStop(token)) {
                finished[r] = true;
            }
        }
        steps.add(tokens);
        last = tokens;
        return tokens.clone();
    }

    /**
     * Returns whether a row has emitted a stop token.
     *
     * @param row the row
     * @return whether it stopped
     */
    public boolean isFinished(int row) {
        return finished[row];
    }

    /**
     * Runs the remaining steps, telling the listener about every token, and returns the result.
     *
     * @param listener receives each token as soon as it is chosen, or {@code null}
     * @return the result
     */
    public GenerationResult finish(TokenListener listener) {
        while (hasNext()) {
            boolean[] before = finished.clone();
            long[] tokens = next();
            if (listener != null) {
                for (int r = 0; r < batch; r++) {
                    if (!before[r]) {
                        listener.onToken(r, tokens[r]);
                    }
                }
            }
        }
        return result();
    }

    /**
     * Returns the result of the steps run so far.
     *
     * @return the sequences, new tokens and (if asked) scores
     */
    public GenerationResult result() {
        long[][] sequences = new long[batch][];
        long[][] newTokens = new long[batch][];
        for (int r = 0; r < batch; r++) {
            sequences[r] = Arrays.copyOf(history[r], length[r]);
            newTokens[r] = Arrays.copyOfRange(history[r], promptLength[r], length[r]);
        }
        return new GenerationResult(sequences, newTokens, List.copyOf(scores));
    }

    /**
     * Runs the model on the last tokens: from the recorded step once there is one, otherwise one
     * operation at a time. Decoding that chooses its tokens on the device records its step after
     * one ordinary decoding step (which leaves the engine's lazily made values, such as the state
     * matrices, outside the recording) when enough steps remain to repay the recording.
     */
    private void decode() {
        long[] draws = deviceChoice == null ? null : draws();
        if (recorded == null && !recordingTried && shouldRecord()) {
            recordingTried = true;
            recorded =
                    RecordedDecodingStep.record(
                            model, parameterStore, cache, deviceChoice, last, draws);
            if (recorded != null) {
                pendingTokens = recorded.chosen();
                return;
            }
        }
        if (recorded != null) {
            recorded.next(last, draws);
            pendingTokens = recorded.chosen();
            return;
        }
        try (NDManager step = manager.newSubManager()) {
            NDArray ids = step.create(last, new Shape(batch, 1));
            choose(model.forward(parameterStore, ids, null, cache, false, false).logits(), draws);
        }
    }

    private boolean shouldRecord() {
        return deviceChoice != null
                && config.recordSteps()
                && steps.size() >= 2
                && config.maxNewTokens() - steps.size() >= MIN_STEPS_TO_RECORD;
    }

    /**
     * Takes what the next choice needs from the logits of a forward: where the device can choose
     * ({@link DeviceChoice}: greedy, or sampling on an engine that samples) the tokens chosen there
     * (one small transfer per step), otherwise the last position's logits on the host for the
     * sampler. {@code draws} are the step's draws when the device samples (drawn once per step,
     * whichever way the step runs, so that the random stream stays the host sampler's).
     */
    private void choose(NDArray logits, long[] draws) {
        if (deviceChoice == null) {
            pending = lastLogits(logits);
            return;
        }
        NDArray drawArray = null;
        if (draws != null) {
            drawArray = logits.getManager().create(draws, new Shape(batch));
        }
        pendingTokens = deviceChoice.choose(logits, drawArray).toLongArray();
    }

    /**
     * Draws the u of the next token of every row that has not stopped, from the sampler's stream
     * and in the order its own choices would draw (a stopped row gets 0, its token is not used), or
     * returns {@code null} when the device choice takes no draws. Call it once per step.
     */
    private long[] draws() {
        if (!deviceChoice.takesDraws()) {
            return null;
        }
        long[] draws = new long[batch];
        for (int r = 0; r < batch; r++) {
            draws[r] = finished[r] ? 0 : sampler.nextDraw();
        }
        return draws;
    }

    private float[][] lastLogits(NDArray logits) {
        long vocab = logits.getShape().get(2);
        float[] flat = logits.get(":, -1, :").toType(DataType.FLOAT32, false).toFloatArray();
        float[][] rows = new float[batch][];
        for (int r = 0; r < batch; r++) {
            rows[r] = Arrays.copyOfRange(flat, (int) (r * vocab), (int) ((r + 1) * vocab));
        }
        return rows;
    }

    /**
     * Returns whether the decoding steps replay a recorded device graph ({@link
     * GenerationConfig#recordSteps()}).
     *
     * @return whether a recorded step runs the steps now
     */
    public boolean isRecorded() {
        return recorded != null;
    }

    /** Frees the cache and every array of this session. */
    @Override
    public void close() {
        if (recorded != null) {
            recorded.close();
        }
        manager.close();
    }
}
