package io.github.mambadjl.hub;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads the files of a repository that a {@link FileSelector} chooses into the cache, as {@code
 * snapshot_download} does, and returns the snapshot folder. The file list comes from the Hub at run
 * time; offline (or when the Hub cannot be reached) the cached snapshot answers.
 *
 * <pre>{@code
 * SnapshotDownloader hub = new SnapshotDownloader(HubSettings.fromEnvironment());
 * Path dir = hub.download(RepoId.of("state-spaces/mamba-130m-hf"), "main", FileSelector.checkpoint());
 * }</pre>
 */
public class SnapshotDownloader {

    private static final Logger logger = LoggerFactory.getLogger(SnapshotDownloader.class);

    private final FileDownloader files;

    /**
     * Creates a downloader with DJL's progress bar.
     *
     * @param settings the Hub settings
     */
    public SnapshotDownloader(HubSettings settings) {
        this(new FileDownloader(settings));
    }

    /**
     * Creates a downloader on a file downloader.
     *
     * @param files downloads each file
     */
    public SnapshotDownloader(FileDownloader files) {
        this.files = files;
    }

    /**
     * Returns the file downloader.
     *
     * @return the file downloader
     */
    public FileDownloader getFileDownloader() {
        return files;
    }

    /**
     * Downloads the checkpoint files of a repository's {@code main} branch.
     *
     * @param repoId for example {@code state-spaces/mamba-130m-hf}
     * @return the snapshot folder
     * @throws IOException if the files cannot be had
     */
    public Path download(String repoId) throws IOException {
        return download(RepoId.of(repoId), "main", FileSelector.checkpoint());
    }

    /**
     * Downloads the chosen files of a repository at a revision and returns the snapshot folder.
     *
     * @param repo the repository
     * @param revision a branch, tag or commit
     * @param selector chooses the files
     * @return {@code snapshots/<commit>} in the cache
     * @throws IOException if the files cannot be had: {@link GatedRepoException}, {@link
     *     HubNotFoundException}, {@link CacheMissException} (offline), {@link IntegrityException},
     *     {@link HubConnectionException}
     */
    public Path download(RepoId repo, String revision, FileSelector selector) throws IOException {
        HubCache cache = files.getCache();
        if (files.getClient().getSettings().isOffline()) {
            return fromCache(repo, revision, selector, "HF_HUB_OFFLINE=1 is set");
        }
        RepoInfo info;
        try {
            info = files.getClient().modelInfo(repo, revision);
        } catch (HubConnectionException e) {
            logger.warn("The Hub cannot be reached ({}); trying the cache", e.getMessage());
            try {
                return fromCache(repo, revision, selector, "the Hub cannot be reached");
            } catch (CacheMissException miss) {
                miss.addSuppressed(e);
                throw miss;
            }
        }
        List<String> chosen = selector.select(info.getFileNames());
        if (chosen.isEmpty()) {
            throw new HubNotFoundException(
                    "None of the "
                            + info.getFiles().size()
                            + " files of '"
                            + repo
                            + "' at revision '"
                            + revision
                            + "' was selected "
                            + info.getFileNames()
                            + "; the repository has no weights in a supported layout"
                            + " (model*.safetensors, consolidated.safetensors,"
                            + " pytorch_model*.bin).");
        }
        for (String name : chosen) {
            files.download(repo, info.getSha(), name);
        }
        cache.writeRef(repo, revision, info.getSha());
        return cache.snapshotFolder(repo, info.getSha());
    }

    private Path fromCache(RepoId repo, String revision, FileSelector selector, String why)
            throws IOException {
        HubCache cache = files.getCache();
        Optional<String> commit = cache.resolveRevision(repo, revision);
        if (commit.isEmpty()) {
            throw new CacheMissException(
                    "'"
                            + repo
                            + "' at revision '"
                            + revision
                            + "' is not in the Hugging Face cache at "
                            + cache.repoFolder(repo)
                            + " and "
                            + why
                            + ". Download it once online (unset HF_HUB_OFFLINE), or set"
                            + " HF_HUB_CACHE to a cache that holds it.");
        }
        List<String> present = cache.listSnapshot(repo, commit.get());
        List<String> chosen = selector.select(present);
        if (chosen.isEmpty()) {
            throw new CacheMissException(
                    "The cached snapshot "
                            + cache.snapshotFolder(repo, commit.get())
                            + " of '"
                            + repo
                            + "' lacks the files needed (it holds "
                            + present
                            + ") and "
                            + why
                            + ". Download it once online (unset HF_HUB_OFFLINE).");
        }
        for (String name : chosen) {
            files.download(repo, commit.get(), name);
        }
        return cache.snapshotFolder(repo, commit.get());
    }
}
