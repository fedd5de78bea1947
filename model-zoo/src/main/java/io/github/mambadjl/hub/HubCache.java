package io.github.mambadjl.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The cache of {@code huggingface_hub} ({@code HF_HUB_CACHE}), laid out as it lays it out:
 *
 * <pre>
 * models--{org}--{name}/
 *   blobs/{etag}                       the file contents, named by ETag
 *   snapshots/{commit}/{filename}      relative symbolic links to ../../blobs/{etag}
 *   refs/{revision}                    the commit a branch or tag pointed to
 * .locks/models--{org}--{name}/{etag}.lock
 * </pre>
 *
 * <p>Where the file system cannot make symbolic links, the snapshot holds a copy of the blob, as
 * {@code huggingface_hub} does.
 */
public final class HubCache {

    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path root;

    /**
     * Creates a view of a cache folder; nothing is created until a file is stored.
     *
     * @param root the cache folder ({@code HF_HUB_CACHE})
     */
    public HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /**
     * Returns the cache folder.
     *
     * @return the root
     */
    public Path getRoot() {
        return root;
    }

    /**
     * Returns the folder of a repository.
     *
     * @param repo the repository
     * @return {@code <root>/models--org--name}
     */
    public Path repoFolder(RepoId repo) {
        return root.resolve(repo.cacheFolderName());
    }

    /**
     * Returns the path of a blob.
     *
     * @param repo the repository
     * @param etag the normalized ETag
     * @return {@code blobs/<etag>}
     */
    public Path blobPath(RepoId repo, String etag) {
        if (etag.isEmpty() || etag.contains("/") || etag.contains("\\") || etag.startsWith(".")) {
            throw new IllegalArgumentException("Invalid ETag for a blob name: '" + etag + "'");
        }
        return repoFolder(repo).resolve("blobs").resolve(etag);
    }

    /**
     * Returns the path where a blob is written while it downloads.
     *
     * @param repo the repository
     * @param etag the normalized ETag
     * @return {@code blobs/<etag>.incomplete}
     */
    public Path incompletePath(RepoId repo, String etag) {
        return blobPath(repo, etag).resolveSibling(etag + ".incomplete");
    }

    /**
     * Returns the lock file that guards the download of a blob.
     *
     * @param repo the repository
     * @param etag the normalized ETag
     * @return {@code <root>/.locks/models--org--name/<etag>.lock}
     */
    public Path lockPath(RepoId repo, String etag) {
        return root.resolve(".locks").resolve(repo.cacheFolderName()).resolve(etag + ".lock");
    }

    /**
     * Returns the folder of a snapshot.
     *
     * @param repo the repository
     * @param commit the commit sha
     * @return {@code snapshots/<commit>}
     */
    public Path snapshotFolder(RepoId repo, String commit) {
        if (!COMMIT.matcher(commit).matches()) {
            throw new IllegalArgumentException("Not a commit sha: '" + commit + "'");
        }
        return repoFolder(repo).resolve("snapshots").resolve(commit);
    }

    /**
     * Returns the path of a file in a snapshot, refusing names that leave the snapshot.
     *
     * @param repo the repository
     * @param commit the commit sha
     * @param filename the path of the file in the repository
     * @return {@code snapshots/<commit>/<filename>}
     */
    public Path snapshotPath(RepoId repo, String commit, String filename) {
        Path folder = snapshotFolder(repo, commit);
        Path p = folder.resolve(filename).normalize();
        if (!p.startsWith(folder) || p.equals(folder) || filename.contains("\\")) {
            throw new IllegalArgumentException(
                    "File name '" + filename + "' of " + repo + " would leave the snapshot folder");
        }
        return p;
    }

    /**
     * Returns the path of a ref file.
     *
     * @param repo the repository
     * @param revision a branch or tag, e.g. {@code main} or {@code refs/pr/1}
     * @return {@code refs/<revision>}
     */
    public Path refPath(RepoId repo, String revision) {
        Path refs = repoFolder(repo).resolve("refs");
        Path p = refs.resolve(revision).normalize();
        if (!p.startsWith(refs) || p.equals(refs)) {
            throw new IllegalArgumentException("Invalid revision name: '" + revision + "'");
        }
        return p;
    }

    /**
     * Returns whether a revision is a full commit sha.
     *
     * @param revision the revision
     * @return {@code true} for 40 lower-case hex digits
     */
    public static boolean isCommit(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    /**
     * Finds the commit a revision resolves to in the cache: a commit sha resolves to itself when
     * its snapshot exists, a branch or tag through {@code refs/<revision>}.
     *
     * @param repo the repository
     * @param revision a branch, tag or commit
     * @return the commit sha, if the cache knows it
     * @throws IOException if the ref file cannot be read
     */
    public Optional<String> resolveRevision(RepoId repo, String revision) throws IOException {
        if (isCommit(revision)) {
            return Files.isDirectory(snapshotFolder(repo, revision))
                    ? Optional.of(revision)
                    : Optional.empty();
        }
        Path ref = refPath(repo, revision);
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        String commit = Files.readString(ref, StandardCharsets.UTF_8).trim();
        return isCommit(commit) ? Optional.of(commit) : Optional.empty();
    }

    /**
     * Records that a revision points to a commit ({@code refs/<revision>}); does nothing when the
     * revision is the commit itself.
     *
     * @param repo the repository
     * @param revision a branch or tag
     * @param commit the commit sha
     * @throws IOException if the ref cannot be written
     */
    public void writeRef(RepoId repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = refPath(repo, revision);
        Optional<String> current = resolveRevision(repo, revision);
        if (current.isPresent() && current.get().equals(commit)) {
            return;
        }
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(ref.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        moveAtomically(tmp, ref);
    }

    /**
     * Returns the cached file of a revision, if present and its blob exists.
     *
     * @param repo the repository
     * @param revision a branch, tag or commit
     * @param filename the path of the file in the repository
     * @return the file in the snapshot folder
     * @throws IOException if the cache cannot be read
     */
    public Optional<Path> cachedFile(RepoId repo, String revision, String filename)
            throws IOException {
        Optional<String> commit = resolveRevision(repo, revision);
        if (commit.isEmpty()) {
            return Optional.empty();
        }
        Path p = snapshotPath(repo, commit.get(), filename);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /**
     * Returns the blob a snapshot file points to, when it is a symbolic link into {@code blobs}.
     *
     * @param snapshotFile a file in a snapshot folder
     * @return the blob
     * @throws IOException if the link cannot be read
     */
    public Optional<Path> blobOf(Path snapshotFile) throws IOException {
        if (!Files.isSymbolicLink(snapshotFile)) {
            return Optional.empty();
        }
        Path target = snapshotFile.getParent().resolve(Files.readSymbolicLink(snapshotFile));
        return Optional.of(target.normalize());
    }

    /**
     * Lists the files of a snapshot, as paths relative to it with {@code /} separators.
     *
     * @param repo the repository
     * @param commit the commit sha
     * @return the file names, sorted
     * @throws IOException if the folder cannot be listed
     */
    public List<String> listSnapshot(RepoId repo, String commit) throws IOException {
        Path folder = snapshotFolder(repo, commit);
        if (!Files.isDirectory(folder)) {
            return new ArrayList<>();
        }
        try (Stream<Path> s = Files.walk(folder)) {
            return s.filter(p -> !Files.isDirectory(p))
                    .map(p -> folder.relativize(p).toString().replace('\\', '/'))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    /**
     * Makes {@code snapshots/<commit>/<filename>} a relative symbolic link to the blob (or a copy
     * where links are not supported), replacing what was there atomically.
     *
     * @param repo the repository
     * @param commit the commit sha
     * @param filename the path of the file in the repository
     * @param etag the blob's ETag
     * @return the snapshot file
     * @throws IOException if the link cannot be made
     */
    public Path linkSnapshotFile(RepoId repo, String commit, String filename, String etag)
            throws IOException {
        Path blob = blobPath(repo, etag);
        Path file = snapshotPath(repo, commit, filename);
        Files.createDirectories(file.getParent());
        Path relative = file.getParent().relativize(blob);
        if (Files.isSymbolicLink(file) && Files.readSymbolicLink(file).equals(relative)) {
            return file;
        }
        Path tmp = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.createSymbolicLink(tmp, relative);
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        moveAtomically(tmp, file);
        return file;
    }

    static void moveAtomically(Path source, Path target) throws IOException {
        try {
            Files.move(
                    source,
                    target,
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
