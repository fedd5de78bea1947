package io.github.mambadjl.hub;

import ai.djl.util.Progress;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link Progress} that remembers what it was told. */
final class RecordingProgress implements Progress {

    volatile String message;
    volatile long max = -1;
    final AtomicLong current = new AtomicLong();
    volatile boolean ended;
    volatile long highest;

    @Override
    public void reset(String message, long max, String trailingMessage) {
        this.message = message;
        this.max = max;
        current.set(0);
    }

    @Override
    public void start(long initialProgress) {
        current.set(initialProgress);
    }

    @Override
    public void end() {
        ended = true;
    }

    @Override
    public void increment(long increment) {
        highest = Math.max(highest, current.addAndGet(increment));
    }

    @Override
    public void update(long progress, String message) {
        current.set(progress);
        highest = Math.max(highest, progress);
    }
}
