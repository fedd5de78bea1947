package io.github.mambadjl.hub;

import java.nio.file.Path;
import java.time.Duration;

/** Settings for tests: a fake Hub, a temporary cache, short back-off and timeouts. */
final class HubTestSupport {

    static final String REPO = "state-spaces/mamba-tiny";

    private HubTestSupport() {}

    static HubSettings.Builder settings(FakeHub hub, Path cache) {
        return HubSettings.builder()
                .endpoint(hub.endpoint())
                .hubCache(cache)
                .maxRetries(3)
                .backoff(Duration.ofMillis(10), Duration.ofMillis(40))
                .connectTimeout(Duration.ofSeconds(3))
                .readTimeout(Duration.ofSeconds(3))
                .progressThreshold(Long.MAX_VALUE);
    }

    static SnapshotDownloader downloader(HubSettings settings) {
        return new SnapshotDownloader(settings);
    }
}
