package io.github.mambadjl.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.kernel.RecordedStep;
import io.github.mambadjl.kernel.StepRecorder;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.nn.SequenceContext;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * A decoding step of a causal LM recorded once as device graphs and then replayed: one launch per
 * run of layers instead of one host call per operation of every layer, with the token ids (and,
 * when sampling, the draws) written into device buffers before each replay and the chosen ids read
 * back after it. The tokens are chosen in the step: greedily (the argmax of each row), or sampled
 * by the engine ({@link io.github.mambadjl.kernel.TokenSampling}) when a generation samples.
 *
 * <p>A model without attention layers is one recording: embedding, layers, head and choice. The
 * attention layers of a hybrid model (Bamba) grow their keys and values every step, so they run as
 * ordinary operations between the recordings of the runs of layers around them: the step is then a
 * few replays and a few ordinary layers, queued without waiting, so the host issues the attention
 * layers while the device runs the recorded layers before them.
 *
 * <p>The step reads and updates the cache's states in place, so the cache stays usable: after any
 * number of steps it holds what the same steps run one operation at a time would have left.
 * Recording needs an engine that implements {@link StepRecorder} on the cache's device and a cache
 * without a padding mask; {@link #record} returns {@code null} otherwise.
 */
public final class RecordedDecodingStep implements AutoCloseable {

    private final CausalLM model;
    private final ParameterStore parameterStore;
    private final NDManager manager;
    private final InferenceCache cache;
    private final NDArray input;
    private final NDArray draws;
    private final int[] attention;
    private final List<RecordedStep> pieces;
    private final List<NDArray> pieceInputs;

    private RecordedDecodingStep(
            CausalLM model,
            ParameterStore parameterStore,
            NDManager manager,
            InferenceCache cache,
            NDArray input,
            NDArray draws,
            int[] attention) {
        this.model = model;
        this.parameterStore = parameterStore;
        this.manager = manager;
        this.cache = cache;
        this.input = input;
        this.draws = draws;
        this.attention = attention;
        this.pieces = new ArrayList<>(attention.length + 1);
        this.pieceInputs = new ArrayList<>(attention.length);
    }

    /**
     * Records the greedy step of a model on a filled cache and runs it for the given tokens.
     *
     * @param model the model
     * @param parameterStore where its parameters are
     * @param cache the cache after at least one position, on the device that runs the step
     * @param tokens one token per row of the cache
     * @return the recorded step, whose {@link #chosen()} are the next tokens, or {@code null} when
     *     this cache or engine cannot record steps (nothing ran then: decode as usual)
     * @throws IllegalStateException when a run of layers after the first cannot be recorded (not
     *     expected: they are made of the first one's operations); the cache is then part-way
     *     through a step, and must be discarded
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
        NDManager manager = anyState.getManager().getParentManager().newSubManager();
        RecordedDecodingStep step;
        try {
            NDArray input = manager.zeros(new Shape(cache.batchSize(), 1), DataType.INT64);
            NDArray drawArray = null;
            if (choice.takesDraws()) {
                drawArray = manager.zeros(new Shape(cache.batchSize()), DataType.INT64);
            }
            int[] attention =
                    IntStream.range(0, cache.numLayers()).filter(model::isAttentionLayer).toArray();
            step =
                    new RecordedDecodingStep(
                            model, parameterStore, manager, cache, input, drawArray, attention);
            step.write(tokens, draws);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        SequenceContext context = step.advance();
        try {
            for (int p = 0; p <= step.attention.length; p++) {
                RecordedStep piece;
                try {
                    piece =
                            recorder.record(
                                    input(step, p).getDevice(), step.piece(p, choice, context));
                } catch (IllegalStateException e) {
                    if (p > 0) {
                        throw new IllegalStateException(
                                "layers after the first attention layer could not be recorded;"
                                        + " the cache is part-way through a step: discard it",
                                e);
                    }
                    // nothing ran: the states are as they were, only the position moved on
                    step.close();
                    cache.rewind(1);
                    return null;
                }
                step.pieces.add(piece);
                if (p < step.attention.length) {
                    step.runAttention(p, context, true);
                }
            }
        } catch (RuntimeException e) {
            step.close();
            throw e;
        }
        return step;
    }

    private static NDArray input(RecordedDecodingStep step, int piece) {
        return piece == 0 ? step.input : step.pieceInputs.get(piece - 1);
    }

    /**
     * Returns the tokens the last step chose, one per row (waits for the device).
     *
     * @return the chosen token of each row
     */
    public long[] chosen() {
        return pieces.get(pieces.size() - 1).outputs().get(0).toLongArray();
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
        write(tokens, rowDraws);
        SequenceContext context = advance();
        for (int p = 0; p < pieces.size(); p++) {
            pieces.get(p).replay();
            if (p < attention.length) {
                runAttention(p, context, false);
            }
        }
    }

    /** Frees the recordings and their buffers; the cache stays the caller's. */
    @Override
    public void close() {
        for (RecordedStep piece : pieces) {
            piece.close();
        }
        manager.close();
    }

    /** Moves the cache on by the step's position and returns the step's context. */
    private SequenceContext advance() {
        long position = cache.position();
        cache.advance(1, null);
        return new SequenceContext(null, null, position);
    }

    /**
     * The work of recording {@code p}: the layers from the previous attention layer (or the
     * embedding) to the next one (or the head and the choice).
     */
    private Supplier<NDList> piece(int p, DeviceChoice choice, SequenceContext context) {
        boolean first = p == 0;
        boolean last = p == attention.length;
        int from = first ? 0 : attention[p - 1] + 1;
        int to = last ? cache.numLayers() : attention[p];
        NDArray in = input(this, p);
        return () -> {
            try (NDManager scope = manager.newSubManager()) {
                in.tempAttach(scope);
                NDArray h = first ? model.embed(parameterStore, in) : in;
                h = model.forwardLayers(parameterStore, h, cache, context, from, to);
                NDArray out =
                        last ? choice.choose(model.outputLogits(parameterStore, h), draws) : h;
                if (out == in) {
                    out = in.duplicate();
                }
                out.attach(manager);
                return new NDList(out);
            }
        };
    }

    /**
     * Runs attention layer {@code attention[p]} as ordinary operations on the output of recording
     * {@code p} and puts its result in the input buffer of recording {@code p + 1} (made on the
     * first run, before that recording).
     */
    private void runAttention(int p, SequenceContext context, boolean firstRun) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray h = pieces.get(p).outputs().get(0);
            h.tempAttach(scope);
            NDArray out =
                    model.forwardLayers(
                            parameterStore, h, cache, context, attention[p], attention[p] + 1);
            if (firstRun) {
                pieceInputs.add(manager.zeros(out.getShape(), out.getDataType()));
            }
            pieceInputs.get(p).set(new NDIndex(":"), out);
        }
    }

    private static boolean canRecord(InferenceCache cache) {
        if (cache.attentionMask() != null || cache.position() == 0) {
            return false;
        }
        for (int i = 0; i < cache.numLayers(); i++) {
            if (cache.layer(i).isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private void write(long[] tokens, long[] rowDraws) {
        long vocabSize = model.config().vocabSize();
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
        if (draws != null) {
            draws.set(LongBuffer.wrap(rowDraws));
        }
    }
}
