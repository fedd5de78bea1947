package io.github.mambadjl.model;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.cache.LayerState;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.checkpoint.SafetensorsWriter;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.checkpoint.TensorSource;
import io.github.mambadjl.config.BambaConfig;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.nn.BambaDecoderLayer;
import io.github.mambadjl.nn.Mamba;
import io.github.mambadjl.nn.Mamba2;
import io.github.mambadjl.nn.ResidualBlock;
import io.github.mambadjl.nn.RmsNorm;
import io.github.mambadjl.nn.SequenceBlock;
import io.github.mambadjl.nn.SequenceContext;
import io.github.mambadjl.nn.ShapedBlock;
import io.github.mambadjl.nn.TokenEmbedding;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A causal language model of the Mamba family: token embedding, a stack of layers, a final RMSNorm
 * and an LM head (tied to the embedding or not), built from a {@link ModelConfig}.
 *
 * <p>As a DJL block it takes {@code NDList(input_ids)} or {@code NDList(input_ids, attention_mask)}
 * (int64 {@code [batch, length]}) and returns {@code NDList(logits)}, float {@code [batch, length,
 * vocab_size]} (padding rows of the embedding removed), followed by the hidden states when {@link
 * #setOutputHiddenStates(boolean)} is on. {@link #forward(ParameterStore, NDArray, NDArray,
 * InferenceCache, boolean, boolean)} adds an {@link InferenceCache} for incremental decoding.
 *
 * <p>The blocks are named as the Hugging Face checkpoints of the family ({@code
 * backbone.layers.0.mixer.in_proj.weight}, {@code model.layers.1.self_attn.q_proj.weight}, ...);
 * {@link #namedParameters()} lists the parameters under those names.
 */
public final class CausalLM extends ShapedBlock {

    private static final String CHECKPOINT_MARKER = "mamba-djl:weights-from-checkpoint";

    private final ModelConfig config;
    private final TokenEmbedding embedding;
    private final List<SequenceBlock> layers = new ArrayList<>();
    private final RmsNorm finalNorm;
    private final TokenEmbedding lmHead;
    private final Map<Parameter, Shape> declaredShapes = new HashMap<>();
    private boolean outputHiddenStates;

    private CausalLM(ModelConfig config) {
        this.config = config;
        boolean bamba = config instanceof BambaConfig;
        String prefix = bamba ? "model." : "backbone.";
        double std = initializerRange(config);
        embedding =
                addChildBlock(
                        prefix + (bamba ? "embed_tokens" : "embeddings"),
                        new TokenEmbedding(config.paddedVocabSize(), config.hiddenSize(), std));
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            layers.add(addChildBlock(prefix + "layers." + i, newLayer(config, i)));
        }
        finalNorm =
                addChildBlock(
                        prefix + (bamba ? "final_layernorm" : "norm_f"),
                        RmsNorm.builder()
                                .setSize(config.hiddenSize())
                                .optEps(config.layerNormEpsilon())
                                .build());
        lmHead =
                config.tieWordEmbeddings()
                        ? null
                        : addChildBlock(
                                "lm_head",
                                new TokenEmbedding(
                                        config.paddedVocabSize(), config.hiddenSize(), std));
    }

    /**
     * Builds the (uninitialised) model a config describes.
     *
     * @param config the model config
     * @return the model
     */
    public static CausalLM fromConfig(ModelConfig config) {
        return new CausalLM(config);
    }

    private static SequenceBlock newLayer(ModelConfig config, int index) {
        if (config instanceof MambaConfig c) {
            return new ResidualBlock(
                    RmsNorm.builder().setSize(c.hiddenSize()).optEps(c.layerNormEpsilon()).build(),
                    Mamba.builder().fromConfig(c).build());
        }
        if (config instanceof Mamba2Config c) {
            if (!c.rmsNorm()) {
                throw new IllegalArgumentException(
                        "Mamba2 models with rms_norm = false (LayerNorm layers) are not supported;"
                                + " every published Mamba2 checkpoint uses RMSNorm");
            }
            return new ResidualBlock(
                    RmsNorm.builder().setSize(c.hiddenSize()).optEps(c.layerNormEpsilon()).build(),
                    Mamba2.builder().fromConfig(c).build());
        }
        return new BambaDecoderLayer((BambaConfig) config, index);
    }

    private static double initializerRange(ModelConfig config) {
        if (config instanceof MambaConfig c) {
            return c.initializerRange();
        }
        if (config instanceof Mamba2Config c) {
            return c.initializerRange();
        }
        return ((BambaConfig) config).initializerRange();
    }

    /**
     * Returns the config this model was built from.
     *
     * @return the config
     */
    public ModelConfig config() {
        return config;
    }

    /**
     * Sets whether the DJL {@code forward} appends the hidden states to its output list.
     *
     * @param outputHiddenStates whether to output the hidden states
     */
    public void setOutputHiddenStates(boolean outputHiddenStates) {
        this.outputHiddenStates = outputHiddenStates;
    }

    /**
     * Returns an empty cache for this model.
     *
     * @param manager the manager under which the cache allocates
     * @param batchSize the number of sequences
     * @return a new cache
     */
    public InferenceCache newCache(NDManager manager, int batchSize) {
        boolean[] attention = new boolean[layers.size()];
        for (int i = 0; i < attention.length; i++) {
            attention[i] = layers.get(i).isAttention();
        }
        return InferenceCache.create(manager, batchSize, attention);
    }

    /**
     * Runs the model on a batch of token ids.
     *
     * @param ps the parameter store
     * @param inputIds int64 {@code [batch, length]}
     * @param attentionMask {@code [batch, length]} with 1 for tokens and 0 for (left) padding, or
     *     {@code null}
     * @param cache the cache to continue from and update, or {@code null}
     * @param hiddenStates whether to return the hidden states
     * @param training whether this is a training pass
     * @return the logits and, if asked, the hidden states
     */
    public LanguageModelOutput forward(
            ParameterStore ps,
            NDArray inputIds,
            NDArray attentionMask,
            InferenceCache cache,
            boolean hiddenStates,
            boolean training) {
        return forward(ps, inputIds, attentionMask, cache, hiddenStates, training, 0);
    }

    /**
     * Runs the model on a batch of token ids, with logits for the last {@code logitsToKeep}
     * positions only, as transformers' {@code logits_to_keep}: the prefill of a prompt for
     * generation needs the logits of its last position, and the LM head over every position of a
     * 512-token prompt is 40 of the 130 GFLOP of a mamba-130m prefill. Hidden states are returned
     * for every position.
     *
     * @param ps the parameter store
     * @param inputIds int64 {@code [batch, length]}
     * @param attentionMask {@code [batch, length]} with 1 for tokens and 0 for (left) padding, or
     *     {@code null}
     * @param cache the cache to continue from and update, or {@code null}
     * @param hiddenStates whether to return the hidden states
     * @param training whether this is a training pass
     * @param logitsToKeep how many of the last positions get logits; 0, or a number at least the
     *     length, for all of them
     * @return the logits {@code [batch, min(length, logitsToKeep), vocab]} and, if asked, the
     *     hidden states
     * @throws IllegalArgumentException if {@code logitsToKeep} is negative, or the inputs are
     *     malformed
     */
    public LanguageModelOutput forward(
            ParameterStore ps,
            NDArray inputIds,
            NDArray attentionMask,
            InferenceCache cache,
            boolean hiddenStates,
            boolean training,
            int logitsToKeep) {
        if (logitsToKeep < 0) {
            throw new IllegalArgumentException(
                    "logitsToKeep must be 0 (all positions) or positive, got " + logitsToKeep);
        }
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("input_ids must be [batch, seq], got " + shape);
        }
        if (attentionMask != null && !attentionMask.getShape().equals(shape)) {
            throw new IllegalArgumentException(
                    "attention_mask must have the shape of input_ids "
                            + shape
                            + ", got "
                            + attentionMask.getShape());
        }
        if (cache != null && cache.batchSize() != shape.get(0)) {
            throw new IllegalArgumentException(
                    "the cache was created for batch "
                            + cache.batchSize()
                            + " but input_ids has "
                            + shape.get(0)
                            + " rows");
        }
        NDArray mask = attentionMask;
        if (mask != null
                && mask.min().toType(DataType.INT64, false).getLong() == 1L
                && (cache == null || cache.attentionMask() == null)) {
            mask = null;
        }
        long length = shape.get(1);
        SequenceContext context;
        if (cache == null) {
            context = SequenceContext.of(mask);
        } else {
            long offset = cache.position();
            cache.advance(length, mask);
            context = new SequenceContext(mask, cache.attentionMask(), offset);
        }
        List<NDArray> states = hiddenStates ? new ArrayList<>() : Collections.emptyList();
        NDArray h = embedding.embed(ps, inputIds, training);
        boolean before = config instanceof BambaConfig;
        for (int i = 0; i < layers.size(); i++) {
            if (hiddenStates && before) {
                states.add(h);
            }
            LayerState state = cache == null ? null : cache.layer(i);
            h =
                    training
                            ? layers.get(i).forward(ps, h, context, state, training)
                            : inferLayer(layers.get(i), ps, h, context, state, !hiddenStates);
            if (hiddenStates && !before) {
                states.add(h);
            }
        }
        h = finalNorm.forward(ps, h, training);
        if (hiddenStates) {
            states.add(h);
        }
        NDArray kept = h;
        if (logitsToKeep > 0 && logitsToKeep < length) {
            kept = h.get(":, {}:, :", length - logitsToKeep);
        }
        return new LanguageModelOutput(vocabLogits(ps, kept, training), states);
    }

    /**
     * Returns whether a layer attends over the keys and values of the positions before (its cache
     * state grows every step) rather than carrying a fixed-size state.
     *
     * @param layer the layer's index
     * @return whether it is an attention layer
     */
    public boolean isAttentionLayer(int layer) {
        return layers.get(layer).isAttention();
    }

    /**
     * The first piece of an inference forward taken apart ({@link #forwardLayers}, {@link
     * #outputLogits}): the token embeddings.
     *
     * @param ps the parameter store
     * @param inputIds int64 {@code [batch, length]}
     * @return the hidden states {@code [batch, length, hidden]} that enter the first layer
     */
    public NDArray embed(ParameterStore ps, NDArray inputIds) {
        return embedding.embed(ps, inputIds, false);
    }

    /**
     * Runs layers {@code from} to {@code to - 1} of an inference forward taken apart, each with its
     * intermediates on a manager of its own, through the cache; the caller has advanced the cache
     * over the positions and gives their context (as {@link #forward} does before its layers). A
     * recorded decoding step runs its pieces of layers this way, and its attention layers between
     * them.
     *
     * @param ps the parameter store
     * @param h the hidden states entering layer {@code from} (left open)
     * @param cache the cache, already advanced over these positions
     * @param context the positions' mask and offset (the cache's position before it advanced)
     * @param from the first layer
     * @param to one past the last layer
     * @return the hidden states leaving layer {@code to - 1} ({@code h} itself when the range is
     *     empty)
     */
    public NDArray forwardLayers(
            ParameterStore ps,
            NDArray h,
            InferenceCache cache,
            SequenceContext context,
            int from,
            int to) {
        NDArray out = h;
        for (int i = from; i < to; i++) {
            out = inferLayer(layers.get(i), ps, out, context, cache.layer(i), i > from);
        }
        return out;
    }

    /**
     * The last piece of an inference forward taken apart: the final norm and the logits of every
     * position.
     *
     * @param ps the parameter store
     * @param h the hidden states leaving the last layer
     * @return the logits {@code [batch, length, vocab]}
     */
    public NDArray outputLogits(ParameterStore ps, NDArray h) {
        return vocabLogits(ps, finalNorm.forward(ps, h, false), false);
    }

    /** The LM head's logits of normalised hidden states, cut to the vocabulary. */
    private NDArray vocabLogits(ParameterStore ps, NDArray normed, boolean training) {
        TokenEmbedding head = lmHead == null ? embedding : lmHead;
        NDArray weight = ps.getValue(head.weight(), normed.getDevice(), training);
        NDArray headT = weight.transpose();
        // the view belongs to this call, not to the model's manager that holds the weight
        headT.attach(normed.getManager());
        NDArray logits = normed.matMul(headT);
        if (weight.getShape().get(0) != config.vocabSize()) {
            logits = logits.get("..., 0:{}", config.vocabSize());
        }
        return logits;
    }

    /**
     * Runs one layer outside training with its intermediates on a manager of their own, closed when
     * the layer is done: only the layer's output (and the cache's new states, which the cache owns)
     * outlive it, so that the working memory of a long prompt is one layer's, not the whole
     * stack's.
     */
    private static NDArray inferLayer(
            SequenceBlock layer,
            ParameterStore ps,
            NDArray h,
            SequenceContext context,
            LayerState state,
            boolean closeInput) {
        NDManager outer = h.getManager();
        NDArray out;
        try (NDManager scope = outer.newSubManager()) {
            h.tempAttach(scope);
            out = layer.forward(ps, h, context, state, false);
            out.attach(outer);
        }
        if (closeInput) {
            h.close();
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        if (inputs.size() >= 3) {
            return forwardWithStates(ps, inputs, training);
        }
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;
        LanguageModelOutput out =
                forward(ps, inputs.get(0), mask, null, outputHiddenStates, training);
        NDArray logits = out.logits();
        if (logits.getDataType() != DataType.FLOAT32) {
            // the contract of the Criteria output: float32 logits whatever the weights' dtype
            logits = logits.toType(DataType.FLOAT32, false);
        }
        NDList list = new NDList(logits);
        list.addAll(out.hiddenStates());
        return list;
    }

    /**
     * The layout of DJL's {@code TextGenerator}: {@code (input_ids, position_ids, attention_mask
     * [batch, past + length], states...)} in, {@code (logits, states...)} out, where the states are
     * those of {@link InferenceCache#toStates()} (none on the first call).
     */
    private NDList forwardWithStates(ParameterStore ps, NDList inputs, boolean training) {
        NDArray ids = inputs.get(0);
        NDArray fullMask = inputs.get(2);
        long length = ids.getShape().get(1);
        long past = fullMask.getShape().get(1) - length;
        boolean[] attention = new boolean[layers.size()];
        for (int i = 0; i < attention.length; i++) {
            attention[i] = layers.get(i).isAttention();
        }
        NDManager manager = ids.getManager();
        NDArray pastMask = past > 0 ? fullMask.get(":, 0:{}", past) : null;
        if (pastMask != null && pastMask.min().toType(DataType.INT64, false).getLong() == 1L) {
            pastMask = null;
        }
        InferenceCache cache =
                inputs.size() == 3
                        ? newCache(manager, (int) ids.getShape().get(0))
                        : InferenceCache.fromStates(
                                manager, attention, inputs.subNDList(3), pastMask, past);
        NDArray mask = fullMask.get(":, {}:", past);
        NDList out = new NDList(forward(ps, ids, mask, cache, false, training).logits());
        out.addAll(cache.toStates());
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape ids = inputShapes[0];
        Shape logits = ids.add(config.vocabSize());
        if (!outputHiddenStates) {
            return new Shape[] {logits};
        }
        Shape[] shapes = new Shape[layers.size() + 2];
        shapes[0] = logits;
        for (int i = 1; i < shapes.length; i++) {
            shapes[i] = ids.add(config.hiddenSize());
        }
        return shapes;
    }

    /**
     * Loads every parameter from a checkpoint, by name. Call it on a freshly built model, before
     * {@code initialize}; each tensor is copied (the checkpoint may be closed afterwards).
     *
     * @param checkpoint the open checkpoint
     * @param manager the manager that will own the parameter arrays
     * @param dataType the data type of the parameters (for example FLOAT32)
     * @throws IllegalArgumentException if a weight is missing or has the wrong shape
     * @throws IllegalStateException if a parameter already holds an array
     */
    public void loadWeights(Checkpoint checkpoint, NDManager manager, DataType dataType) {
        loadWeights(checkpoint, t -> t.toNDArray(manager, dataType));
    }

    /**
     * Loads every parameter from a checkpoint, by name, creating each array with the given reader
     * (an engine that places weights its own way: another dtype per tensor, straight from the
     * mapped file). The names and shapes are checked as {@link #loadWeights(Checkpoint, NDManager,
     * DataType)} does; on failure every array already read is closed and no parameter is set.
     *
     * @param checkpoint the open checkpoint
     * @param reader creates the parameter array of one tensor (the checkpoint may be closed
     *     afterwards, so the array must own its data)
     * @throws IllegalArgumentException if a weight is missing or has the wrong shape
     * @throws IllegalStateException if a parameter already holds an array
     */
    public void loadWeights(Checkpoint checkpoint, Function<TensorData, NDArray> reader) {
        loadWeights(
                checkpoint::contains,
                checkpoint::tensor,
                "the checkpoint in " + checkpoint.directory(),
                reader);
    }

    /**
     * Loads every parameter from a tensor source (for example a {@code SafetensorsFile} written by
     * {@link #saveSafetensors(Path)}), by name, as {@link #loadWeights(Checkpoint, NDManager,
     * DataType)} does.
     *
     * @param source the tensors, under Hugging Face names
     * @param manager the manager that will own the parameter arrays
     * @param dataType the data type of the parameters
     */
    public void loadWeights(TensorSource source, NDManager manager, DataType dataType) {
        loadWeights(
                source::contains,
                source::tensor,
                source.toString(),
                t -> t.toNDArray(manager, dataType));
    }

    private void loadWeights(
            Predicate<String> contains,
            Function<String, TensorData> lookup,
            String origin,
            Function<TensorData, NDArray> reader) {
        Map<String, Parameter> params = namedParameters();
        Map<String, NDArray> loaded = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                String name = e.getKey();
                Parameter p = e.getValue();
                if (p.isInitialized()) {
                    throw new IllegalStateException(
                            "loadWeights: parameter "
                                    + name
                                    + " is already initialised; load into a new CausalLM");
                }
                if (!contains.test(name)) {
                    throw new IllegalArgumentException(
                            origin
                                    + " has no weight "
                                    + name
                                    + " that a "
                                    + config.family()
                                    + " model with this config needs");
                }
                TensorData tensor = lookup.apply(name);
                Shape expected = declaredShapes.get(p);
                Shape actual = tensor.djlShape();
                boolean table = p == embedding.weight() || (lmHead != null && p == lmHead.weight());
                boolean ok =
                        table
                                ? actual.dimension() == 2
                                        && actual.get(1) == config.hiddenSize()
                                        && actual.get(0) >= config.vocabSize()
                                : actual.equals(expected);
                if (!ok) {
                    throw new IllegalArgumentException(
                            "weight "
                                    + name
                                    + " in "
                                    + origin
                                    + " has shape "
                                    + actual
                                    + " but the config implies "
                                    + expected
                                    + "; the config and the weights disagree");
                }
                loaded.put(name, reader.apply(tensor));
            }
        } catch (RuntimeException ex) {
            loaded.values().forEach(NDArray::close);
            throw ex;
        }
        for (Map.Entry<String, NDArray> e : loaded.entrySet()) {
            params.get(e.getKey()).setArray(e.getValue());
        }
    }

    /**
     * Saves every parameter as a safetensors file in the Hugging Face layout of the family (the
     * names of {@link #namedParameters()}; a tied LM head is not stored, as transformers does).
     *
     * @param file the file to write
     * @throws IOException if the file cannot be written
     */
    public void saveSafetensors(Path file) throws IOException {
        List<TensorData> tensors = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : namedParameters().entrySet()) {
            if (!e.getValue().isInitialized()) {
                throw new IllegalStateException(
                        "saveSafetensors: parameter " + e.getKey() + " is not initialised");
            }
            tensors.add(TensorData.fromNDArray(e.getKey(), e.getValue().getArray()));
        }
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
    }

    /**
     * Writes the parameter payload that stands for "weights already loaded from the checkpoint"
     * (see {@link MambaBlockFactory}).
     *
     * @param os the stream of a DJL parameter file, after its header
     * @throws IOException if the stream fails
     */
    static void writeCheckpointMarker(DataOutputStream os) throws IOException {
        os.writeByte(0);
        os.writeUTF(CHECKPOINT_MARKER);
    }

    /**
     * Loads parameters saved by DJL ({@code Model.save}); a parameter file written by {@link
     * MambaBlockFactory} instead only confirms that the weights were loaded from the checkpoint.
     *
     * @param manager the manager of the parameters
     * @param is the stream
     * @throws IOException if the stream fails
     * @throws MalformedModelException if the data do not fit this model
     */
    @Override
    public void loadParameters(NDManager manager, DataInputStream is)
            throws IOException, MalformedModelException {
        is.mark(256);
        if (is.readByte() == 0) {
            String marker = is.readUTF();
            if (!CHECKPOINT_MARKER.equals(marker)) {
                throw new MalformedModelException("Unknown mamba-djl parameter file: " + marker);
            }
            if (!namedParameters().values().stream().allMatch(Parameter::isInitialized)) {
                throw new MalformedModelException(
                        "The parameter file says the weights come from the checkpoint, but they"
                                + " were not loaded; load with MambaBlockFactory as blockFactory");
            }
            return;
        }
        is.reset();
        super.loadParameters(manager, is);
    }

    /**
     * Returns every parameter under its Hugging Face checkpoint name, in block order.
     *
     * @return the parameters by name
     */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect(this, "", out);
        return out;
    }

    private void collect(Block block, String prefix, Map<String, Parameter> out) {
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
            out.put(prefix + p.getKey(), p.getValue());
            if (block instanceof ShapedBlock shaped) {
                declaredShapes.put(p.getValue(), shaped.declaredShape(p.getValue()));
            }
        }
        for (Pair<String, Block> child : block.getChildren()) {
            String name = child.getKey().replaceFirst("^\\d+", "");
            collect(child.getValue(), prefix + name + ".", out);
        }
    }
}
