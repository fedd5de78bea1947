package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The CUDA library loads, sees a GPU, and refuses a bad call with the native message. */
@Tag("gpu")
class CudaLibraryGpuTest {

    @Test
    void cudaIsAvailable() {
        assertTrue(CudaKernels.isAvailable(), NativeLibraries.cudaUnavailableReason());
    }

    @Test
    void copiesRoundTripThroughTwoDeviceBuffers() {
        float[] data = Host.gaussian(new java.util.Random(7), 1000, 1);
        NativeTensor src = Host.f32(data, data.length);
        NativeTensor dst = Host.poisoned(DType.FLOAT32, data.length);
        try (CudaStream stream = CudaStream.create();
                DeviceBuffer a = DeviceBuffer.allocate(stream, 4000);
                DeviceBuffer b = DeviceBuffer.allocate(stream, 4000)) {
            a.copyFrom(new com.sun.jna.Pointer(src.address()).getByteBuffer(0, 4000));
            b.copyFromDevice(a, 4000);
            b.copyTo(new com.sun.jna.Pointer(dst.address()).getByteBuffer(0, 4000));
            stream.synchronize();
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(data, Host.read(dst));
    }

    @Test
    void badAllocationBecomesException() {
        try (CudaStream stream = CudaStream.create()) {
            IllegalArgumentException e =
                    org.junit.jupiter.api.Assertions.assertThrows(
                            IllegalArgumentException.class, () -> DeviceBuffer.allocate(stream, 0));
            assertTrue(e.getMessage().contains("must be positive"), e.getMessage());
        }
    }
}
