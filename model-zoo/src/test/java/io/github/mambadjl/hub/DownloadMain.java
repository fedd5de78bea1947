package io.github.mambadjl.hub;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Downloads a snapshot in its own JVM, for the test of two processes sharing one cache.
 *
 * <p>Arguments: endpoint, cache folder, repository id. Prints the snapshot folder.
 */
public final class DownloadMain {

    private DownloadMain() {}

    /**
     * Runs one download.
     *
     * @param args endpoint, cache folder, repository id
     * @throws Exception if the download fails
     */
    public static void main(String[] args) throws Exception {
        HubSettings settings =
                HubSettings.builder()
                        .endpoint(args[0])
                        .hubCache(Paths.get(args[1]))
                        .progressThreshold(Long.MAX_VALUE)
                        .build();
        Path dir = new SnapshotDownloader(settings).download(args[2]);
        System.out.println(dir);
    }
}
