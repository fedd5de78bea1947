package io.github.mambadjl.hub;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** The rule of {@link FileSelector#checkpoint()}: metadata files plus one set of weights. */
final class CheckpointFiles {

    private static final Set<String> METADATA =
            Set.of(
                    "config.json",
                    "params.json",
                    "generation_config.json",
                    "tokenizer.json",
                    "tokenizer_config.json",
                    "special_tokens_map.json",
                    "added_tokens.json",
                    "vocab.json",
                    "merges.txt");

    private CheckpointFiles() {}

    static List<String> select(List<String> files) {
        List<String> top =
                files.stream().filter(f -> !f.contains("/")).collect(Collectors.toList());
        List<String> weights = firstNonEmpty(top);
        if (weights.isEmpty()) {
            return weights;
        }
        List<String> out = new ArrayList<>();
        for (String f : top) {
            if (METADATA.contains(f) || f.startsWith("tokenizer.model") || weights.contains(f)) {
                out.add(f);
            }
        }
        return out;
    }

    private static List<String> firstNonEmpty(List<String> top) {
        List<Predicate<String>> preferences =
                List.of(
                        f ->
                                (f.startsWith("model") && f.endsWith(".safetensors"))
                                        || f.equals("model.safetensors.index.json"),
                        f ->
                                f.startsWith("consolidated") && f.endsWith(".safetensors")
                                        || f.equals("consolidated.safetensors.index.json"),
                        f ->
                                (f.startsWith("pytorch_model") && f.endsWith(".bin"))
                                        || f.equals("pytorch_model.bin.index.json"));
        for (Predicate<String> p : preferences) {
            List<String> w = top.stream().filter(p).collect(Collectors.toList());
            if (w.stream().anyMatch(f -> !f.endsWith(".json"))) {
                return w;
            }
        }
        return new ArrayList<>();
    }
}
