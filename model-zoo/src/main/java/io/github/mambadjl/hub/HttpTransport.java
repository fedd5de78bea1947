package io.github.mambadjl.hub;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends requests to the Hub with the JDK's {@link HttpClient}: bounded retries with exponential
 * back-off, redirects followed by hand so that the {@code Authorization} header only goes to the
 * host it was meant for, and a stall timeout on response bodies.
 */
final class HttpTransport {

    private static final Logger logger = LoggerFactory.getLogger(HttpTransport.class);
    private static final int MAX_REDIRECTS = 10;

    private final HubSettings settings;
    private final HttpClient client;

    HttpTransport(HubSettings settings) {
        this.settings = settings;
        this.client =
                HttpClient.newBuilder()
                        .connectTimeout(settings.getConnectTimeout())
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build();
    }

    /** One attempt of a request; throws {@link IOException} for failures worth a retry. */
    interface Attempt<T> {
        T run(int attempt) throws IOException;
    }

    /** A response status worth a retry (5xx, 429). */
    static final class RetryableStatusException extends IOException {
        private static final long serialVersionUID = 1L;

        RetryableStatusException(String message) {
            super(message);
        }
    }

    /** A body that did not match its announced hash or size; worth another download. */
    static final class CorruptTransferException extends IOException {
        private static final long serialVersionUID = 1L;

        CorruptTransferException(String message) {
            super(message);
        }
    }

    /** Tracks the last time bytes arrived, for the stall timeout. */
    static final class Activity {
        private final AtomicLong last = new AtomicLong(System.nanoTime());

        void touch() {
            last.set(System.nanoTime());
        }

        long idleNanos() {
            return System.nanoTime() - last.get();
        }
    }

    /**
     * Runs {@code attempt} until it succeeds, retrying on {@link IOException} (except {@link
     * HubException}s, which are final) with exponential back-off.
     */
    <T> T withRetries(String what, Attempt<T> attempt) throws IOException {
        IOException last = null;
        int attempts = settings.getMaxRetries() + 1;
        for (int i = 0; i < attempts; i++) {
            if (i > 0) {
                sleep(backoff(i));
            }
            try {
                return attempt.run(i);
            } catch (HubException | InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                last = e;
                if (i + 1 < attempts) {
                    logger.warn(
                            "{} failed ({}); retry {}/{} in {} ms",
                            what,
                            describe(e),
                            i + 1,
                            settings.getMaxRetries(),
                            backoff(i + 1).toMillis());
                }
            }
        }
        Objects.requireNonNull(last);
        if (last instanceof CorruptTransferException) {
            throw new IntegrityException(
                    what
                            + ": "
                            + last.getMessage()
                            + " in each of "
                            + attempts
                            + " attempts; the file on the Hub or a proxy in between is broken."
                            + " Nothing was written to the cache; try again later.");
        }
        throw new HubConnectionException(
                what
                        + " failed after "
                        + attempts
                        + " attempts, last: "
                        + describe(last)
                        + ". Check the network and HF_ENDPOINT ("
                        + settings.getEndpoint()
                        + "), or set HF_HUB_OFFLINE=1 to use files already in the cache.",
                last);
    }

    /**
     * Sends a request and follows redirects: all of them when {@code followAbsolute}, else only
     * those to a path on the same host (as {@code huggingface_hub} does for HEAD requests, which
     * must see the redirect to the CDN). The {@code Authorization} header is dropped when a
     * redirect leaves the original host.
     *
     * @param activity if not null, the body is waited for with the read timeout as stall limit
     */
    <T> HttpResponse<T> send(
            String method,
            URI uri,
            Map<String, String> headers,
            boolean followAbsolute,
            HttpResponse.BodyHandler<T> handler,
            Activity activity)
            throws IOException {
        Map<String, String> h = new LinkedHashMap<>(headers);
        URI current = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder rb =
                    HttpRequest.newBuilder(current)
                            .method(method, HttpRequest.BodyPublishers.noBody())
                            .timeout(
                                    activity == null
                                            ? settings.getConnectTimeout()
                                            : settings.getReadTimeout());
            h.forEach(rb::header);
            HttpResponse<T> response = await(client.sendAsync(rb.build(), handler), activity);
            int status = response.statusCode();
            Optional<String> location = response.headers().firstValue("Location");
            if (!isRedirect(status) || location.isEmpty()) {
                return response;
            }
            boolean relative = location.get().startsWith("/");
            if (!relative && !followAbsolute) {
                return response;
            }
            if (hop >= MAX_REDIRECTS) {
                throw new HubException(
                        "More than "
                                + MAX_REDIRECTS
                                + " redirects from "
                                + uri
                                + "; last "
                                + current);
            }
            URI next = current.resolve(location.get());
            if (!sameOrigin(uri, next)) {
                h.remove("Authorization");
            }
            current = next;
        }
    }

    static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    static boolean isRetryable(int status) {
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    }

    static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme())
                && Objects.equals(a.getHost(), b.getHost())
                && a.getPort() == b.getPort();
    }

    private <T> HttpResponse<T> await(CompletableFuture<HttpResponse<T>> future, Activity activity)
            throws IOException {
        long limit = settings.getReadTimeout().toNanos();
        long poll = Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(limit) / 4, 200));
        try {
            while (true) {
                try {
                    if (activity == null) {
                        return future.get();
                    }
                    return future.get(poll, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (activity.idleNanos() > limit) {
                        future.cancel(true);
                        throw new HttpTimeoutException(
                                "no data received for "
                                        + settings.getReadTimeout().toMillis()
                                        + " ms");
                    }
                }
            }
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while waiting for the Hub");
        } catch (CancellationException e) {
            throw new IOException("request cancelled", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException) {
                throw (IOException) c;
            }
            throw new IOException(c == null ? e.toString() : c.toString(), c);
        }
    }

    private Duration backoff(int retry) {
        long base = settings.getInitialBackoff().toMillis();
        long wait = base << Math.min(retry - 1, 30);
        return Duration.ofMillis(
                Math.min(wait < 0 ? Long.MAX_VALUE : wait, settings.getMaxBackoff().toMillis()));
    }

    private static void sleep(Duration d) throws InterruptedIOException {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("Interrupted while waiting to retry");
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
