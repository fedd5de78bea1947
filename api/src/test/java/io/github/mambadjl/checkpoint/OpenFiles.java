package io.github.mambadjl.checkpoint;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Counts this process's open file descriptors on a file (Linux {@code /proc/self/fd}). */
final class OpenFiles {

    private OpenFiles() {}

    static int count(Path file) throws IOException {
        Path target = file.toRealPath();
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Paths.get("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).equals(target)) {
                        n++;
                    }
                } catch (IOException e) {
                    // the descriptor was closed while listing
                }
            }
        }
        return n;
    }
}
