package io.github.mambadjl.jmh;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;

/**
 * The size of a copy that measures memory bandwidth rather than cache bandwidth: STREAM's rule,
 * each array at least four times the largest cache (read from Linux's sysfs), and never below 64
 * MiB. A weight-read floor needs this when the weights do not fit in the last-level cache: a 64 MiB
 * copy runs partly from a 300 MiB L3 and overstates the bandwidth that a decoding step gets.
 */
final class CopySize {

    static final long MIN_BYTES = 64L << 20;
    static final long MAX_BYTES = 1536L << 20;

    private CopySize() {}

    /**
     * Returns the bytes of each of the two arrays of the copy.
     *
     * @return max(64 MiB, 4 x the largest cache), at most 1.5 GiB (a direct buffer's int size)
     */
    static long bytes() {
        return Math.min(MAX_BYTES, Math.max(MIN_BYTES, 4 * largestCache()));
    }

    /** The largest cache of CPU 0 in bytes, or 0 when sysfs does not say. */
    static long largestCache() {
        Path dir = Paths.get("/sys/devices/system/cpu/cpu0/cache");
        long largest = 0;
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (DirectoryStream<Path> caches = Files.newDirectoryStream(dir, "index*")) {
            for (Path cache : caches) {
                Path size = cache.resolve("size");
                if (Files.isReadable(size)) {
                    largest = Math.max(largest, parseSize(Files.readString(size).trim()));
                }
            }
        } catch (IOException e) {
            return largest;
        }
        return largest;
    }

    /** Parses sysfs sizes such as {@code 48K}, {@code 2048K}, {@code 300M} or {@code 512}. */
    static long parseSize(String text) {
        String s = text.toUpperCase(Locale.ROOT);
        long unit = 1;
        if (s.endsWith("K")) {
            unit = 1L << 10;
        } else if (s.endsWith("M")) {
            unit = 1L << 20;
        } else if (s.endsWith("G")) {
            unit = 1L << 30;
        }
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        try {
            return Long.parseLong(digits) * unit;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
