package io.github.mambadjl.hub;

import ai.djl.util.Progress;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads one blob into its {@code .incomplete} file, resuming with {@code Range} after a cut,
 * and checks its size and digest before it may enter the cache. The caller holds the blob's lock.
 */
final class BlobTransfer {

    private static final Logger logger = LoggerFactory.getLogger(BlobTransfer.class);
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)");

    private final HubClient client;
    private final Supplier<Progress> progressFactory;

    BlobTransfer(HubClient client, Supplier<Progress> progressFactory) {
        this.client = client;
        this.progressFactory = progressFactory;
    }

    /**
     * Fills {@code incomplete} with the verified contents of the blob.
     *
     * @param repo the repository, for error messages
     * @param revision the revision, for error messages
     * @param filename the file in the repository, for messages and the progress bar
     * @param url where to download from
     * @param headers the request headers (the {@code Authorization} header is dropped when the URL
     *     is on another host than the endpoint)
     * @param incomplete the {@code .incomplete} file; existing bytes are kept and resumed from
     * @param expectedSize the announced size, or -1
     * @param etag the blob's ETag, checked when it is a digest
     */
    void fetch(
            RepoId repo,
            String revision,
            String filename,
            URI url,
            Map<String, String> headers,
            Path incomplete,
            long expectedSize,
            String etag)
            throws IOException {
        HttpTransport transport = client.transport();
        String what = repo + "/" + filename;
        if (!HttpTransport.sameOrigin(URI.create(client.getSettings().getEndpoint() + "/"), url)) {
            headers.remove("Authorization");
        }
        Progress progress =
                expectedSize >= client.getSettings().getProgressThreshold()
                        ? progressFactory.get()
                        : null;
        if (progress != null) {
            progress.reset(filename, Math.max(expectedSize, 0));
        }
        try {
            transport.withRetries(
                    "Download of " + what,
                    attempt -> {
                        attemptOnce(
                                repo,
                                revision,
                                filename,
                                url,
                                headers,
                                incomplete,
                                expectedSize,
                                progress);
                        if (!BlobVerifier.matches(incomplete, etag)) {
                            Files.deleteIfExists(incomplete);
                            throw new HttpTransport.CorruptTransferException(
                                    "the downloaded bytes do not hash to the ETag " + etag);
                        }
                        return null;
                    });
        } finally {
            if (progress != null) {
                progress.end();
            }
        }
    }

    private void attemptOnce(
            RepoId repo,
            String revision,
            String filename,
            URI url,
            Map<String, String> headers,
            Path incomplete,
            long expectedSize,
            Progress progress)
            throws IOException {
        Files.createDirectories(incomplete.getParent());
        try (FileChannel out =
                FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long have = out.size();
            if (expectedSize >= 0 && have > expectedSize) {
                out.truncate(0);
                have = 0;
            }
            if (progress != null) {
                progress.update(have);
            }
            if (expectedSize >= 0 && have == expectedSize && have > 0) {
                return;
            }
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put("Accept-Encoding", "identity");
            if (have > 0) {
                h.put("Range", "bytes=" + have + "-");
                logger.info("Resuming {} from byte {}", url, have);
            }
            long start = have;
            HttpTransport.Activity activity = new HttpTransport.Activity();
            HttpResponse<Long> r =
                    client.transport()
                            .send(
                                    "GET",
                                    url,
                                    h,
                                    true,
                                    info -> subscriber(info, out, start, progress, activity),
                                    activity);
            int status = r.statusCode();
            if (status == 416) {
                out.truncate(0);
                throw new IOException("HTTP 416: the partial file did not fit; restarting");
            }
            if (status != 200 && status != 206) {
                client.checkStatus(status, r.headers(), url, repo, revision, filename);
            }
            if (r.body() < 0) {
                out.truncate(0);
                throw new IOException(
                        "the server answered a range that does not follow byte " + start);
            }
            out.force(false);
            long size = out.size();
            if (expectedSize >= 0 && size < expectedSize) {
                throw new IOException(
                        "connection ended after " + size + " of " + expectedSize + " bytes");
            }
            if (expectedSize >= 0 && size > expectedSize) {
                out.truncate(0);
                throw new HttpTransport.CorruptTransferException(
                        "received " + size + " bytes where " + expectedSize + " were announced");
            }
        }
    }

    private static HttpResponse.BodySubscriber<Long> subscriber(
            HttpResponse.ResponseInfo info,
            FileChannel out,
            long start,
            Progress progress,
            HttpTransport.Activity activity) {
        activity.touch();
        int status = info.statusCode();
        try {
            if (status == 200) {
                out.truncate(0);
                out.position(0);
                if (progress != null) {
                    progress.update(0);
                }
                return new FileSink(out, progress, activity);
            }
            if (status == 206) {
                String cr = info.headers().firstValue("Content-Range").orElse("");
                Matcher m = CONTENT_RANGE.matcher(cr);
                if (!m.matches() || Long.parseLong(m.group(1)) != start) {
                    return HttpResponse.BodySubscribers.replacing(-1L);
                }
                out.position(start);
                return new FileSink(out, progress, activity);
            }
        } catch (IOException e) {
            return new FailedSink(e);
        }
        return HttpResponse.BodySubscribers.replacing(0L);
    }

    /** Writes the body to the file as it arrives; completes with the number of bytes written. */
    private static final class FileSink implements HttpResponse.BodySubscriber<Long> {

        private final FileChannel out;
        private final Progress progress;
        private final HttpTransport.Activity activity;
        private final CompletableFuture<Long> result = new CompletableFuture<>();
        private Flow.Subscription subscription;
        private long written;

        FileSink(FileChannel out, Progress progress, HttpTransport.Activity activity) {
            this.out = out;
            this.progress = progress;
            this.activity = activity;
        }

        @Override
        public CompletionStage<Long> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            try {
                for (ByteBuffer b : items) {
                    int n = b.remaining();
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                    written += n;
                    if (progress != null) {
                        progress.increment(n);
                    }
                }
                activity.touch();
                subscription.request(1);
            } catch (IOException e) {
                subscription.cancel();
                result.completeExceptionally(e);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(written);
        }
    }

    /** Reports a failure to prepare the file, discarding the body. */
    private static final class FailedSink implements HttpResponse.BodySubscriber<Long> {

        private final CompletableFuture<Long> result = new CompletableFuture<>();

        FailedSink(IOException e) {
            result.completeExceptionally(e);
        }

        @Override
        public CompletionStage<Long> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.cancel();
        }

        @Override
        public void onNext(List<ByteBuffer> items) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onComplete() {}
    }
}
