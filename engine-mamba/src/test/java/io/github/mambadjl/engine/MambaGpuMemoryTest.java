package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.CudaTensorOps.PoolStats;
import io.github.mambadjl.nativeops.NativeOpException;
import io.github.mambadjl.nativeops.Status;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Device memory of the Mamba engine: accounting, the pool, out-of-memory. */
@Tag("gpu")
class MambaGpuMemoryTest {

    private static final long MIB = 1 << 20;

    @Test
    void closingFreesDeviceMemoryAndThePoolGivesItBack() {
        long bytes = MambaNDManager.deviceBytesInUse(0);
        long blocks = MambaNDManager.deviceBlocksInUse(0);
        try (NDManager gpu = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            NDArray big = gpu.zeros(new Shape(128, MIB), DataType.FLOAT32); // 512 MiB
            NDArray view = big.get("0:2");
            assertEquals(bytes + 512 * MIB, MambaNDManager.deviceBytesInUse(0));
            big.close();
            try (NDArray sum = view.sum()) { // the view keeps the memory alive
                assertEquals(0f, sum.getFloat());
            }
            assertEquals(blocks + 1, MambaNDManager.deviceBlocksInUse(0));
        }
        assertEquals(bytes, MambaNDManager.deviceBytesInUse(0));
        assertEquals(blocks, MambaNDManager.deviceBlocksInUse(0));
        PoolStats kept = CudaTensorOps.poolStats(0);
        assertTrue(kept.reservedBytes() >= 512 * MIB, kept.toString()); // cached for reuse
        CudaTensorOps.trimPool(0, 0);
        PoolStats trimmed = CudaTensorOps.poolStats(0);
        assertTrue(trimmed.reservedBytes() < kept.reservedBytes() - 256 * MIB, trimmed.toString());
    }

    @Test
    void repeatedAllocationsReuseThePool() {
        try (NDManager gpu = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            long bytes = MambaNDManager.deviceBytesInUse(0);
            cycle(gpu);
            long reserved = CudaTensorOps.poolStats(0).reservedBytes();
            for (int i = 0; i < 1000; i++) {
                cycle(gpu);
            }
            assertEquals(bytes, MambaNDManager.deviceBytesInUse(0));
            assertTrue(
                    CudaTensorOps.poolStats(0).reservedBytes() <= reserved,
                    "the pool grew over 1000 cycles");
        }
    }

    private static void cycle(NDManager gpu) {
        try (NDManager m = gpu.newSubManager()) {
            NDArray a = m.ones(new Shape(1024, 2048)); // 8 MiB
            NDArray b = a.mul(2f).add(a);
            assertEquals(3f, b.get("5, 7").getFloat());
        }
    }

    @Test
    void outOfMemoryIsAnExceptionAndTheEngineStaysUsable() {
        long bytes = MambaNDManager.deviceBytesInUse(0);
        PoolStats stats = CudaTensorOps.poolStats(0);
        long tooMany = (stats.totalBytes() + 1024 * MIB) / 4;
        try (NDManager gpu = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            NativeOpException e =
                    assertThrows(
                            NativeOpException.class,
                            () -> gpu.zeros(new Shape(tooMany), DataType.FLOAT32));
            assertEquals(Status.OUT_OF_MEMORY, e.getStatus());
            assertTrue(e.getMessage().contains("out of device memory"), e.getMessage());
            assertEquals(bytes, MambaNDManager.deviceBytesInUse(0));
            NDArray a = gpu.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
            NDArray product = a.matMul(a);
            assertArrayEquals(new float[] {7, 10, 15, 22}, product.toFloatArray());
        }
        assertEquals(bytes, MambaNDManager.deviceBytesInUse(0));
    }
}
