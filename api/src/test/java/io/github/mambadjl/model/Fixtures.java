package io.github.mambadjl.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locates the golden fixtures of the repository. */
final class Fixtures {

    private Fixtures() {}

    static Path root() {
        String dir = System.getProperty("mambadjl.fixtures");
        if (dir == null) {
            throw new IllegalStateException(
                    "System property mambadjl.fixtures is not set; run the tests through Maven");
        }
        Path root = Paths.get(dir);
        if (!Files.isDirectory(root)) {
            throw new IllegalStateException("mambadjl.fixtures " + root + " is not a directory");
        }
        return root;
    }

    /** The folder whose goldens a model folder is checked against. */
    static Path goldens(String model) {
        return root().resolve(model.equals("mamba-tiny-ssm") ? "mamba-tiny" : model)
                .resolve("golden.safetensors");
    }
}
