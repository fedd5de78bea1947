package io.github.mambadjl.hub;

import ai.djl.repository.AbstractRepository;
import ai.djl.repository.Artifact;
import ai.djl.repository.MRL;
import ai.djl.repository.Metadata;
import ai.djl.repository.zoo.DefaultModelZoo;
import ai.djl.util.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * A DJL {@link ai.djl.repository.Repository} over one Hub repository, addressed as {@code
 * hf://org/name[@revision][?arguments]}. {@link #prepare(Artifact, Progress)} downloads the
 * checkpoint files ({@link FileSelector#checkpoint()}) into the Hugging Face cache, and the model
 * directory is the snapshot folder. Query arguments become the artifact's arguments (for example
 * {@code ?blockFactory=...}).
 */
public class HubRepository extends AbstractRepository {

    private final RepoId repo;
    private final String revision;
    private final HubSettings settings;
    private final Map<String, Object> defaultArguments;
    private final Map<String, String> defaultOptions;
    private volatile Path snapshot;
    private Metadata metadata;

    /**
     * Creates a repository.
     *
     * @param name the DJL repository name
     * @param uri {@code hf://org/name[@revision][?arguments]}
     * @param settings the Hub settings
     */
    public HubRepository(String name, URI uri, HubSettings settings) {
        this(name, uri, settings, Map.of(), Map.of());
    }

    /**
     * Creates a repository whose artifact carries default arguments and options, which the URL's
     * query arguments and the {@code Criteria}'s own arguments and options override.
     *
     * @param name the DJL repository name
     * @param uri {@code hf://org/name[@revision][?arguments]}
     * @param settings the Hub settings
     * @param defaultArguments the artifact's default arguments (values may be objects)
     * @param defaultOptions the artifact's default model loading options
     */
    public HubRepository(
            String name,
            URI uri,
            HubSettings settings,
            Map<String, ?> defaultArguments,
            Map<String, String> defaultOptions) {
        super(name, uri);
        this.defaultArguments = Map.copyOf(defaultArguments);
        this.defaultOptions = Map.copyOf(defaultOptions);
        String id =
                (uri.getAuthority() == null ? "" : uri.getAuthority()) + nullToEmpty(uri.getPath());
        int at = id.indexOf('@');
        String rev = at < 0 ? "main" : id.substring(at + 1);
        String repoId = at < 0 ? id : id.substring(0, at);
        if (repoId.isEmpty() || rev.isEmpty()) {
            throw new IllegalArgumentException(
                    "'"
                            + uri
                            + "' names no repository; write hf://org/name or hf://org/name@revision");
        }
        this.repo = RepoId.of(repoId);
        this.revision = rev;
        this.settings = settings;
    }

    /**
     * Returns the Hub repository.
     *
     * @return the repository id
     */
    public RepoId getRepoId() {
        return repo;
    }

    /**
     * Returns the revision asked for.
     *
     * @return a branch, tag or commit ({@code main} by default)
     */
    public String getRevision() {
        return revision;
    }

    /**
     * Returns the Hub settings this repository downloads with.
     *
     * @return the settings
     */
    public HubSettings getSettings() {
        return settings;
    }

    /** {@inheritDoc} */
    @Override
    public boolean isRemote() {
        return true;
    }

    /** {@inheritDoc} */
    @Override
    public synchronized Metadata locate(MRL mrl) {
        if (metadata == null) {
            Metadata m = new Metadata.MatchAllMetadata();
            m.setArtifactId(artifactId());
            m.setRepositoryUri(uri);
            Artifact artifact = new Artifact();
            artifact.setName(artifactId());
            artifact.setVersion(revision);
            artifact.getArguments().putAll(defaultArguments);
            artifact.getArguments().putAll(arguments);
            if (!defaultOptions.isEmpty()) {
                artifact.setOptions(new ConcurrentHashMap<>(defaultOptions));
            }
            artifact.setMetadata(m);
            m.setArtifacts(Collections.singletonList(artifact));
            metadata = m;
        }
        return metadata;
    }

    /** {@inheritDoc} */
    @Override
    public Artifact resolve(MRL mrl, Map<String, String> filter) {
        return locate(mrl).getArtifacts().get(0);
    }

    /**
     * Downloads the checkpoint files (or finds them in the cache).
     *
     * @param artifact the artifact of this repository
     * @param progress DJL's progress indicator, used for the large files; may be null
     * @throws IOException if the files cannot be had (see {@link SnapshotDownloader})
     */
    @Override
    public void prepare(Artifact artifact, Progress progress) throws IOException {
        FileDownloader files =
                progress == null
                        ? new FileDownloader(settings)
                        : new FileDownloader(new HubClient(settings), () -> progress);
        snapshot =
                new SnapshotDownloader(files).download(repo, revision, FileSelector.checkpoint());
    }

    /**
     * Returns the snapshot folder, downloading it first if needed.
     *
     * @param artifact the artifact of this repository
     * @return {@code snapshots/<commit>} in the Hugging Face cache
     * @throws IOException if the files cannot be had
     */
    @Override
    public Path getResourceDirectory(Artifact artifact) throws IOException {
        if (snapshot == null) {
            prepare(artifact, null);
        }
        return snapshot;
    }

    /** {@inheritDoc} */
    @Override
    public Path getCacheDirectory() {
        return settings.getHubCache();
    }

    /** {@inheritDoc} */
    @Override
    public Path getFile(Artifact.Item item, String path) throws IOException {
        Path dir = getResourceDirectory(item.getArtifact());
        Path p = dir.resolve(path).normalize();
        if (!p.startsWith(dir)) {
            throw new IllegalArgumentException("'" + path + "' leaves the snapshot folder " + dir);
        }
        return p;
    }

    /** {@inheritDoc} */
    @Override
    public InputStream openStream(Artifact.Item item, String path) throws IOException {
        return Files.newInputStream(getFile(item, path));
    }

    /** {@inheritDoc} */
    @Override
    public String[] listDirectory(Artifact.Item item, String path) throws IOException {
        Path dir = getFile(item, path);
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }

    /** {@inheritDoc} */
    @Override
    public List<MRL> getResources() {
        return Collections.singletonList(
                MRL.undefined(this, DefaultModelZoo.GROUP_ID, artifactId()));
    }

    private String artifactId() {
        String id = repo.getId();
        return id.substring(id.lastIndexOf('/') + 1);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
