package io.github.mambadjl.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.AttentionLayerState;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.kernel.RecordedStep;
import io.github.mambadjl.kernel.StepRecorder;
import io.github.mambadjl.model.CausalLM;
import java.nio.LongBuffer;

/**
 * A decoding step of a causal LM recorded once as a device graph and then replayed: one launch per
 * step instead of one host call per operation of every layer, with the token ids (and, when
 * sampling, the draws) written into device buffers before each replay and the chosen ids read back
 * after it. The tokens are chosen in the step: greedily (the argmax of each row), or sampled by the
 * engine ({@link io.github.mambadjl.kernel.TokenSampling}) when a generation samples.
 *
 * <p>The step reads and updates the cache's states in place, so the cache stays usable: after any
 * number of steps it holds what the same steps run one operation at a time would have left.
 * Recording needs an engine that implements {@link StepRecorder} on the cache's device, a model
 * without attention layers (their keys and values grow every step) and a cache without a padding
 * mask; {@link #record} returns {@code null} otherwise.
 */
public final class RecordedDecodingStep implements AutoCloseable {

    private final NDManager manager;
    private final InferenceCache cache;
    private final NDArray input;
    private final NDArray draws;
    private final RecordedStep recorded;
    private final long vocabSize;

    private RecordedDecodingStep(
            NDManager manager,
            InferenceCache cache,
            NDArray input,
            NDArray draws,
            RecordedStep recorded,
            long vocabSize) {
        this.manager = manager;
        this.cache = cache;
        this.input = input;
        this.draws = draws;
        this.recorded = recorded;
        this.vocabSize = vocabSize;
    }

    /**
     * Records the greedy step of a model on a filled cache and runs it for the given tokens.
     *
     * @param model the model
     * @param parameterStore where its parameters are
     * @param cache the cache after at least one position, on the device that runs the step
     * @param tokens one token per row of the cache
     * @return the recorded step, whose {@link #chosen()} are the next tokens, or {@code null} when
     *     this model, cache or engine cannot record steps (nothing ran then: decode as usual)
     */
    public static RecordedDecodingStep record(
            CausalLM model, ParameterStore parameterStore, InferenceCache cache, long[] tokens) {
        return record(model, parameterStore, cache, DeviceChoice.greedy(), tokens, null);
    }

    /**
     * Records a step that chooses its tokens as {@code choice} says, and runs it.
     *
     * @param draws one draw per row when the choice takes draws, else {@code null}
     * @return the recorded step, or {@code null} as for the greedy {@link #record}
     */
    static RecordedDecodingStep record(
            CausalLM model,
            ParameterStore parameterStore,
            InferenceCache cache,
            DeviceChoice choice,
            long[] tokens,
            long[] draws) {
        if (!canRecord(cache)) {
            return null;
        }
        NDArray anyState = cache.toStates().get(0);
        StepRecorder recorder = StepRecorder.of(anyState);
        if (recorder == null) {
            return null;
        }
        long vocabSize = model.config().vocabSize();
        NDManager manager = anyState.getManager().getParentManager().newSubManager();
        try {
            Shape rows = new Shape(cache.batchSize());
            NDArray input = manager.zeros(new Shape(cache.batchSize(), 1), DataType.INT64);
            write(input, tokens, vocabSize);
            NDArray drawArray = null;
            if (choice.takesDraws()) {
                drawArray = manager.zeros(rows, DataType.INT64);
                drawArray.set(LongBuffer.wrap(draws));
            }
            NDArray stepDraws = drawArray;
            long position = cache.position();
            RecordedStep recorded;
            try {
                recorded =
                        recorder.record(
                                input.getDevice(),
                                () -> {
                                    try (NDManager scope = manager.newSubManager()) {
                                        input.tempAttach(scope);
                                        NDArray logits =
                                                model.forward(
                                                                parameterStore,
                                                                input,
                                                                null,
                                                                cache,
                                                                false,
                                                                false)
                                                        .logits();
                                        NDArray chosen = choice.choose(logits, stepDraws);
                                        chosen.attach(manager);
                                        return new NDList(chosen);
                                    }
                                });
            } catch (IllegalStateException e) {
                // nothing ran: the states are as they were, only the position may have moved on
                cache.rewind(cache.position() - position);
                manager.close();
                return null;
            }
            return new RecordedDecodingStep(manager, cache, input, drawArray, recorded, vocabSize);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Returns the tokens the last step chose, one per row (waits for the device).
     *
     * @return the chosen token of each row
     */
    public long[] chosen() {
        return recorded.outputs().get(0).toLongArray();
    }

    /**
     * Runs one more greedy step for the given tokens.
     *
     * @param tokens one token per row
     */
    public void next(long[] tokens) {
        next(tokens, null);
    }

    /**
     * Runs one more step for the given tokens and, when the step samples, draws.
     *
     * @param tokens one token per row
     * @param rowDraws one draw per row when the step samples, else {@code null}
     */
    void next(long[] tokens, long[] rowDraws) {
        write(input, tokens, vocabSize);
        if (draws != null) {
            draws.set(LongBuffer.wrap(rowDraws));
        }
        recorded.replay();
        cache.advance(1, null);
    }

    /** Frees the recording and its buffers; the cache stays the caller's. */
    @Override
    public void close() {
        recorded.close();
        manager.close();
    }

    private static boolean canRecord(InferenceCache cache) {
        if (cache.attentionMask() != null || cache.position() == 0) {
            return false;
        }
        for (int i = 0; i < cache.numLayers(); i++) {
            if (cache.layer(i) instanceof AttentionLayerState || cache.layer(i).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private static void write(NDArray input, long[] tokens, long vocabSize) {
        if (tokens.length != input.getShape().get(0)) {
            throw new IllegalArgumentException(
                    "expected " + input.getShape().get(0) + " tokens, got " + tokens.length);
        }
        for (long t : tokens) {
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException(
                        "token id " + t + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
        input.set(LongBuffer.wrap(tokens));
    }
}
