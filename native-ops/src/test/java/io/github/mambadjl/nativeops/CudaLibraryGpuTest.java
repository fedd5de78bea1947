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
    void badAllocationBecomesException() {
        try (CudaStream stream = CudaStream.create()) {
            IllegalArgumentException e =
                    org.junit.jupiter.api.Assertions.assertThrows(
                            IllegalArgumentException.class, () -> DeviceBuffer.allocate(stream, 0));
            assertTrue(e.getMessage().contains("must be positive"), e.getMessage());
        }
    }
}
