package io.github.mambadjl.hub;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Chooses which files of a repository to download, from the file list the Hub gives at run time.
 */
@FunctionalInterface
public interface FileSelector {

    /**
     * Returns the files to download.
     *
     * @param repoFiles all files of the repository (paths with {@code /} separators)
     * @return the chosen files; empty when the repository has nothing usable
     */
    List<String> select(List<String> repoFiles);

    /**
     * Returns a selector of all files.
     *
     * @return the selector
     */
    static FileSelector all() {
        return ArrayList::new;
    }

    /**
     * Returns a selector of the files a predicate accepts.
     *
     * @param predicate tests a file path
     * @return the selector
     */
    static FileSelector matching(Predicate<String> predicate) {
        return files -> files.stream().filter(predicate).collect(Collectors.toList());
    }

    /**
     * Returns a selector of the files that match any of the glob patterns, with the rules of {@code
     * allow_patterns} in {@code huggingface_hub} ({@code fnmatch}: {@code *} also matches {@code
     * /}; a pattern ending with {@code /} selects a folder).
     *
     * @param patterns for example {@code "*.json"}, {@code "model*.safetensors"}
     * @return the selector
     */
    static FileSelector globs(String... patterns) {
        List<Pattern> compiled =
                Arrays.stream(patterns).map(FileSelector::globToRegex).collect(Collectors.toList());
        return matching(f -> compiled.stream().anyMatch(p -> p.matcher(f).matches()));
    }

    /**
     * Returns the selector of a model checkpoint: the configuration, tokenizer and generation
     * files, plus exactly one set of weights, preferring sharded or single {@code
     * model*.safetensors} (with its index), then Mistral's {@code consolidated*.safetensors}, then
     * {@code pytorch_model*.bin}. Repositories that ship their weights twice (Codestral) are thus
     * downloaded once. Selects nothing when the repository has no weights.
     *
     * @return the selector
     */
    static FileSelector checkpoint() {
        return CheckpointFiles::select;
    }

    private static Pattern globToRegex(String glob) {
        String g = glob.endsWith("/") ? glob + "*" : glob;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char c = g.charAt(i);
            if (c == '*') {
                sb.append(".*");
            } else if (c == '?') {
                sb.append('.');
            } else if (c == '[') {
                int end = g.indexOf(']', i + 1);
                if (end < 0) {
                    sb.append("\\[");
                } else {
                    String cls = g.substring(i + 1, end);
                    if (cls.startsWith("!")) {
                        cls = "^" + cls.substring(1);
                    }
                    sb.append('[').append(cls.replace("\\", "\\\\")).append(']');
                    i = end;
                }
            } else {
                sb.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(sb.toString(), Pattern.DOTALL);
    }
}
