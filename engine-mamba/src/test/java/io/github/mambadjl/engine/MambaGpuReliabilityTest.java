package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reliability checks of {@link MambaReliabilityTest} on the GPU: parallel predictors give the
 * serial results, and 50 load/close cycles with 10 000 predictions leave the engine's device memory
 * exactly where it started, the driver's count of used device memory and the host's resident set
 * within a few MB.
 */
@Tag("gpu")
class MambaGpuReliabilityTest {

    private static final long MIB = 1 << 20;

    @Test
    void eightPredictorsOnOneModelGiveTheSerialResultsOnTheGpu() throws Exception {
        MambaReliabilityTest.assertParallelGivesSerialResults(Device.gpu());
    }

    @Test
    void loadCloseCyclesLeaveDeviceMemoryWhereItStarted(@TempDir Path dir) throws Exception {
        List<String> output = MambaReliabilityTest.memoryCycles(dir, "50", "200", "gpu");
        System.out.println(String.join("\n", output));
        String log = String.join("\n", output);
        long[] bytes = MambaReliabilityTest.values(output, "DEVICE_BYTES");
        long[] blocks = MambaReliabilityTest.values(output, "DEVICE_BLOCKS");
        long[] used = MambaReliabilityTest.values(output, "DEVICE_USED");
        long[] rss = MambaReliabilityTest.values(output, "RSS_KIB");
        assertEquals(bytes[0], bytes[1], "device bytes after 50 cycles: " + log);
        assertEquals(blocks[0], blocks[1], "device blocks after 50 cycles: " + log);
        assertTrue(used[1] - used[0] < 4 * MIB, "the driver's used memory grew: " + log);
        assertTrue(rss[1] - rss[0] < 8 * 1024, "RSS grew: " + log);
    }
}
