package io.github.mambadjl.checkpoint;

import io.github.mambadjl.config.BambaConfig;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.config.ModelFamily;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The weights a model of a given configuration needs, with their shapes, under the internal names
 * of {@link WeightNames}.
 */
public final class ExpectedWeights {

    private ExpectedWeights() {}

    /**
     * Returns every weight the model needs and its shape, in a stable order. The LM head is
     * included only when the embeddings are not tied.
     *
     * @param config the configuration
     * @return an unmodifiable map from internal name to shape
     */
    public static Map<String, long[]> of(ModelConfig config) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        ModelFamily family = config.family();
        long hidden = config.hiddenSize();
        shapes.put(WeightNames.embedding(family), shape(config.paddedVocabSize(), hidden));
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            if (config instanceof MambaConfig c) {
                mamba(shapes, c, i);
            } else if (config instanceof Mamba2Config c) {
                mamba2(shapes, c, WeightNames.mixer(family, i));
            } else {
                bamba(shapes, (BambaConfig) config, i);
            }
        }
        shapes.put(WeightNames.finalNorm(family), shape(hidden));
        if (!config.tieWordEmbeddings()) {
            shapes.put(WeightNames.LM_HEAD, shape(config.paddedVocabSize(), hidden));
        }
        return Collections.unmodifiableMap(shapes);
    }

    private static void mamba(Map<String, long[]> shapes, MambaConfig c, int layer) {
        String p = WeightNames.mixer(ModelFamily.MAMBA, layer);
        long inner = c.intermediateSize();
        long hidden = c.hiddenSize();
        shapes.put(WeightNames.layer(ModelFamily.MAMBA, layer) + "norm.weight", shape(hidden));
        shapes.put(p + "in_proj.weight", shape(2 * inner, hidden));
        if (c.useBias()) {
            shapes.put(p + "in_proj.bias", shape(2 * inner));
        }
        shapes.put(p + "conv1d.weight", shape(inner, 1, c.convKernel()));
        if (c.useConvBias()) {
            shapes.put(p + "conv1d.bias", shape(inner));
        }
        shapes.put(p + "x_proj.weight", shape(c.timeStepRank() + 2L * c.stateSize(), inner));
        shapes.put(p + "dt_proj.weight", shape(inner, c.timeStepRank()));
        shapes.put(p + "dt_proj.bias", shape(inner));
        shapes.put(p + "A_log", shape(inner, c.stateSize()));
        shapes.put(p + "D", shape(inner));
        shapes.put(p + "out_proj.weight", shape(hidden, inner));
        if (c.useBias()) {
            shapes.put(p + "out_proj.bias", shape(hidden));
        }
    }

    private static void mamba2(Map<String, long[]> shapes, Mamba2Config c, String p) {
        long inner = c.intermediateSize();
        long hidden = c.hiddenSize();
        if (!p.contains(".mamba.")) {
            shapes.put(
                    p.substring(0, p.length() - "mixer.".length()) + "norm.weight", shape(hidden));
        }
        shapes.put(p + "in_proj.weight", shape(c.inProjSize(), hidden));
        if (c.useBias()) {
            shapes.put(p + "in_proj.bias", shape(c.inProjSize()));
        }
        shapes.put(p + "conv1d.weight", shape(c.convDim(), 1, c.convKernel()));
        if (c.useConvBias()) {
            shapes.put(p + "conv1d.bias", shape(c.convDim()));
        }
        shapes.put(p + "dt_bias", shape(c.numHeads()));
        shapes.put(p + "A_log", shape(c.numHeads()));
        shapes.put(p + "D", shape(c.numHeads()));
        if (c.rmsNorm()) {
            shapes.put(p + "norm.weight", shape(inner));
        }
        shapes.put(p + "out_proj.weight", shape(hidden, inner));
        if (c.useBias()) {
            shapes.put(p + "out_proj.bias", shape(hidden));
        }
    }

    private static void bamba(Map<String, long[]> shapes, BambaConfig c, int layer) {
        String p = WeightNames.layer(ModelFamily.BAMBA, layer);
        long hidden = c.hiddenSize();
        shapes.put(p + "input_layernorm.weight", shape(hidden));
        if (c.isAttentionLayer(layer)) {
            long q = (long) c.numAttentionHeads() * c.headDim();
            long kv = (long) c.numKeyValueHeads() * c.headDim();
            String a = p + "self_attn.";
            shapes.put(a + "q_proj.weight", shape(q, hidden));
            shapes.put(a + "k_proj.weight", shape(kv, hidden));
            shapes.put(a + "v_proj.weight", shape(kv, hidden));
            shapes.put(a + "o_proj.weight", shape(hidden, q));
            if (c.attentionBias()) {
                shapes.put(a + "q_proj.bias", shape(q));
                shapes.put(a + "k_proj.bias", shape(kv));
                shapes.put(a + "v_proj.bias", shape(kv));
                shapes.put(a + "o_proj.bias", shape(hidden));
            }
        } else {
            mamba2(shapes, c.mixerConfig(), WeightNames.mixer(ModelFamily.BAMBA, layer));
        }
        shapes.put(p + "pre_ff_layernorm.weight", shape(hidden));
        long mlp = c.intermediateSize();
        String f = p + "feed_forward.";
        shapes.put(f + "gate_proj.weight", shape(mlp, hidden));
        shapes.put(f + "up_proj.weight", shape(mlp, hidden));
        shapes.put(f + "down_proj.weight", shape(hidden, mlp));
        if (c.mlpBias()) {
            shapes.put(f + "gate_proj.bias", shape(mlp));
            shapes.put(f + "up_proj.bias", shape(mlp));
            shapes.put(f + "down_proj.bias", shape(hidden));
        }
    }

    /**
     * Checks that a tensor has the shape the configuration needs.
     *
     * @param tensor the tensor
     * @param expected the expected shape
     * @param source where the tensor came from, for the message
     * @throws CheckpointException if the shapes differ; the message names the tensor and both
     *     shapes
     */
    public static void checkShape(TensorData tensor, long[] expected, Object source)
            throws CheckpointException {
        long[] actual = tensor.shape();
        if (!Arrays.equals(actual, expected)) {
            throw new CheckpointException(
                    "Tensor "
                            + tensor.name()
                            + " in "
                            + source
                            + " has shape "
                            + Arrays.toString(actual)
                            + " but the configuration needs "
                            + Arrays.toString(expected)
                            + "; the weights do not belong to this config.json/params.json");
        }
    }

    private static long[] shape(long... dims) {
        return dims;
    }
}
