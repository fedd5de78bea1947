package io.github.mambadjl.examples;

import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import io.github.mambadjl.zoo.TextGenerationTranslatorFactory;
import io.github.mambadjl.zoo.TextStream;
import io.github.mambadjl.zoo.ZooArguments;
import io.github.mambadjl.zoo.ZooBlockFactory;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Text generation through DJL's {@code Criteria}: a {@code String -> String} model, then the
 * streaming {@code String -> TextStream} one, whose pieces are printed as they are generated.
 *
 * <pre>
 * java -cp mamba-djl.jar io.github.mambadjl.examples.CriteriaGeneration \
 *     djl://io.github.mambadjl/mamba-130m-hf "Mamba is" 32
 * </pre>
 *
 * <p>The model is a zoo URL ({@code djl://io.github.mambadjl/<name>}), a Hub repository ({@code
 * hf://org/name[@revision]}) or a local checkpoint directory (which then needs a {@code
 * tokenizer.json}, or Hub access for the GPT-NeoX one). The engine is DJL's default one.
 */
public final class CriteriaGeneration {

    private CriteriaGeneration() {}

    /**
     * Runs the example.
     *
     * @param args the model, then optionally the prompt and the number of new tokens
     * @throws Exception if the model cannot be loaded or run
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 3) {
            System.err.println(
                    "usage: CriteriaGeneration <djl://io.github.mambadjl/NAME | hf://ORG/NAME |"
                            + " checkpoint directory> [prompt] [max new tokens]");
            System.exit(2);
        }
        String prompt = args.length > 1 ? args[1] : "Mamba is";
        int maxNewTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        run(args[0], prompt, maxNewTokens, System.out);
    }

    /**
     * Generates a continuation of the prompt greedily, whole and then streamed, printing both.
     *
     * @param model a zoo URL, a Hub URL or a checkpoint directory
     * @param prompt the text to continue
     * @param maxNewTokens the number of new tokens at most
     * @param out where to print
     * @return the whole continuation and the streamed one (the same text)
     * @throws IOException if the model cannot be read or downloaded
     * @throws ModelNotFoundException if no model or translator fits the criteria
     * @throws MalformedModelException if the checkpoint is broken
     * @throws TranslateException if generation fails
     */
    public static String[] run(String model, String prompt, int maxNewTokens, PrintStream out)
            throws IOException,
                    ModelNotFoundException,
                    MalformedModelException,
                    TranslateException {
        Criteria<String, String> criteria =
                criteria(model, String.class).optArgument("maxNewTokens", maxNewTokens).build();
        String whole;
        try (ZooModel<String, String> zoo = criteria.loadModel();
                Predictor<String, String> predictor = zoo.newPredictor()) {
            whole = predictor.predict(prompt);
            out.println(prompt + whole);
        }

        Criteria<String, TextStream> streaming =
                criteria(model, TextStream.class).optArgument("maxNewTokens", maxNewTokens).build();
        StringBuilder streamed = new StringBuilder();
        try (ZooModel<String, TextStream> zoo = streaming.loadModel();
                Predictor<String, TextStream> predictor = zoo.newPredictor();
                TextStream pieces = predictor.streamingPredict(prompt).getIterativeOutput()) {
            out.print(prompt);
            while (pieces.hasNext()) {
                String piece = pieces.next();
                streamed.append(piece);
                out.print(piece);
                out.flush();
            }
            out.println();
        }
        return new String[] {whole, streamed.toString()};
    }

    private static <O> Criteria.Builder<String, O> criteria(String model, Class<O> output) {
        Criteria.Builder<String, O> builder = Criteria.builder().setTypes(String.class, output);
        Path dir = model.contains("://") ? null : Path.of(model);
        if (dir == null || !Files.isDirectory(dir)) {
            // the zoo and hf:// set the block factory, translator factory and options themselves
            return builder.optModelUrls(model);
        }
        builder.optModelPath(dir)
                .optArgument(ZooArguments.BLOCK_FACTORY, ZooBlockFactory.class.getName())
                .optTranslatorFactory(new TextGenerationTranslatorFactory());
        for (Map.Entry<String, String> option : ZooArguments.OPTIONS.entrySet()) {
            builder.optOption(option.getKey(), option.getValue());
        }
        return builder;
    }
}
