package io.github.mambadjl.zoo;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.inference.streaming.StreamingTranslator;
import ai.djl.ndarray.NDList;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Streaming text generation {@code String -> TextStream}, following DJL's streaming conventions:
 * {@code predictor.streamingPredict(prompt).getIterativeOutput()} returns a {@link TextStream}
 * whose pieces are computed as they are read (one model step per token, through the cache); {@code
 * predictor.predict(prompt)} generates first and returns the whole text as one piece. Only the
 * iterative mode of {@link StreamOutput} is supported.
 */
public class StreamingTextGenerationTranslator
        implements StreamingTranslator<String, TextStream>,
                NoBatchifyTranslator<String, TextStream> {

    private final HuggingFaceTokenizer tokenizer;
    private final List<String> stops;

    /**
     * Creates the translator.
     *
     * @param tokenizer the model's tokenizer
     * @param stops the stop strings
     */
    public StreamingTextGenerationTranslator(HuggingFaceTokenizer tokenizer, List<String> stops) {
        this.tokenizer = tokenizer;
        this.stops = List.copyOf(stops);
    }

    /** {@inheritDoc} */
    @Override
    public NDList processInput(TranslatorContext ctx, String prompt) {
        return TextGenerationTranslator.encode(tokenizer, ctx, prompt);
    }

    /** {@inheritDoc} */
    @Override
    public TextStream processOutput(TranslatorContext ctx, NDList list) {
        Iterator<long[]> all = Collections.singletonList(list.head().toLongArray()).iterator();
        return new TextStream(tokenizer, new StopStrings(stops), all, () -> {});
    }

    /** {@inheritDoc} */
    @Override
    public StreamOutput<TextStream> processStreamOutput(
            TranslatorContext ctx, Stream<NDList> list) {
        return new StreamOutput<>() {
            @Override
            protected TextStream buildAsyncOutput() {
                throw new UnsupportedOperationException(
                        "Text streams are iterative: use getIterativeOutput()");
            }

            @Override
            protected void computeAsyncOutputInternal(TextStream output) {
                throw new UnsupportedOperationException(
                        "Text streams are iterative: use getIterativeOutput()");
            }

            @Override
            public TextStream getIterativeOutputInternal() {
                Iterator<long[]> steps =
                        list.map(StreamingTextGenerationTranslator::ids).iterator();
                return new TextStream(tokenizer, new StopStrings(stops), steps, list::close);
            }
        };
    }

    private static long[] ids(NDList step) {
        long[] ids = step.head().toLongArray();
        step.close();
        return ids;
    }

    /** {@inheritDoc} */
    @Override
    public Support getSupport() {
        return Support.ITERATIVE;
    }
}
