package io.github.mambadjl.hub;

import ai.djl.training.util.ProgressBar;
import ai.djl.util.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads one file of a repository into the cache, as {@code hf_hub_download} does: resolve the
 * revision to a commit and the file to an ETag with a {@code HEAD} request, download the blob once
 * (under a lock, resuming partial downloads, checking its digest), then link it from the snapshot.
 * With {@code HF_HUB_OFFLINE=1}, or when the Hub cannot be reached, the cache answers.
 */
public class FileDownloader {

    private static final Logger logger = LoggerFactory.getLogger(FileDownloader.class);

    private final HubClient client;
    private final HubCache cache;
    private final BlobTransfer transfer;

    /**
     * Creates a downloader that shows DJL's {@link ProgressBar} for large files.
     *
     * @param settings the Hub settings
     */
    public FileDownloader(HubSettings settings) {
        this(new HubClient(settings), ProgressBar::new);
    }

    /**
     * Creates a downloader.
     *
     * @param client the Hub client, whose settings also name the cache
     * @param progressFactory makes the progress indicator of each file larger than {@link
     *     HubSettings#getProgressThreshold()}
     */
    public FileDownloader(HubClient client, Supplier<Progress> progressFactory) {
        this.client = client;
        this.cache = new HubCache(client.getSettings().getHubCache());
        this.transfer = new BlobTransfer(client, progressFactory);
    }

    /**
     * Returns the Hub client.
     *
     * @return the client
     */
    public HubClient getClient() {
        return client;
    }

    /**
     * Returns the cache files are stored in.
     *
     * @return the cache
     */
    public HubCache getCache() {
        return cache;
    }

    /**
     * Returns the cached file, downloading it first if needed.
     *
     * @param repo the repository
     * @param revision a branch, tag or commit, e.g. {@code main}
     * @param filename the path of the file in the repository
     * @return the file in the snapshot folder ({@code snapshots/<commit>/<filename>})
     * @throws IOException if the file cannot be had: {@link GatedRepoException}, {@link
     *     HubNotFoundException}, {@link CacheMissException} (offline), {@link IntegrityException},
     *     {@link HubConnectionException}
     */
    public Path download(RepoId repo, String revision, String filename) throws IOException {
        HubSettings settings = client.getSettings();
        if (HubCache.isCommit(revision) || settings.isOffline()) {
            Optional<Path> cached = cache.cachedFile(repo, revision, filename);
            if (cached.isPresent() && isIntact(cached.get())) {
                return cached.get();
            }
            if (settings.isOffline()) {
                if (cached.isPresent()) {
                    throw new IntegrityException(
                            "The cached file "
                                    + cached.get()
                                    + " does not match its hash (it is corrupted) and"
                                    + " HF_HUB_OFFLINE=1 forbids downloading it again. Unset"
                                    + " HF_HUB_OFFLINE to fetch it again, or delete "
                                    + cache.repoFolder(repo));
                }
                throw cacheMiss(repo, revision, filename, "HF_HUB_OFFLINE=1 is set");
            }
        }
        FileMetadata meta;
        try {
            meta = client.fileMetadata(repo, revision, filename);
        } catch (HubConnectionException e) {
            Optional<Path> cached = cache.cachedFile(repo, revision, filename);
            if (cached.isPresent() && isIntact(cached.get())) {
                logger.warn(
                        "The Hub cannot be reached ({}); using the cached {}",
                        e.getMessage(),
                        cached.get());
                return cached.get();
            }
            throw e;
        }
        String etag = meta.getEtag();
        Path blob = cache.blobPath(repo, etag);
        if (!isIntact(blob, etag, meta.getSize())) {
            CacheLock lock = CacheLock.acquire(cache.lockPath(repo, etag));
            try {
                if (!isIntact(blob, etag, meta.getSize())) {
                    Files.deleteIfExists(blob);
                    Path incomplete = cache.incompletePath(repo, etag);
                    requireSpace(incomplete, meta.getSize(), repo, filename);
                    Map<String, String> headers = client.headers();
                    transfer.fetch(
                            repo,
                            meta.getCommitHash(),
                            filename,
                            meta.getLocation(),
                            headers,
                            incomplete,
                            meta.getSize(),
                            etag);
                    HubCache.moveAtomically(incomplete, blob);
                }
            } finally {
                lock.close();
            }
        }
        Path file = cache.linkSnapshotFile(repo, meta.getCommitHash(), filename, etag);
        cache.writeRef(repo, revision, meta.getCommitHash());
        return file;
    }

    /**
     * Returns whether a cached snapshot file is sound: its blob exists and, when {@link
     * HubSettings#isVerifyCachedBlobs()}, hashes to its name.
     *
     * @param snapshotFile a file in a snapshot folder
     * @return {@code true} if it may be used
     * @throws IOException if it cannot be read
     */
    public boolean isIntact(Path snapshotFile) throws IOException {
        Optional<Path> blob = cache.blobOf(snapshotFile);
        if (blob.isEmpty()) {
            return Files.isRegularFile(snapshotFile);
        }
        Path b = blob.get();
        return isIntact(b, b.getFileName().toString(), -1);
    }

    private boolean isIntact(Path blob, String etag, long expectedSize) throws IOException {
        if (!Files.isRegularFile(blob)) {
            return false;
        }
        if (expectedSize >= 0 && Files.size(blob) != expectedSize) {
            logger.warn("Cached blob {} has the wrong size; fetching it again", blob);
            return false;
        }
        if (client.getSettings().isVerifyCachedBlobs() && !BlobVerifier.matches(blob, etag)) {
            logger.warn("Cached blob {} does not match its hash; fetching it again", blob);
            return false;
        }
        return true;
    }

    private static void requireSpace(Path incomplete, long size, RepoId repo, String filename)
            throws IOException {
        if (size < 0) {
            return;
        }
        Path dir = incomplete.getParent();
        Files.createDirectories(dir);
        long have = Files.isRegularFile(incomplete) ? Files.size(incomplete) : 0;
        long need = size - have;
        long free = Files.getFileStore(dir).getUsableSpace();
        if (need > free) {
            throw new HubException(
                    "Not enough disk space for '"
                            + filename
                            + "' of '"
                            + repo
                            + "': "
                            + need
                            + " more bytes are needed but only "
                            + free
                            + " are free in "
                            + dir
                            + ". Free some space, or set HF_HUB_CACHE to a larger disk.");
        }
    }

    CacheMissException cacheMiss(RepoId repo, String revision, String filename, String why) {
        return new CacheMissException(
                "Cannot find '"
                        + filename
                        + "' of '"
                        + repo
                        + "' at revision '"
                        + revision
                        + "' in the Hugging Face cache at "
                        + cache.repoFolder(repo)
                        + ", and "
                        + why
                        + ". Download it once online (unset HF_HUB_OFFLINE), or set HF_HUB_CACHE"
                        + " to a cache that holds it.");
    }
}
