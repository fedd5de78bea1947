package io.github.mambadjl.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locates the golden fixtures (system property {@code mambadjl.fixtures}). */
public final class Fixtures {

    private Fixtures() {}

    /**
     * Returns the directory of one fixture.
     *
     * @param name the fixture name, for example {@code mamba-tiny}
     * @return the directory
     */
    public static Path dir(String name) {
        String root = System.getProperty("mambadjl.fixtures");
        if (root == null) {
            throw new IllegalStateException(
                    "System property mambadjl.fixtures is not set; run the tests through Maven");
        }
        Path dir = Paths.get(root, name);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("Missing fixture directory " + dir);
        }
        return dir;
    }
}
