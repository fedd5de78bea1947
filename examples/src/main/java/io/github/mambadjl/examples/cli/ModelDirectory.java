package io.github.mambadjl.examples.cli;

import io.github.mambadjl.hub.HubSettings;
import io.github.mambadjl.hub.SnapshotDownloader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The local directory of a {@code --model} value, without loading the model: for {@code info}.
 *
 * @param path the directory
 * @param temporary whether it is a temporary copy (the embedded model) to remove when done
 */
record ModelDirectory(Path path, boolean temporary) {

    private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+");

    /**
     * Finds, downloads or unpacks the directory of a model.
     *
     * @param spec the {@code --model} value, {@code null} for the embedded model
     * @return the directory, or {@code null} for a {@code djl://} URL (only DJL resolves those)
     * @throws CliException if the model cannot be found
     */
    static ModelDirectory resolve(String spec) throws CliException {
        try {
            if (spec == null) {
                return new ModelDirectory(EmbeddedModel.extract(), true);
            }
            if (spec.startsWith("djl://")) {
                return null;
            }
            String hubId = spec.startsWith("hf://") ? spec.substring(5) : null;
            Path path = Path.of(spec);
            if (hubId == null && Files.isDirectory(path)) {
                return new ModelDirectory(path.toAbsolutePath(), false);
            }
            if (hubId == null && Files.exists(path)) {
                throw new CliException(
                        "--model " + spec + " is a file; give the directory that holds it");
            }
            if (hubId == null && HUB_ID.matcher(spec).matches()) {
                hubId = spec;
            }
            if (hubId == null) {
                throw new CliException(
                        "--model "
                                + spec
                                + ": no such directory, and not a djl:// URL or a Hub repository"
                                + " id (owner/name)");
            }
            Path dir = new SnapshotDownloader(HubSettings.fromEnvironment()).download(hubId);
            return new ModelDirectory(dir, false);
        } catch (IOException | RuntimeException e) {
            throw new CliException("cannot get " + spec + ": " + Errors.describe(e), e);
        }
    }

    /**
     * Tells whether a {@code --model} value has the form of a Hub repository id.
     *
     * @param spec the value
     * @return true for {@code owner/name}
     */
    static boolean isHubId(String spec) {
        return HUB_ID.matcher(spec).matches();
    }
}
