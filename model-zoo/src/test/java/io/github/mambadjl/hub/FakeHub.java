package io.github.mambadjl.hub;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A loopback HTTP server that behaves as the Hugging Face Hub for the endpoints the client uses:
 * {@code /api/models/{repo}/revision/{rev}} (sha, siblings), {@code /{repo}/resolve/{rev}/{file}}
 * (ETag, X-Repo-Commit, X-Linked-Etag, X-Linked-Size, a redirect to a CDN path on another host name
 * for LFS files, Range), gated repositories (401 without the token) and injected faults (status
 * codes, stalls, connections cut mid-file, corrupted bodies).
 *
 * <p>The endpoint is {@code http://127.0.0.1:<port>}; the CDN is {@code http://localhost:<port>},
 * another host for the client, so that the {@code Authorization} header must not reach it.
 */
public final class FakeHub implements AutoCloseable {

    /** The token that opens gated repositories. */
    public static final String TOKEN = "hf_fake_test_token";

    private static final Pattern API = Pattern.compile("^/api/models/(.+)/revision/([^/]+)$");
    private static final Pattern RESOLVE = Pattern.compile("^/(.+?)/resolve/([^/]+)/(.+)$");
    private static final Pattern CDN = Pattern.compile("^/cdn/([0-9a-f]{64})$");
    private static final Pattern RANGE = Pattern.compile("^bytes=(\\d+)-$");

    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, Deque<Fault>> faults = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicLong> bytesServed = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> headLatches = new ConcurrentHashMap<>();
    private final Map<String, Long> announcedSizes = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private volatile int throttleChunk;
    private volatile long throttleDelayMs;

    private FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /**
     * Starts a server on a free loopback port.
     *
     * @return the running server
     * @throws IOException if no port can be bound
     */
    public static FakeHub start() throws IOException {
        return new FakeHub();
    }

    /**
     * Returns the folder of a golden fixture.
     *
     * @param name e.g. {@code mamba-tiny}
     * @return the folder under the {@code mambadjl.fixtures} system property
     */
    public static Path fixture(String name) {
        String root = System.getProperty("mambadjl.fixtures");
        if (root == null) {
            throw new IllegalStateException(
                    "System property mambadjl.fixtures is not set; run the tests with Maven");
        }
        return Path.of(root, name);
    }

    /**
     * Returns the endpoint ({@code HF_ENDPOINT}).
     *
     * @return {@code http://127.0.0.1:<port>}
     */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /**
     * Serves the files of a folder (recursively) as a repository.
     *
     * @param id the repository id
     * @param dir the folder
     * @return the repository
     * @throws IOException if the folder cannot be read
     */
    public Repo addRepo(String id, Path dir) throws IOException {
        SortedMap<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).collect(Collectors.toList())) {
                files.put(dir.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
            }
        }
        return addRepo(id, files);
    }

    /**
     * Serves the given files as a repository.
     *
     * @param id the repository id
     * @param files file name to contents
     * @return the repository
     */
    public Repo addRepo(String id, Map<String, byte[]> files) {
        Repo r = new Repo(id, new TreeMap<>(files));
        repos.put(id, r);
        return r;
    }

    /**
     * Queues a fault for the next request of a kind: {@code "api"}, {@code "head:<file>"} or {@code
     * "get:<file>"} (the download of the contents, on the CDN for LFS files).
     *
     * @param key the request kind
     * @param fault the fault
     */
    public void inject(String key, Fault fault) {
        faults.computeIfAbsent(key, k -> new ArrayDeque<>()).add(fault);
    }

    /**
     * Sends bodies in pieces with a pause between them (0 to turn off).
     *
     * @param chunk bytes per piece
     * @param delayMs pause after each piece
     */
    public void throttle(int chunk, long delayMs) {
        throttleChunk = chunk;
        throttleDelayMs = delayMs;
    }

    /**
     * Answers requests for an old repository id with a relative 307 redirect to the new one, as the
     * Hub does for a renamed repository.
     *
     * @param oldId the former id
     * @param newId the current id, served by this Hub
     */
    public void rename(String oldId, String newId) {
        renamed.put(oldId, newId);
    }

    /**
     * Makes the {@code HEAD} answer of a file announce another size than its own.
     *
     * @param filename the file name
     * @param size the size to announce
     */
    public void announceSize(String filename, long size) {
        announcedSizes.put(filename, size);
    }

    /**
     * Holds the contents of a file back until that many {@code HEAD} requests for it have come (or
     * 20 seconds passed), so that concurrent clients surely overlap.
     *
     * @param filename the file name
     * @param heads the number of {@code HEAD} requests to wait for
     */
    public void holdContentUntilHeads(String filename, int heads) {
        headLatches.put(filename, new CountDownLatch(heads));
    }

    /**
     * Returns the requests received so far.
     *
     * @return the requests, in order of arrival
     */
    public List<Request> requests() {
        return new ArrayList<>(requests);
    }

    /**
     * Returns the requests for the contents of a file.
     *
     * @param filename the file name
     * @return the content requests
     */
    public List<Request> contentRequests(String filename) {
        return requests.stream()
                .filter(r -> r.method.equals("GET") && filename.equals(r.file))
                .collect(Collectors.toList());
    }

    /**
     * Returns the number of content bytes written for a file.
     *
     * @param filename the file name
     * @return the bytes sent
     */
    public long bytesServed(String filename) {
        AtomicLong a = bytesServed.get(filename);
        return a == null ? 0 : a.get();
    }

    /** Forgets the recorded requests and byte counts. */
    public void clearRecords() {
        requests.clear();
        bytesServed.clear();
    }

    /** Stops the server. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            String path = ex.getRequestURI().getRawPath();
            Matcher m;
            for (Map.Entry<String, String> r : renamed.entrySet()) {
                String moved = redirectPath(path, r.getKey(), r.getValue());
                if (moved != null) {
                    record(ex, null);
                    ex.getResponseHeaders().set("Location", moved);
                    ex.sendResponseHeaders(307, -1);
                    return;
                }
            }
            if ((m = API.matcher(path)).matches()) {
                record(ex, null);
                modelInfo(ex, decode(m.group(1)), decode(m.group(2)));
            } else if ((m = CDN.matcher(path)).matches()) {
                cdn(ex, m.group(1));
            } else if ((m = RESOLVE.matcher(path)).matches()) {
                resolve(ex, decode(m.group(1)), decode(m.group(2)), decode(m.group(3)));
            } else {
                record(ex, null);
                send(ex, 404, "Not found", Map.of());
            }
        } finally {
            ex.close();
        }
    }

    private static String redirectPath(String path, String oldId, String newId) {
        for (String prefix : new String[] {"/api/models/", "/"}) {
            if (path.startsWith(prefix + oldId + "/")) {
                return prefix + newId + path.substring(prefix.length() + oldId.length());
            }
        }
        return null;
    }

    private void modelInfo(HttpExchange ex, String repoId, String revision) throws IOException {
        if (applyStatusFault(ex, "api")) {
            return;
        }
        Repo repo = repos.get(repoId);
        if (repo == null) {
            send(ex, 401, "Repository not found", Map.of("X-Error-Code", "RepoNotFound"));
            return;
        }
        if (!repo.knows(revision)) {
            send(ex, 404, "Invalid rev id", Map.of("X-Error-Code", "RevisionNotFound"));
            return;
        }
        JsonObject o = new JsonObject();
        o.addProperty("_id", "fake" + repo.id.hashCode());
        o.addProperty("id", repo.id);
        o.addProperty("modelId", repo.id);
        o.addProperty("sha", repo.commit);
        o.addProperty("private", false);
        if (repo.gated) {
            o.addProperty("gated", "manual");
        } else {
            o.addProperty("gated", false);
        }
        JsonArray siblings = new JsonArray();
        for (String f : repo.files.keySet()) {
            JsonObject s = new JsonObject();
            s.addProperty("rfilename", f);
            siblings.add(s);
        }
        o.add("siblings", siblings);
        byte[] body = o.toString().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }

    private void resolve(HttpExchange ex, String repoId, String revision, String file)
            throws IOException {
        record(ex, ex.getRequestMethod().equals("GET") && !isLfs(file) ? file : null);
        boolean head = ex.getRequestMethod().equals("HEAD");
        CountDownLatch latch = headLatches.get(file);
        if (head && latch != null) {
            latch.countDown();
        }
        if (applyStatusFault(ex, (head ? "head:" : "get:") + file)) {
            return;
        }
        Repo repo = repos.get(repoId);
        if (repo == null) {
            send(ex, 401, "Repository not found", Map.of("X-Error-Code", "RepoNotFound"));
            return;
        }
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (repo.gated && !("Bearer " + TOKEN).equals(auth)) {
            send(
                    ex,
                    401,
                    "Access to model " + repoId + " is restricted.",
                    Map.of("X-Error-Code", "GatedRepo"));
            return;
        }
        if (!repo.knows(revision)) {
            send(ex, 404, "Invalid rev id", Map.of("X-Error-Code", "RevisionNotFound"));
            return;
        }
        byte[] content = repo.files.get(file);
        if (content == null) {
            send(ex, 404, "Entry not found", Map.of("X-Error-Code", "EntryNotFound"));
            return;
        }
        Headers h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", repo.commit);
        if (isLfs(file)) {
            String sha = hex(digest("SHA-256", content));
            String pointer =
                    "version https://git-lfs.github.com/spec/v1\noid sha256:"
                            + sha
                            + "\nsize "
                            + content.length
                            + "\n";
            h.set("ETag", "\"" + gitSha1(pointer.getBytes(StandardCharsets.UTF_8)) + "\"");
            h.set("X-Linked-Etag", "\"" + sha + "\"");
            h.set(
                    "X-Linked-Size",
                    Long.toString(announcedSizes.getOrDefault(file, (long) content.length)));
            h.set("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/" + sha);
            ex.sendResponseHeaders(302, -1);
            return;
        }
        h.set("ETag", "\"" + gitSha1(content) + "\"");
        if (head) {
            h.set("Content-Length", Long.toString(content.length));
            ex.sendResponseHeaders(200, -1);
            return;
        }
        serveContent(ex, file, content);
    }

    private void cdn(HttpExchange ex, String sha) throws IOException {
        for (Repo r : repos.values()) {
            for (Map.Entry<String, byte[]> e : r.files.entrySet()) {
                if (isLfs(e.getKey()) && hex(digest("SHA-256", e.getValue())).equals(sha)) {
                    record(ex, e.getKey());
                    if (!applyStatusFault(ex, "get:" + e.getKey())) {
                        serveContent(ex, e.getKey(), e.getValue());
                    }
                    return;
                }
            }
        }
        record(ex, null);
        send(ex, 404, "No such object", Map.of());
    }

    private void serveContent(HttpExchange ex, String file, byte[] content) throws IOException {
        CountDownLatch latch = headLatches.get(file);
        if (latch != null) {
            try {
                latch.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Fault fault = nextFault("get:" + file);
        byte[] body = content;
        if (fault != null && fault.kind == Fault.Kind.CORRUPT) {
            body = content.clone();
            body[body.length / 2] ^= 0x5a;
        }
        int start = 0;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (fault != null && fault.kind == Fault.Kind.IGNORE_RANGE) {
            range = null;
        }
        if (range != null) {
            Matcher m = RANGE.matcher(range);
            if (!m.matches()) {
                send(ex, 400, "Unsupported range " + range, Map.of());
                return;
            }
            start = (int) Long.parseLong(m.group(1));
            if (fault != null && fault.kind == Fault.Kind.SHIFTED_RANGE && start > 0) {
                start--;
            }
            if (start >= body.length) {
                ex.getResponseHeaders().set("Content-Range", "bytes */" + body.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders()
                    .set(
                            "Content-Range",
                            "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
        }
        ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(range == null ? 200 : 206, body.length - start);
        OutputStream os = ex.getResponseBody();
        AtomicLong served = bytesServed.computeIfAbsent(file, k -> new AtomicLong());
        int limit = body.length;
        if (fault != null && fault.kind == Fault.Kind.CUT) {
            limit = (int) Math.min(body.length, start + fault.bytes);
        }
        int pos = start;
        while (pos < limit) {
            int n = throttleChunk > 0 ? Math.min(throttleChunk, limit - pos) : limit - pos;
            if (fault != null && fault.kind == Fault.Kind.STALL_BODY && pos < start + fault.bytes) {
                n = (int) Math.min(n, start + fault.bytes - pos);
            }
            os.write(body, pos, n);
            os.flush();
            pos += n;
            served.addAndGet(n);
            if (fault != null
                    && fault.kind == Fault.Kind.STALL_BODY
                    && pos == start + fault.bytes) {
                sleep(fault.millis);
            }
            if (throttleChunk > 0 && throttleDelayMs > 0) {
                sleep(throttleDelayMs);
            }
        }
        if (limit < body.length) {
            throw new IOException("Fault: connection cut after " + (limit - start) + " bytes");
        }
        os.close();
    }

    private boolean applyStatusFault(HttpExchange ex, String key) throws IOException {
        Deque<Fault> q = faults.get(key);
        Fault f;
        synchronized (this) {
            f = q == null ? null : q.peek();
            if (f == null || !(f.kind == Fault.Kind.STATUS || f.kind == Fault.Kind.STALL_HEADERS)) {
                return false;
            }
            q.poll();
        }
        if (f.kind == Fault.Kind.STALL_HEADERS) {
            sleep(f.millis);
            return false;
        }
        send(ex, f.status, "Injected fault", Map.of());
        return true;
    }

    private Fault nextFault(String key) {
        Deque<Fault> q = faults.get(key);
        synchronized (this) {
            return q == null ? null : q.poll();
        }
    }

    private void record(HttpExchange ex, String file) {
        Headers h = ex.getRequestHeaders();
        requests.add(
                new Request(
                        ex.getRequestMethod(),
                        ex.getRequestURI().getRawPath(),
                        h.getFirst("Host"),
                        h.getFirst("Range"),
                        h.getFirst("Authorization"),
                        file));
    }

    private static void send(HttpExchange ex, int status, String message, Map<String, String> h)
            throws IOException {
        h.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.getResponseHeaders().set("X-Error-Message", message);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        byte[] body = ("{\"error\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }

    private static boolean isLfs(String file) {
        return file.endsWith(".safetensors") || file.endsWith(".bin");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Returns the git blob SHA-1 of contents, the ETag the Hub gives regular files.
     *
     * @param content the contents
     * @return 40 hex digits
     */
    public static String gitSha1(byte[] content) {
        MessageDigest md = newDigest("SHA-1");
        md.update(("blob " + content.length + "\0").getBytes(StandardCharsets.US_ASCII));
        return hex(md.digest(content));
    }

    /**
     * Returns the SHA-256 of contents, the ETag the Hub gives LFS files.
     *
     * @param content the contents
     * @return 64 hex digits
     */
    public static String sha256(byte[] content) {
        return hex(digest("SHA-256", content));
    }

    private static byte[] digest(String algorithm, byte[] content) {
        return newDigest(algorithm).digest(content);
    }

    private static MessageDigest newDigest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }

    /** A repository served by the fake Hub. */
    public static final class Repo {

        private final String id;
        private final SortedMap<String, byte[]> files;
        private final String commit;
        private volatile boolean gated;

        Repo(String id, SortedMap<String, byte[]> files) {
            this.id = id;
            this.files = files;
            StringBuilder sb = new StringBuilder(id);
            files.forEach((k, v) -> sb.append('\n').append(k).append(' ').append(gitSha1(v)));
            this.commit = hex(digest("SHA-1", sb.toString().getBytes(StandardCharsets.UTF_8)));
        }

        /**
         * Makes the repository gated: files need {@link #TOKEN}.
         *
         * @return this repository
         */
        public Repo gated() {
            gated = true;
            return this;
        }

        /**
         * Returns the commit sha {@code main} points to.
         *
         * @return 40 hex digits
         */
        public String commit() {
            return commit;
        }

        /**
         * Returns the contents of a file.
         *
         * @param name the file name
         * @return the bytes
         */
        public byte[] file(String name) {
            return files.get(name);
        }

        boolean knows(String revision) {
            return revision.equals("main") || revision.equals(commit);
        }
    }

    /** A fault to inject into the next matching request. */
    public static final class Fault {

        enum Kind {
            STATUS,
            STALL_HEADERS,
            CUT,
            CORRUPT,
            STALL_BODY,
            IGNORE_RANGE,
            SHIFTED_RANGE
        }

        final Kind kind;
        final int status;
        final long bytes;
        final long millis;

        private Fault(Kind kind, int status, long bytes, long millis) {
            this.kind = kind;
            this.status = status;
            this.bytes = bytes;
            this.millis = millis;
        }

        /**
         * Answers with a status code and no content.
         *
         * @param status e.g. 503
         * @return the fault
         */
        public static Fault status(int status) {
            return new Fault(Kind.STATUS, status, 0, 0);
        }

        /**
         * Waits before answering.
         *
         * @param millis the wait
         * @return the fault
         */
        public static Fault stallHeaders(long millis) {
            return new Fault(Kind.STALL_HEADERS, 0, 0, millis);
        }

        /**
         * Closes the connection after some bytes of the body.
         *
         * @param bytes the bytes sent before the cut
         * @return the fault
         */
        public static Fault cutAfter(long bytes) {
            return new Fault(Kind.CUT, 0, bytes, 0);
        }

        /**
         * Sends a body with one byte changed.
         *
         * @return the fault
         */
        public static Fault corrupt() {
            return new Fault(Kind.CORRUPT, 0, 0, 0);
        }

        /**
         * Answers a {@code Range} request with the whole file and status 200.
         *
         * @return the fault
         */
        public static Fault ignoreRange() {
            return new Fault(Kind.IGNORE_RANGE, 0, 0, 0);
        }

        /**
         * Answers a {@code Range} request with a 206 that starts one byte early.
         *
         * @return the fault
         */
        public static Fault shiftedRange() {
            return new Fault(Kind.SHIFTED_RANGE, 0, 0, 0);
        }

        /**
         * Pauses in the middle of the body.
         *
         * @param bytes the bytes sent before the pause
         * @param millis the pause
         * @return the fault
         */
        public static Fault stallBody(long bytes, long millis) {
            return new Fault(Kind.STALL_BODY, 0, bytes, millis);
        }
    }

    /** A request the fake Hub received. */
    public static final class Request {

        /** The HTTP method. */
        public final String method;

        /** The raw path. */
        public final String path;

        /** The {@code Host} header. */
        public final String host;

        /** The {@code Range} header, or null. */
        public final String range;

        /** The {@code Authorization} header, or null. */
        public final String authorization;

        /** The repository file whose contents were asked for, or null. */
        public final String file;

        Request(
                String method,
                String path,
                String host,
                String range,
                String authorization,
                String file) {
            this.method = method;
            this.path = path;
            this.host = host;
            this.range = range;
            this.authorization = authorization;
            this.file = file;
        }

        /** {@inheritDoc} */
        @Override
        public String toString() {
            return method + " " + host + path + (range == null ? "" : " Range:" + range);
        }
    }
}
