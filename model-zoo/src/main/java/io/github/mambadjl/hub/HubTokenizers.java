package io.github.mambadjl.hub;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads the tokenizer of a downloaded repository with DJL's {@link HuggingFaceTokenizer}: the
 * repository's own {@code tokenizer.json} when it has one, else the one of a fallback repository
 * fetched through the same cache (the original state-spaces checkpoints ship no tokenizer; they
 * were trained with {@value #GPT_NEOX_20B}'s).
 */
public final class HubTokenizers {

    /** The repository whose tokenizer the original state-spaces checkpoints use. */
    public static final String GPT_NEOX_20B = "EleutherAI/gpt-neox-20b";

    /** The tokenizer files fetched from a fallback repository. */
    public static final FileSelector TOKENIZER_FILES =
            FileSelector.globs(
                    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    private static final String TOKENIZER_JSON = "tokenizer.json";

    private HubTokenizers() {}

    /**
     * Returns whether a snapshot folder holds a {@code tokenizer.json}.
     *
     * @param snapshot the folder
     * @return {@code true} if it does
     */
    public static boolean hasTokenizer(Path snapshot) {
        return Files.isRegularFile(snapshot.resolve(TOKENIZER_JSON));
    }

    /**
     * Loads the {@code tokenizer.json} of a snapshot folder.
     *
     * @param snapshot the folder
     * @param options DJL tokenizer options (e.g. {@code addSpecialTokens}), may be empty
     * @return the tokenizer; close it when done
     * @throws IOException if there is no {@code tokenizer.json} or it cannot be parsed
     */
    public static HuggingFaceTokenizer fromSnapshot(Path snapshot, Map<String, String> options)
            throws IOException {
        Path file = snapshot.resolve(TOKENIZER_JSON);
        if (!Files.isRegularFile(file)) {
            throw new IOException(
                    "No "
                            + TOKENIZER_JSON
                            + " in "
                            + snapshot
                            + "; use load(...) with a fallback repository such as "
                            + GPT_NEOX_20B
                            + ".");
        }
        try {
            return HuggingFaceTokenizer.newInstance(file, options);
        } catch (RuntimeException e) {
            throw new IOException(
                    "Cannot load the tokenizer "
                            + file
                            + " ("
                            + e.getMessage()
                            + "); the file may be truncated or of a newer tokenizers format."
                            + " Delete it from the cache to fetch it again.",
                    e);
        }
    }

    /**
     * Loads the tokenizer of a snapshot, or else that of a fallback repository downloaded (or found
     * offline) through {@code hub}.
     *
     * @param snapshot the model's snapshot folder
     * @param hub downloads the fallback tokenizer
     * @param fallback the repository to take the tokenizer from, e.g. {@link #GPT_NEOX_20B}
     * @param options DJL tokenizer options, may be empty
     * @return the tokenizer; close it when done
     * @throws IOException if neither the snapshot nor the fallback has a usable tokenizer
     */
    public static HuggingFaceTokenizer load(
            Path snapshot, SnapshotDownloader hub, RepoId fallback, Map<String, String> options)
            throws IOException {
        if (hasTokenizer(snapshot)) {
            return fromSnapshot(snapshot, options);
        }
        Path dir = hub.download(fallback, "main", TOKENIZER_FILES);
        return fromSnapshot(dir, options);
    }
}
