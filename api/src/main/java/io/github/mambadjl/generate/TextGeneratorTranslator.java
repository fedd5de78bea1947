package io.github.mambadjl.generate;

import ai.djl.modality.nlp.generate.CausalLMOutput;
import ai.djl.ndarray.NDList;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;

/**
 * Makes a {@link io.github.mambadjl.model.CausalLM} usable from DJL's own {@code
 * ai.djl.modality.nlp.generate.TextGenerator} (greedy search): its {@code past key values} are the
 * layer states of the model's inference cache, so every step runs one token.
 *
 * <pre>{@code
 * Predictor<NDList, CausalLMOutput> predictor = model.newPredictor(new TextGeneratorTranslator());
 * NDArray ids = new TextGenerator(predictor, "greedy", searchConfig).greedySearch(prompt);
 * }</pre>
 *
 * <p>Beam and contrastive search reshape the past values as attention keys and values and do not
 * apply to state-space layers.
 */
public final class TextGeneratorTranslator implements NoBatchifyTranslator<NDList, CausalLMOutput> {

    /** {@inheritDoc} */
    @Override
    public NDList processInput(TranslatorContext ctx, NDList input) {
        return input;
    }

    /** {@inheritDoc} */
    @Override
    public CausalLMOutput processOutput(TranslatorContext ctx, NDList list) {
        list.attach(ctx.getPredictorManager());
        return new CausalLMOutput(list.get(0), list.subNDList(1));
    }
}
