package io.github.mambadjl.zoo;

import ai.djl.inference.streaming.StreamingBlock;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Predicate;

/**
 * A DJL {@link StreamingBlock} that generates with a {@link CausalLM} through the api's {@link
 * Generator}: the prompt is prefilled once, then each step runs one token through the inference
 * cache. It is the block of a model loaded for text ({@link TextGenerationTranslatorFactory} puts
 * it in place of the {@link CausalLM}, which {@link #getModel()} returns).
 *
 * <p>Input {@code NDList(input_ids)} or {@code NDList(input_ids, attention_mask)} (int64 {@code
 * [batch, length]}, left padding). {@link #forward} returns {@code NDList(new_ids)}, int64 {@code
 * [batch, steps]} (rows that stopped early are padded with the end-of-sequence id); {@link
 * #forwardStream} yields one {@code NDList(ids)}, int64 {@code [batch]}, per step, computing each
 * step only when asked.
 */
public class TextGenerationBlock extends AbstractBlock implements StreamingBlock {

    private final CausalLM model;
    private final GenerationConfig config;
    private final Predicate<long[]> stopWhen;

    /**
     * Creates the block.
     *
     * @param model the loaded model
     * @param config the generation settings
     * @param stopWhen tells, from a row's new tokens so far, whether the row is done (stop
     *     strings); the end-of-sequence id is in {@code config}
     */
    public TextGenerationBlock(
            CausalLM model, GenerationConfig config, Predicate<long[]> stopWhen) {
        this.model = model;
        this.config = config;
        this.stopWhen = stopWhen;
    }

    /**
     * Returns the language model.
     *
     * @return the model, whose NDList contract is input ids to logits
     */
    public CausalLM getModel() {
        return model;
    }

    /**
     * Returns the generation settings.
     *
     * @return the settings
     */
    public GenerationConfig getConfig() {
        return config;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        Steps steps = new Steps(inputs);
        List<long[]> all = new ArrayList<>();
        while (steps.hasNext()) {
            NDList step = steps.next();
            all.add(step.head().toLongArray());
            step.close();
        }
        int batch = steps.batch;
        long[] flat = new long[batch * all.size()];
        for (int s = 0; s < all.size(); s++) {
            for (int r = 0; r < batch; r++) {
                flat[r * all.size() + s] = all.get(s)[r];
            }
        }
        return new NDList(steps.out.create(flat, new Shape(batch, all.size())));
    }

    /** {@inheritDoc} */
    @Override
    public Iterator<NDList> forwardStreamIter(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return new Steps(inputs);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), -1)};
    }

    private static long[][] prompts(NDList inputs) {
        NDArray ids = inputs.get(0);
        if (ids.getShape().dimension() != 2) {
            throw new IllegalArgumentException(
                    "input_ids must be [batch, length], got " + ids.getShape());
        }
        int batch = (int) ids.getShape().get(0);
        int length = (int) ids.getShape().get(1);
        long[] flat = ids.toLongArray();
        long[] mask = inputs.size() > 1 ? inputs.get(1).toLongArray() : null;
        long[][] prompts = new long[batch][];
        for (int r = 0; r < batch; r++) {
            long[] row = Arrays.copyOfRange(flat, r * length, (r + 1) * length);
            if (mask != null) {
                int start = 0;
                while (start < length && mask[r * length + start] == 0) {
                    start++;
                }
                row = Arrays.copyOfRange(row, start, length);
            }
            prompts[r] = row;
        }
        return prompts;
    }

    /** The steps of one generation. */
    private final class Steps implements Iterator<NDList> {

        final NDManager out;
        final int batch;
        private final GenerationSession session;
        private final long[][] tokens;
        private final int[] counts;
        private final boolean[] stopped;
        private boolean closed;

        Steps(NDList inputs) {
            out = inputs.head().getManager();
            long[][] prompts = prompts(inputs);
            batch = prompts.length;
            tokens = new long[batch][config.maxNewTokens()];
            counts = new int[batch];
            stopped = new boolean[batch];
            session = new Generator(model, out).start(prompts, config);
        }

        @Override
        public boolean hasNext() {
            if (closed) {
                return false;
            }
            boolean active = false;
            for (int r = 0; r < batch; r++) {
                active |= !stopped[r];
            }
            if (!active || !session.hasNext()) {
                session.close();
                closed = true;
                return false;
            }
            return true;
        }

        @Override
        public NDList next() {
            if (!hasNext()) {
                throw new NoSuchElementException("the generation has ended");
            }
            long[] step = session.next();
            for (int r = 0; r < batch; r++) {
                if (stopped[r]) {
                    step[r] = config.padTokenId();
                    continue;
                }
                tokens[r][counts[r]++] = step[r];
                if (session.isFinished(r) || stopWhen.test(Arrays.copyOf(tokens[r], counts[r]))) {
                    stopped[r] = true;
                }
            }
            return new NDList(out.create(step));
        }
    }
}
