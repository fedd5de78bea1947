package io.github.mambadjl.zoo;

import ai.djl.Model;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.nn.Block;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorFactory;
import ai.djl.util.Pair;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.hub.HubSettings;
import io.github.mambadjl.hub.HubTokenizers;
import io.github.mambadjl.hub.RepoId;
import io.github.mambadjl.hub.SnapshotDownloader;
import io.github.mambadjl.model.CausalLM;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Makes the text-generation translators of a loaded Mamba-family model, so that {@code
 * Criteria.setTypes(String.class, String.class)} (or {@code TextStream.class}) picks them: {@link
 * TextGenerationTranslator} and {@link StreamingTextGenerationTranslator}. The zoo and the {@code
 * hf://} scheme name it in the argument {@code translatorFactory}; elsewhere pass it with {@code
 * Criteria.optTranslatorFactory}.
 *
 * <p>For a model, it
 *
 * <ul>
 *   <li>loads the tokenizer: the model directory's {@code tokenizer.json}, else that of the Hub
 *       repository named by the argument {@code tokenizerRepo} (default {@value
 *       HubTokenizers#GPT_NEOX_20B}, which the original state-spaces checkpoints were trained
 *       with), fetched with the argument {@code hubSettings} (default: the environment); the
 *       tokenizer is closed with the model;
 *   <li>reads the end-of-sequence ids ({@code eos_token_id} of {@code generation_config.json}, else
 *       of {@code config.json}, else the tokenizer's {@code <|endoftext|>} or {@code </s>});
 *   <li>reads the generation arguments ({@link GenerationArguments});
 *   <li>replaces the model's {@link CausalLM} block by a {@link TextGenerationBlock} (whose {@link
 *       TextGenerationBlock#getModel()} is the {@link CausalLM}).
 * </ul>
 *
 * <p>{@code NDList -> NDList} is not its business: a Criteria of those types gets DJL's default
 * (no-op) translator and the {@link CausalLM} block unchanged.
 */
public class TextGenerationTranslatorFactory implements TranslatorFactory {

    private static final Set<Pair<Type, Type>> TYPES =
            Set.of(
                    new Pair<>(String.class, String.class),
                    new Pair<>(String.class, TextStream.class));

    /** {@inheritDoc} */
    @Override
    public Set<Pair<Type, Type>> getSupportedTypes() {
        return TYPES;
    }

    /**
     * {@inheritDoc}
     *
     * <p>When the translator cannot be made (no tokenizer, a bad generation argument), the model is
     * closed before the exception is thrown: DJL's loader would otherwise leave it loaded. DJL
     * reports the failure as a {@code ModelNotFoundException} whose cause says what was wrong.
     */
    @Override
    public <I, O> Translator<I, O> newInstance(
            Class<I> input, Class<O> output, Model model, Map<String, ?> arguments)
            throws TranslateException {
        if (!isSupported(input, output)) {
            throw new IllegalArgumentException(
                    "Unsupported types " + input + " -> " + output + "; supported: " + TYPES);
        }
        try {
            return create(output, model, arguments);
        } catch (TranslateException | RuntimeException e) {
            // DJL's model loader drops the model it loaded when the translator cannot be made
            model.close();
            throw e;
        }
    }

    @SuppressWarnings("unchecked")
    private static <I, O> Translator<I, O> create(
            Class<O> output, Model model, Map<String, ?> arguments) throws TranslateException {
        CausalLM lm = causalLm(model);
        Path dir = model.getModelPath();
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = loadTokenizer(dir, arguments);
        } catch (IOException e) {
            throw new TranslateException("Cannot load the tokenizer of " + dir + ": " + e, e);
        }
        model.getNDManager().attachInternal(UUID.randomUUID().toString(), tokenizer);
        GenerationConfig config;
        List<String> stops;
        try {
            config = GenerationArguments.toConfig(arguments, eosTokenIds(dir, tokenizer));
            stops = GenerationArguments.stopStrings(arguments);
        } catch (IOException | IllegalArgumentException e) {
            throw new TranslateException(e.getMessage(), e);
        }
        StopStrings stopStrings = new StopStrings(stops);
        Predicate<long[]> stopWhen =
                stopStrings.isEmpty()
                        ? ids -> false
                        : ids -> stopStrings.find(tokenizer.decode(ids, true)) >= 0;
        model.setBlock(new TextGenerationBlock(lm, config, stopWhen));
        if (output == String.class) {
            return (Translator<I, O>) new TextGenerationTranslator(tokenizer, stops);
        }
        return (Translator<I, O>) new StreamingTextGenerationTranslator(tokenizer, stops);
    }

    private static CausalLM causalLm(Model model) throws TranslateException {
        Block block = model.getBlock();
        if (block instanceof CausalLM) {
            return (CausalLM) block;
        }
        if (block instanceof TextGenerationBlock) {
            return ((TextGenerationBlock) block).getModel();
        }
        throw new TranslateException(
                "The model "
                        + model.getName()
                        + " has no Mamba-family language model block (found "
                        + (block == null ? "none" : block.getClass().getName())
                        + "); load it with the argument blockFactory="
                        + ZooBlockFactory.class.getName()
                        + " and the option hasParameter=false, or through the zoo or hf://");
    }

    private static HuggingFaceTokenizer loadTokenizer(Path dir, Map<String, ?> arguments)
            throws IOException {
        Map<String, String> options = Map.of("truncation", "false", "padding", "false");
        if (HubTokenizers.hasTokenizer(dir)) {
            return HubTokenizers.fromSnapshot(dir, options);
        }
        Object s = arguments.get(ZooArguments.HUB_SETTINGS);
        HubSettings settings =
                s instanceof HubSettings ? (HubSettings) s : HubSettings.fromEnvironment();
        Object repo = arguments.get(ZooArguments.TOKENIZER_REPO);
        RepoId fallback = RepoId.of(repo == null ? HubTokenizers.GPT_NEOX_20B : repo.toString());
        return HubTokenizers.load(dir, new SnapshotDownloader(settings), fallback, options);
    }

    static long[] eosTokenIds(Path dir, HuggingFaceTokenizer tokenizer) throws IOException {
        for (String file : new String[] {"generation_config.json", "config.json"}) {
            long[] ids = eosOf(dir.resolve(file));
            if (ids != null) {
                return ids;
            }
        }
        for (String token : new String[] {"<|endoftext|>", "</s>"}) {
            long[] ids = tokenizer.encode(token, false, false).getIds();
            if (ids.length == 1 && token.equals(tokenizer.decode(ids, false))) {
                return ids;
            }
        }
        return new long[0];
    }

    private static long[] eosOf(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonElement eos;
        try (Reader reader = Files.newBufferedReader(file)) {
            JsonElement root = JsonParser.parseReader(reader);
            if (!root.isJsonObject()) {
                return null;
            }
            eos = ((JsonObject) root).get("eos_token_id");
        } catch (JsonParseException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (eos == null || eos.isJsonNull()) {
            return null;
        }
        try {
            if (eos.isJsonArray()) {
                JsonArray a = eos.getAsJsonArray();
                long[] ids = new long[a.size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = a.get(i).getAsLong();
                }
                return ids;
            }
            return new long[] {eos.getAsLong()};
        } catch (RuntimeException e) {
            throw new IOException(
                    "eos_token_id in " + file + " must be an integer or a list of them: " + eos, e);
        }
    }
}
