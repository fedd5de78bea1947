package io.github.mambadjl.zoo;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import java.util.List;

/**
 * Text generation {@code String -> String}: the prompt is tokenized, the model's {@link
 * TextGenerationBlock} generates (prefill once, then one token per step through the cache), and the
 * new tokens are decoded, special tokens skipped, the text cut before the first stop string. Made
 * by {@link TextGenerationTranslatorFactory}, which reads the generation arguments.
 */
public class TextGenerationTranslator implements NoBatchifyTranslator<String, String> {

    private final HuggingFaceTokenizer tokenizer;
    private final StopStrings stops;

    /**
     * Creates the translator.
     *
     * @param tokenizer the model's tokenizer
     * @param stops the stop strings
     */
    public TextGenerationTranslator(HuggingFaceTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = new StopStrings(stops);
    }

    /**
     * Returns the tokenizer.
     *
     * @return the tokenizer
     */
    public HuggingFaceTokenizer getTokenizer() {
        return tokenizer;
    }

    /** {@inheritDoc} */
    @Override
    public NDList processInput(TranslatorContext ctx, String prompt) {
        return encode(tokenizer, ctx, prompt);
    }

    /** {@inheritDoc} */
    @Override
    public String processOutput(TranslatorContext ctx, NDList list) {
        return stops.cut(tokenizer.decode(list.head().toLongArray(), true));
    }

    static NDList encode(HuggingFaceTokenizer tokenizer, TranslatorContext ctx, String prompt) {
        long[] ids = tokenizer.encode(prompt).getIds();
        if (ids.length == 0) {
            throw new IllegalArgumentException(
                    "The prompt '" + prompt + "' encodes to no token; give some text to continue");
        }
        return new NDList(ctx.getNDManager().create(ids, new Shape(1, ids.length)));
    }
}
