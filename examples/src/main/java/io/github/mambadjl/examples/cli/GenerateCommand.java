package io.github.mambadjl.examples.cli;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationResult;
import io.github.mambadjl.generate.Generator;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code mamba-djl generate}: continues a prompt (text, or token ids) with a model loaded through
 * DJL Criteria, greedily or by sampling, printing text or one JSON object.
 */
final class GenerateCommand {

    static final Set<String> VALUE_OPTIONS = new HashSet<>(ModelOptions.VALUE_OPTIONS);
    static final Set<String> FLAGS = Set.of("greedy", "stream", "verbose", "help");

    static {
        VALUE_OPTIONS.addAll(
                List.of(
                        "input-ids",
                        "max-new-tokens",
                        "temperature",
                        "top-k",
                        "top-p",
                        "min-p",
                        "repetition-penalty",
                        "seed",
                        "format"));
    }

    static final String USAGE =
            String.join(
                    "\n",
                    "usage: mamba-djl generate [options] [PROMPT...]",
                    "",
                    "Continues PROMPT (text) or --input-ids with a Mamba-family model.",
                    "",
                    "  --model M               a checkpoint directory, djl://io.github.mambadjl/NAME,",
                    "                          or a Hugging Face Hub id such as"
                            + " state-spaces/mamba-130m-hf",
                    "                          (default: the embedded King James Bible model)",
                    "  --input-ids 1,2,3       the prompt as token ids instead of text",
                    "  --engine Mamba|PyTorch  the DJL engine (default "
                            + ModelOptions.DEFAULT_ENGINE
                            + ")",
                    "  --device cpu|gpu        (default cpu)",
                    "  --dtype float32|float16|bfloat16   weights' dtype (Mamba engine)",
                    "  --max-new-tokens N      (default 200)",
                    "  --greedy                always take the most likely token",
                    "  --temperature T         sample at temperature T (default 0.8)",
                    "  --top-k K, --top-p P, --min-p P, --repetition-penalty R, --seed S",
                    "  --stream                print tokens as they are generated",
                    "  --format text|json      json: one object with \"ids\" and \"text\"",
                    "  --verbose               stack traces and DJL's log on errors");

    private GenerateCommand() {}

    /**
     * Runs the command.
     *
     * @param args the parsed options
     * @param out where the result goes
     * @return the exit status
     * @throws UsageException for a malformed command line
     * @throws CliException if the model cannot be loaded or run
     */
    static int run(CliArguments args, PrintStream out) throws UsageException, CliException {
        ModelOptions modelOptions = ModelOptions.from(args);
        boolean json = args.choice("format", "text", "text", "json").equals("json");
        boolean stream = args.has("stream");
        if (json && stream) {
            throw new UsageException("--stream prints text; leave it out with --format json");
        }
        String prompt = String.join(" ", args.positionals());
        String idsText = args.value("input-ids");
        if (idsText != null && !prompt.isEmpty()) {
            throw new UsageException("give either a text prompt or --input-ids, not both");
        }
        if (idsText == null && prompt.isEmpty()) {
            throw new UsageException("give a prompt (text) or --input-ids 1,2,3");
        }
        GenerationConfig.Builder config =
                GenerationConfig.builder().optMaxNewTokens(args.intValue("max-new-tokens", 200, 1));
        boolean sampling =
                args.has("temperature")
                        || args.has("top-k")
                        || args.has("top-p")
                        || args.has("min-p")
                        || args.has("seed");
        if (args.has("greedy") && sampling) {
            throw new UsageException(
                    "--greedy cannot be combined with --temperature, --top-k, --top-p, --min-p"
                            + " or --seed");
        }
        if (args.has("greedy")) {
            config.greedy();
        } else {
            config.optSample(args.floatValue("temperature", 0.8f, 1e-3f, 100f));
            config.optTopK(args.intValue("top-k", 0, 0));
            config.optTopP(args.floatValue("top-p", 1f, 1e-6f, 1f));
            config.optMinP(args.floatValue("min-p", 0f, 0f, 1f));
            if (args.has("seed")) {
                config.optSeed(parseSeed(args.value("seed")));
            }
        }
        config.optRepetitionPenalty(args.floatValue("repetition-penalty", 1f, 1e-3f, 100f));

        try (LoadedModel model = LoadedModel.load(modelOptions)) {
            HuggingFaceTokenizer tokenizer = model.tokenizer();
            int vocab = model.lm().config().vocabSize();
            long[] promptIds;
            if (idsText != null) {
                promptIds = TokenIds.parse(idsText, vocab);
            } else {
                if (tokenizer == null) {
                    throw new CliException(
                            modelOptions.describeModel()
                                    + " has no tokenizer.json: give the prompt as --input-ids");
                }
                promptIds = tokenizer.encode(prompt).getIds();
                if (promptIds.length == 0) {
                    throw new UsageException("the prompt encodes to no token");
                }
            }
            Integer eos = model.lm().config().eosTokenId();
            if (eos != null) {
                config.optStopTokenIds(eos);
            }
            Generator generator = new Generator(model.lm(), model.zoo().getNDManager());
            long start = System.nanoTime();
            GenerationResult result;
            if (stream) {
                out.print(tokenizer == null ? joinIds(promptIds) : prompt);
                out.flush();
                StreamingDecoder decoder =
                        tokenizer == null ? null : new StreamingDecoder(tokenizer);
                result =
                        generator.generate(
                                new long[][] {promptIds},
                                config.build(),
                                (row, token) -> {
                                    out.print(decoder == null ? " " + token : decoder.add(token));
                                    out.flush();
                                });
                out.println();
            } else {
                result = generator.generate(new long[][] {promptIds}, config.build());
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long[] all = result.sequences()[0];
            long[] fresh = result.newTokens()[0];
            if (json) {
                out.println(toJson(model, promptIds, all, fresh, seconds));
            } else if (!stream) {
                out.println(tokenizer == null ? joinIds(all) : tokenizer.decode(all, true));
            }
            return 0;
        } catch (RuntimeException e) {
            throw new CliException("generation failed: " + Errors.describe(e), e);
        }
    }

    private static long parseSeed(String value) throws UsageException {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--seed must be an integer, got '" + value + "'");
        }
    }

    private static String joinIds(long[] ids) {
        StringBuilder sb = new StringBuilder();
        for (long id : ids) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(id);
        }
        return sb.toString();
    }

    private static String toJson(
            LoadedModel model, long[] prompt, long[] all, long[] fresh, double seconds) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model.options().describeModel());
        o.addProperty("engine", model.options().engine());
        o.add("ids", array(all));
        o.addProperty("prompt_length", prompt.length);
        o.add("new_ids", array(fresh));
        HuggingFaceTokenizer tokenizer = model.tokenizer();
        if (tokenizer != null) {
            o.addProperty("text", tokenizer.decode(all, true));
            o.addProperty("new_text", tokenizer.decode(fresh, true));
        }
        o.addProperty("seconds", Math.round(seconds * 1000) / 1000.0);
        Gson gson = new GsonBuilder().disableHtmlEscaping().create();
        return gson.toJson(o);
    }

    private static JsonArray array(long[] ids) {
        JsonArray a = new JsonArray();
        Arrays.stream(ids).forEach(a::add);
        return a;
    }
}
