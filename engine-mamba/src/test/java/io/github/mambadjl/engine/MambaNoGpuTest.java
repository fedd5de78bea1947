package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.nativeops.CudaTensorOps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIf;

/**
 * On a machine without a CUDA GPU (the build machine), every way to reach a GPU fails with a
 * message that says why and what to do, and the CPU keeps working. On a GPU machine the class is
 * disabled: {@code MambaGpuOpsTest} and the other {@code gpu}-tagged tests cover that case.
 */
@DisabledIf("gpuPresent")
class MambaNoGpuTest {

    static boolean gpuPresent() {
        return CudaTensorOps.isAvailable();
    }

    private static void assertNoGpu(Exception e) {
        String m = e.getMessage();
        assertTrue(m.contains("gpu(0)"), m);
        assertTrue(m.contains("needs a CUDA GPU"), m);
        assertTrue(m.contains("Device.cpu()"), m);
        assertFalse(CudaTensorOps.unavailableReason().isEmpty());
        assertTrue(m.contains(CudaTensorOps.unavailableReason()), m);
    }

    @Test
    void engineReportsNoCuda() {
        Engine engine = Engine.getEngine("Mamba");
        assertFalse(engine.hasCapability(StandardCapabilities.CUDA));
        assertEquals(0, engine.getGpuCount());
        assertEquals(0, engine.getDevices().length - 1); // only the CPU
        assertEquals(0, MambaNDManager.deviceBytesInUse(0));
        assertEquals(0, CudaTensorOps.deviceCount());
    }

    @Test
    void gpuManagersAreRefused() {
        Engine engine = Engine.getEngine("Mamba");
        assertNoGpu(
                assertThrows(
                        UnsupportedOperationException.class,
                        () -> engine.newBaseManager(Device.gpu())));
        try (NDManager manager = engine.newBaseManager()) {
            assertNoGpu(
                    assertThrows(
                            UnsupportedOperationException.class,
                            () -> manager.newSubManager(Device.gpu(0))));
        }
    }

    @Test
    void toDeviceGpuIsRefusedAndTheArrayStaysUsable() {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager()) {
            NDArray a = manager.create(new float[] {1, 2, 3}, new Shape(3));
            long before = MambaNDManager.hostBlocksInUse();
            assertNoGpu(
                    assertThrows(
                            UnsupportedOperationException.class,
                            () -> a.toDevice(Device.gpu(), false)));
            assertNoGpu(
                    assertThrows(
                            UnsupportedOperationException.class,
                            () -> manager.create(new Shape(2), DataType.FLOAT32, Device.gpu())));
            assertEquals(before, MambaNDManager.hostBlocksInUse());
            assertEquals(Device.cpu(), a.getDevice());
            assertEquals(6f, a.sum().getFloat());
            assertTrue(a.toDevice(Device.cpu(), false) == a);
        }
    }

    @Test
    void cudaStreamsAreRefused() {
        UnsupportedOperationException e =
                assertThrows(UnsupportedOperationException.class, () -> CudaTensorOps.stream(0));
        assertNoGpu(e);
    }
}
