package io.github.mambadjl.hub;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Talks to the Hugging Face Hub's HTTP API: model info (commit and file list, read at run time) and
 * file metadata ({@code HEAD} on the {@code resolve} URL), with retries and the error messages of
 * {@code huggingface_hub}.
 */
public class HubClient {

    private final HubSettings settings;
    private final HttpTransport transport;

    /**
     * Creates a client.
     *
     * @param settings the endpoint, token, timeouts and retry policy
     */
    public HubClient(HubSettings settings) {
        this.settings = settings;
        this.transport = new HttpTransport(settings);
    }

    /**
     * Returns the settings of this client.
     *
     * @return the settings
     */
    public HubSettings getSettings() {
        return settings;
    }

    /**
     * Fetches the model info of a repository at a revision: the commit sha and the file list.
     *
     * @param repo the repository
     * @param revision a branch, tag or commit, e.g. {@code main}
     * @return the description
     * @throws IOException if the Hub refuses ({@link GatedRepoException}), does not know the
     *     repository or revision ({@link HubNotFoundException}) or cannot be reached
     */
    public RepoInfo modelInfo(RepoId repo, String revision) throws IOException {
        requireOnline(repo);
        URI uri =
                URI.create(
                        settings.getEndpoint()
                                + "/api/models/"
                                + repo.getId()
                                + "/revision/"
                                + UrlPaths.encode(revision, false));
        String body =
                transport.withRetries(
                        "Model info of " + repo + " at " + revision,
                        attempt -> {
                            HttpResponse<String> r =
                                    transport.send(
                                            "GET",
                                            uri,
                                            headers(),
                                            true,
                                            HttpResponse.BodyHandlers.ofString(
                                                    StandardCharsets.UTF_8),
                                            null);
                            checkStatus(r.statusCode(), r.headers(), uri, repo, revision, null);
                            return r.body();
                        });
        return RepoInfo.parse(repo, body);
    }

    /**
     * Fetches the metadata of one file with a {@code HEAD} request on its {@code resolve} URL,
     * following only redirects to the same host (a renamed repository) and reading the redirect to
     * the CDN of an LFS file, as {@code huggingface_hub} does.
     *
     * @param repo the repository
     * @param revision a branch, tag or commit
     * @param filename the path of the file in the repository
     * @return the commit, ETag, size and download location
     * @throws IOException if the file cannot be found, is refused, or the Hub cannot be reached
     */
    public FileMetadata fileMetadata(RepoId repo, String revision, String filename)
            throws IOException {
        requireOnline(repo);
        URI uri = resolveUrl(repo, revision, filename);
        Map<String, String> h = headers();
        h.put("Accept-Encoding", "identity");
        return transport.withRetries(
                "Metadata of " + filename + " in " + repo + " at " + revision,
                attempt -> {
                    HttpResponse<Void> r =
                            transport.send(
                                    "HEAD",
                                    uri,
                                    h,
                                    false,
                                    HttpResponse.BodyHandlers.discarding(),
                                    null);
                    int status = r.statusCode();
                    HttpHeaders hd = r.headers();
                    if (!HttpTransport.isRedirect(status)) {
                        checkStatus(status, hd, uri, repo, revision, filename);
                    }
                    String commit = hd.firstValue("X-Repo-Commit").orElse(null);
                    String etag =
                            hd.firstValue("X-Linked-Etag")
                                    .or(() -> hd.firstValue("ETag"))
                                    .orElse(null);
                    if (commit == null || etag == null) {
                        throw new HubException(
                                "The Hub sent no X-Repo-Commit or ETag header for "
                                        + uri
                                        + " (HTTP "
                                        + status
                                        + "); a proxy may be stripping headers. Check"
                                        + " HF_ENDPOINT ("
                                        + settings.getEndpoint()
                                        + ").");
                    }
                    OptionalLong size = longHeader(hd, "X-Linked-Size");
                    if (size.isEmpty()) {
                        size = longHeader(hd, "Content-Length");
                    }
                    URI location =
                            HttpTransport.isRedirect(status)
                                    ? r.uri().resolve(hd.firstValue("Location").orElseThrow())
                                    : r.uri();
                    return new FileMetadata(commit, normalizeEtag(etag), size.orElse(-1), location);
                });
    }

    /**
     * Returns the URL of a file: {@code {endpoint}/{repo_id}/resolve/{revision}/{filename}}.
     *
     * @param repo the repository
     * @param revision a branch, tag or commit
     * @param filename the path of the file in the repository
     * @return the URL
     */
    public URI resolveUrl(RepoId repo, String revision, String filename) {
        return URI.create(
                settings.getEndpoint()
                        + "/"
                        + repo.getId()
                        + "/resolve/"
                        + UrlPaths.encode(revision, false)
                        + "/"
                        + UrlPaths.encode(filename, true));
    }

    HttpTransport transport() {
        return transport;
    }

    Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("User-Agent", settings.getUserAgent());
        settings.getToken().ifPresent(t -> h.put("Authorization", "Bearer " + t));
        return h;
    }

    /** Turns an error status into the exception a user can act on; 5xx and 429 become retryable. */
    void checkStatus(
            int status, HttpHeaders h, URI uri, RepoId repo, String revision, String filename)
            throws IOException {
        if (status >= 200 && status < 300) {
            return;
        }
        String code = h.firstValue("X-Error-Code").orElse("");
        String serverMessage = h.firstValue("X-Error-Message").map(m -> " (" + m + ")").orElse("");
        if (HttpTransport.isRetryable(status)) {
            throw new HttpTransport.RetryableStatusException("HTTP " + status + serverMessage);
        }
        String tokenState =
                settings.getToken().isPresent()
                        ? "A token was sent, but it may lack access."
                        : "No token was sent.";
        if ("RepoNotFound".equals(code) || (status == 404 && code.isEmpty() && filename == null)) {
            throw new HubNotFoundException(
                    "Repository '"
                            + repo
                            + "' not found (HTTP "
                            + status
                            + ") at "
                            + uri
                            + serverMessage
                            + ". Check the repository id; if it is private or gated, set HF_TOKEN"
                            + " to a token that can read it. "
                            + tokenState);
        }
        if ("RevisionNotFound".equals(code)) {
            throw new HubNotFoundException(
                    "Revision '"
                            + revision
                            + "' not found in repository '"
                            + repo
                            + "' (HTTP "
                            + status
                            + ")"
                            + serverMessage
                            + ". Use an existing branch, tag or commit.");
        }
        if (status == 401 || status == 403) {
            throw new GatedRepoException(
                    "Access to '"
                            + repo
                            + "' was refused (HTTP "
                            + status
                            + ") at "
                            + uri
                            + serverMessage
                            + ". The repository may be gated or private: accept its terms at "
                            + settings.getEndpoint()
                            + "/"
                            + repo
                            + " while logged in, then set HF_TOKEN (or write the token to"
                            + " $HF_HOME/token). "
                            + tokenState);
        }
        if (status == 404) {
            throw new HubNotFoundException(
                    (filename == null ? "Repository or revision" : "File '" + filename + "'")
                            + " not found in '"
                            + repo
                            + "' at revision '"
                            + revision
                            + "' (HTTP 404) at "
                            + uri
                            + serverMessage
                            + ". Check the repository id, the revision and the file name.");
        }
        throw new HubException(
                "The Hub answered HTTP " + status + " for " + uri + serverMessage + ".");
    }

    static String normalizeEtag(String etag) {
        String e = etag.trim();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e.toLowerCase(Locale.ROOT).matches("[0-9a-f]{40}|[0-9a-f]{64}")
                ? e.toLowerCase(Locale.ROOT)
                : e;
    }

    private void requireOnline(RepoId repo) throws CacheMissException {
        if (settings.isOffline()) {
            throw new CacheMissException(
                    "HF_HUB_OFFLINE=1 forbids contacting the Hub for '"
                            + repo
                            + "', and the cache at "
                            + settings.getHubCache().resolve(repo.cacheFolderName())
                            + " cannot answer. Unset HF_HUB_OFFLINE once to download it.");
        }
    }

    private static OptionalLong longHeader(HttpHeaders h, String name) {
        Optional<String> v = h.firstValue(name);
        if (v.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(v.get().trim()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
