package io.github.mambadjl.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings of the Hub client, read from the same environment variables as {@code
 * huggingface_hub} reads.
 *
 * <ul>
 *   <li>{@code HF_ENDPOINT}: base URL of the Hub (default {@code https://huggingface.co});
 *   <li>{@code HF_HOME}: default {@code $XDG_CACHE_HOME/huggingface} or {@code
 *       ~/.cache/huggingface};
 *   <li>{@code HF_HUB_CACHE}: the cache of repositories (default {@code $HF_HOME/hub});
 *   <li>{@code HF_TOKEN}: the access token; else the file {@code HF_TOKEN_PATH} (default {@code
 *       $HF_HOME/token});
 *   <li>{@code HF_HUB_OFFLINE}: {@code 1}, {@code ON}, {@code YES} or {@code TRUE} to use the cache
 *       only;
 *   <li>{@code HF_HUB_ETAG_TIMEOUT} and {@code HF_HUB_DOWNLOAD_TIMEOUT}: seconds (default 10);
 *   <li>{@code HF_HUB_DISABLE_PROGRESS_BARS}: {@code 1} to show no progress bar;
 *   <li>{@code MAMBADJL_HUB_VERIFY_CACHE}: {@code 0} to skip re-hashing cached blobs.
 * </ul>
 *
 * <p>Tests build their own settings with {@link #builder()} or {@link #fromEnvironment(Map)} so
 * that the real environment is never touched.
 */
public final class HubSettings {

    /** The public Hub. */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    private final String endpoint;
    private final Path hubCache;
    private final String token;
    private final boolean offline;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private final int maxRetries;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final boolean verifyCachedBlobs;
    private final long progressThreshold;
    private final String userAgent;

    private HubSettings(Builder b) {
        String e = b.endpoint;
        while (e.endsWith("/")) {
            e = e.substring(0, e.length() - 1);
        }
        endpoint = e;
        hubCache = b.hubCache.toAbsolutePath().normalize();
        token = b.token == null || b.token.isBlank() ? null : b.token.trim();
        offline = b.offline;
        connectTimeout = b.connectTimeout;
        readTimeout = b.readTimeout;
        maxRetries = b.maxRetries;
        initialBackoff = b.initialBackoff;
        maxBackoff = b.maxBackoff;
        verifyCachedBlobs = b.verifyCachedBlobs;
        progressThreshold = b.progressThreshold;
        userAgent = b.userAgent;
    }

    /**
     * Returns the settings of the process environment.
     *
     * @return the settings read from {@link System#getenv()}
     */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Returns the settings described by the given environment variables.
     *
     * @param env the environment variables, for example {@link System#getenv()}
     * @return the settings
     */
    public static HubSettings fromEnvironment(Map<String, String> env) {
        Objects.requireNonNull(env, "env");
        Path hfHome = hfHome(env);
        Builder b = builder().hubCache(hfHome.resolve("hub"));
        value(env, "HF_HUB_CACHE").map(HubSettings::expandUser).ifPresent(b::hubCache);
        value(env, "HF_ENDPOINT").ifPresent(b::endpoint);
        Optional<String> token = value(env, "HF_TOKEN");
        if (token.isEmpty()) {
            Path tokenPath =
                    value(env, "HF_TOKEN_PATH")
                            .map(HubSettings::expandUser)
                            .orElse(hfHome.resolve("token"));
            token = readToken(tokenPath);
        }
        token.ifPresent(b::token);
        b.offline(value(env, "HF_HUB_OFFLINE").map(HubSettings::isTrue).orElse(false));
        value(env, "HF_HUB_ETAG_TIMEOUT")
                .map(v -> seconds("HF_HUB_ETAG_TIMEOUT", v))
                .ifPresent(b::connectTimeout);
        value(env, "HF_HUB_DOWNLOAD_TIMEOUT")
                .map(v -> seconds("HF_HUB_DOWNLOAD_TIMEOUT", v))
                .ifPresent(b::readTimeout);
        if (value(env, "HF_HUB_DISABLE_PROGRESS_BARS").map(HubSettings::isTrue).orElse(false)) {
            b.progressThreshold(Long.MAX_VALUE);
        }
        value(env, "MAMBADJL_HUB_VERIFY_CACHE")
                .ifPresent(v -> b.verifyCachedBlobs(!"0".equals(v) && !isFalse(v)));
        return b.build();
    }

    /**
     * Returns a builder with the defaults of {@code huggingface_hub}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder that starts from these settings.
     *
     * @return a new builder holding a copy of these settings
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.endpoint = endpoint;
        b.hubCache = hubCache;
        b.token = token;
        b.offline = offline;
        b.connectTimeout = connectTimeout;
        b.readTimeout = readTimeout;
        b.maxRetries = maxRetries;
        b.initialBackoff = initialBackoff;
        b.maxBackoff = maxBackoff;
        b.verifyCachedBlobs = verifyCachedBlobs;
        b.progressThreshold = progressThreshold;
        b.userAgent = userAgent;
        return b;
    }

    /**
     * Returns the base URL of the Hub, without a trailing slash.
     *
     * @return the endpoint
     */
    public String getEndpoint() {
        return endpoint;
    }

    /**
     * Returns the folder that holds the cached repositories ({@code HF_HUB_CACHE}).
     *
     * @return the absolute cache folder
     */
    public Path getHubCache() {
        return hubCache;
    }

    /**
     * Returns the access token, if one is set.
     *
     * @return the token
     */
    public Optional<String> getToken() {
        return Optional.ofNullable(token);
    }

    /**
     * Returns whether only the cache may be used ({@code HF_HUB_OFFLINE=1}).
     *
     * @return {@code true} when offline
     */
    public boolean isOffline() {
        return offline;
    }

    /**
     * Returns the time allowed to connect and to receive the response headers.
     *
     * @return the connect timeout
     */
    public Duration getConnectTimeout() {
        return connectTimeout;
    }

    /**
     * Returns the longest pause allowed between two pieces of a response body.
     *
     * @return the read timeout
     */
    public Duration getReadTimeout() {
        return readTimeout;
    }

    /**
     * Returns how many times a failed request is retried (5xx, 429, timeouts, cut connections).
     *
     * @return the number of retries
     */
    public int getMaxRetries() {
        return maxRetries;
    }

    /**
     * Returns the wait before the first retry; each further retry waits twice as long.
     *
     * @return the first back-off
     */
    public Duration getInitialBackoff() {
        return initialBackoff;
    }

    /**
     * Returns the longest wait between two retries.
     *
     * @return the back-off bound
     */
    public Duration getMaxBackoff() {
        return maxBackoff;
    }

    /**
     * Returns whether cached blobs are hashed again against their name before use.
     *
     * @return {@code true} to verify cached blobs
     */
    public boolean isVerifyCachedBlobs() {
        return verifyCachedBlobs;
    }

    /**
     * Returns the size from which a download shows a progress bar.
     *
     * @return the size in bytes
     */
    public long getProgressThreshold() {
        return progressThreshold;
    }

    /**
     * Returns the {@code User-Agent} header sent to the Hub.
     *
     * @return the user agent
     */
    public String getUserAgent() {
        return userAgent;
    }

    /**
     * Describes the settings without the token (which is only said to be set or not); DJL copies
     * this text into the model properties of a zoo model.
     *
     * @return endpoint, cache, offline and token presence
     */
    @Override
    public String toString() {
        return "HubSettings{endpoint="
                + endpoint
                + ", hubCache="
                + hubCache
                + ", offline="
                + offline
                + ", token="
                + (token == null ? "none" : "set")
                + '}';
    }

    private static Path hfHome(Map<String, String> env) {
        Optional<String> home = value(env, "HF_HOME");
        if (home.isPresent()) {
            return expandUser(home.get());
        }
        Path xdg =
                value(env, "XDG_CACHE_HOME")
                        .map(HubSettings::expandUser)
                        .orElse(Paths.get(System.getProperty("user.home"), ".cache"));
        return xdg.resolve("huggingface");
    }

    private static Optional<String> value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    private static Path expandUser(String path) {
        if (path.equals("~") || path.startsWith("~/")) {
            return Paths.get(System.getProperty("user.home") + path.substring(1));
        }
        return Paths.get(path);
    }

    private static Optional<String> readToken(Path path) {
        if (!Files.isRegularFile(path)) {
            return Optional.empty();
        }
        try {
            String t = Files.readString(path, StandardCharsets.UTF_8).trim();
            return t.isEmpty() ? Optional.empty() : Optional.of(t);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "Cannot read the Hugging Face token file "
                            + path
                            + ": "
                            + e.getMessage()
                            + ". Fix its permissions, or set HF_TOKEN instead.",
                    e);
        }
    }

    private static boolean isTrue(String v) {
        String u = v.toUpperCase(Locale.ROOT);
        return u.equals("1") || u.equals("ON") || u.equals("YES") || u.equals("TRUE");
    }

    private static boolean isFalse(String v) {
        String u = v.toUpperCase(Locale.ROOT);
        return u.equals("0") || u.equals("OFF") || u.equals("NO") || u.equals("FALSE");
    }

    private static Duration seconds(String name, String v) {
        try {
            return Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    name + "='" + v + "' is not a number of seconds; set it to e.g. 10.", e);
        }
    }

    /** Builds {@link HubSettings}; starts from the defaults of {@code huggingface_hub}. */
    public static final class Builder {

        private String endpoint = DEFAULT_ENDPOINT;
        private Path hubCache =
                Paths.get(System.getProperty("user.home"), ".cache", "huggingface", "hub");
        private String token;
        private boolean offline;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(10);
        private int maxRetries = 5;
        private Duration initialBackoff = Duration.ofSeconds(1);
        private Duration maxBackoff = Duration.ofSeconds(8);
        private boolean verifyCachedBlobs = true;
        private long progressThreshold = 10L * 1024 * 1024;
        private String userAgent = "mamba-djl/0.1; java/" + System.getProperty("java.version");

        private Builder() {}

        /**
         * Sets the base URL of the Hub.
         *
         * @param endpoint for example {@code https://huggingface.co}
         * @return this builder
         */
        public Builder endpoint(String endpoint) {
            if (endpoint == null
                    || !(endpoint.startsWith("http://") || endpoint.startsWith("https://"))) {
                throw new IllegalArgumentException(
                        "HF_ENDPOINT='"
                                + endpoint
                                + "' is not an http(s) URL; use e.g. https://huggingface.co");
            }
            this.endpoint = endpoint;
            return this;
        }

        /**
         * Sets the cache folder ({@code HF_HUB_CACHE}).
         *
         * @param hubCache the folder
         * @return this builder
         */
        public Builder hubCache(Path hubCache) {
            this.hubCache = Objects.requireNonNull(hubCache, "hubCache");
            return this;
        }

        /**
         * Sets the access token sent as {@code Authorization: Bearer}.
         *
         * @param token the token, or {@code null} for none
         * @return this builder
         */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /**
         * Sets whether only the cache may be used.
         *
         * @param offline {@code true} for {@code HF_HUB_OFFLINE=1}
         * @return this builder
         */
        public Builder offline(boolean offline) {
            this.offline = offline;
            return this;
        }

        /**
         * Sets the time allowed to connect and to receive the response headers.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * Sets the longest pause allowed between two pieces of a response body.
         *
         * @param timeout a positive duration
         * @return this builder
         */
        public Builder readTimeout(Duration timeout) {
            this.readTimeout = positive(timeout, "readTimeout");
            return this;
        }

        /**
         * Sets how many times a failed request is retried.
         *
         * @param maxRetries zero or more
         * @return this builder
         */
        public Builder maxRetries(int maxRetries) {
            if (maxRetries < 0) {
                throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
            }
            this.maxRetries = maxRetries;
            return this;
        }

        /**
         * Sets the first back-off and its bound; the waits double from {@code initial} up to {@code
         * max}.
         *
         * @param initial the wait before the first retry
         * @param max the longest wait
         * @return this builder
         */
        public Builder backoff(Duration initial, Duration max) {
            if (initial.isNegative() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException(
                        "Back-off must satisfy 0 <= initial <= max, got " + initial + ", " + max);
            }
            this.initialBackoff = initial;
            this.maxBackoff = max;
            return this;
        }

        /**
         * Sets whether cached blobs are hashed again against their name before use.
         *
         * @param verify {@code true} to verify
         * @return this builder
         */
        public Builder verifyCachedBlobs(boolean verify) {
            this.verifyCachedBlobs = verify;
            return this;
        }

        /**
         * Sets the size from which a download shows a progress bar.
         *
         * @param bytes the size in bytes
         * @return this builder
         */
        public Builder progressThreshold(long bytes) {
            this.progressThreshold = bytes;
            return this;
        }

        /**
         * Sets the {@code User-Agent} header.
         *
         * @param userAgent the header value
         * @return this builder
         */
        public Builder userAgent(String userAgent) {
            this.userAgent = Objects.requireNonNull(userAgent, "userAgent");
            return this;
        }

        /**
         * Returns the settings.
         *
         * @return the immutable settings
         */
        public HubSettings build() {
            return new HubSettings(this);
        }

        private static Duration positive(Duration d, String name) {
            if (d == null || d.isZero() || d.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
