package io.github.mambadjl.examples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The small byte-level Mamba2 model inside the jar (trained on the King James Bible by {@code
 * io.github.mambadjl.examples.train.TrainEmbeddedModel}): the default model of the command line.
 */
public final class EmbeddedModel {

    /** The class-path folder that holds the model's files. */
    public static final String RESOURCE_DIR = "/io/github/mambadjl/examples/model/";

    /** The files of the model, all needed. */
    public static final List<String> FILES =
            List.of("config.json", "model.safetensors", "tokenizer.json");

    private EmbeddedModel() {}

    /**
     * Copies the model into a new temporary directory (DJL loads models from directories, and the
     * PyTorch engine writes a small marker file next to the weights).
     *
     * @return the directory; remove it with {@link #delete(Path)}
     * @throws IOException if the jar lacks a file or the copy fails
     */
    public static Path extract() throws IOException {
        Path dir = Files.createTempDirectory("mamba-djl-embedded-");
        try {
            for (String file : FILES) {
                try (InputStream in =
                        EmbeddedModel.class.getResourceAsStream(RESOURCE_DIR + file)) {
                    if (in == null) {
                        throw new IOException(
                                "the embedded model's "
                                        + file
                                        + " is missing from the class path ("
                                        + RESOURCE_DIR
                                        + "); rebuild the jar");
                    }
                    Files.copy(in, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return dir;
        } catch (IOException e) {
            delete(dir);
            throw e;
        }
    }

    /**
     * Removes a directory made by {@link #extract()} and everything in it.
     *
     * @param dir the directory
     * @throws IOException if a file cannot be removed
     */
    public static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
