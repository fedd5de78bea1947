package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cache of freed host blocks behind {@link CpuTensorOps#allocate}: reuse of same-sized blocks,
 * the byte limit (least recently freed dropped first), trimming, and the in-use counters that do
 * not count cached blocks. Sizes are odd so that no other allocation of the JVM shares them.
 */
class HostBlockCacheTest {

    /** A cached block also holds its 64-byte header; sizes round up to 64 bytes. */
    private static long blockBytes(long bytes) {
        return ((bytes + 63) / 64 + 1) * 64;
    }

    private long previousLimit;

    @BeforeEach
    void emptyCache() {
        previousLimit = CpuTensorOps.cacheStats()[4];
        CpuTensorOps.setCacheLimit(0);
    }

    @AfterEach
    void restoreLimit() {
        CpuTensorOps.setCacheLimit(previousLimit);
    }

    @Test
    void aFreedBlockServesTheNextAllocationOfItsSize() {
        CpuTensorOps.setCacheLimit(1 << 20);
        long[] inUse = CpuTensorOps.inUse();
        long first = CpuTensorOps.allocate(40_001, false);
        new Pointer(first).setFloat(0, 7f);
        CpuTensorOps.free(first);
        assertEquals(inUse[0], CpuTensorOps.inUse()[0], "a cached block is not in use");
        assertEquals(inUse[1], CpuTensorOps.inUse()[1]);
        long[] stats = CpuTensorOps.cacheStats();
        assertEquals(blockBytes(40_001), stats[0]);
        assertEquals(1, stats[1]);

        long other = CpuTensorOps.allocate(50_001, false); // another size: a fresh block
        long again = CpuTensorOps.allocate(40_001, true);
        try {
            assertEquals(first, again, "the same block again");
            assertNotEquals(first, other);
            assertEquals(0f, new Pointer(again).getFloat(0), "zeroed on request");
            assertEquals(0f, new Pointer(again).getFloat(40_000 - 4));
            long[] after = CpuTensorOps.cacheStats();
            assertEquals(stats[2] + 1, after[2], "one allocation from the cache");
            assertEquals(stats[3] + 1, after[3], "one that was not");
            assertEquals(0, after[0]);
            assertEquals(inUse[0] + 90_002, CpuTensorOps.inUse()[0]);
        } finally {
            CpuTensorOps.free(again);
            CpuTensorOps.free(other);
        }
    }

    @Test
    void theCacheStaysWithinItsLimitDroppingTheOldestFirst() {
        long size = 100_001;
        long block = blockBytes(size);
        CpuTensorOps.setCacheLimit(3 * block + block / 2);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            blocks.add(CpuTensorOps.allocate(size, false));
        }
        for (long b : blocks) {
            CpuTensorOps.free(b);
        }
        long[] stats = CpuTensorOps.cacheStats();
        assertEquals(3, stats[1], "three blocks fit under the limit");
        assertEquals(3 * block, stats[0]);
        Set<Long> reused = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            reused.add(CpuTensorOps.allocate(size, false));
        }
        try {
            assertEquals(Set.copyOf(blocks.subList(2, 5)), reused, "the newest three were kept");
        } finally {
            for (long b : reused) {
                CpuTensorOps.free(b);
            }
        }
        long big = CpuTensorOps.allocate(4 * size, false);
        CpuTensorOps.free(big);
        assertEquals(3 * block, CpuTensorOps.cacheStats()[0], "a block above the limit is freed");
    }

    @Test
    void trimAndLimitFreeCachedBlocks() {
        CpuTensorOps.setCacheLimit(1 << 20);
        for (int i = 0; i < 4; i++) {
            CpuTensorOps.free(CpuTensorOps.allocate(10_001 + 1000 * i, false));
        }
        assertEquals(4, CpuTensorOps.cacheStats()[1]);
        CpuTensorOps.trimCache(blockBytes(13_001) + blockBytes(12_001));
        assertEquals(2, CpuTensorOps.cacheStats()[1], "the two oldest dropped");
        CpuTensorOps.setCacheLimit(blockBytes(13_001));
        assertEquals(1, CpuTensorOps.cacheStats()[1]);
        CpuTensorOps.trimCache(0);
        assertEquals(0, CpuTensorOps.cacheStats()[0]);
        assertEquals(0, CpuTensorOps.cacheStats()[1]);
        NativeOpException e =
                assertThrows(NativeOpException.class, () -> CpuTensorOps.setCacheLimit(-1));
        assertEquals(Status.INVALID_ARGUMENT, e.getStatus());
        e = assertThrows(NativeOpException.class, () -> CpuTensorOps.trimCache(-1));
        assertTrue(e.getMessage().contains("host_cache_trim"), e.getMessage());
    }

    @Test
    void threadsShareTheCacheSafely() throws Exception {
        CpuTensorOps.setCacheLimit(4 << 20);
        long[] inUse = CpuTensorOps.inUse();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                done.add(
                        pool.submit(
                                () -> {
                                    for (int i = 0; i < 2000; i++) {
                                        long bytes = 1000 + 4096L * ((i * 7 + seed) % 16);
                                        long p = CpuTensorOps.allocate(bytes, false);
                                        new Pointer(p).setLong(bytes - 8, p);
                                        assertEquals(p, new Pointer(p).getLong(bytes - 8));
                                        CpuTensorOps.free(p);
                                    }
                                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(inUse[0], CpuTensorOps.inUse()[0]);
        assertEquals(inUse[1], CpuTensorOps.inUse()[1]);
        assertTrue(CpuTensorOps.cacheStats()[0] <= 4 << 20);
    }
}
