package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.NativeLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * The CUDA library built here (with nvcc, {@code -Dnative.cuda=ON}) exports every engine op of
 * {@code mambaops.h}, whether or not this machine has a GPU; without a GPU the ops are refused with
 * the reason. Enabled when the build produced {@code libmambaops_cuda.so}.
 */
@EnabledIf("libraryBuilt")
class CudaEngineOpsLibraryTest {

    private static final String[] ENGINE_OPS = {
        "mops_cuda_engine_stream_create",
        "mops_cuda_engine_alloc",
        "mops_cuda_engine_free",
        "mops_cuda_engine_in_use",
        "mops_cuda_engine_pool_stats",
        "mops_cuda_engine_pool_trim",
        "mops_cuda_engine_transfer",
        "mops_cuda_copy",
        "mops_cuda_fill",
        "mops_cuda_unary",
        "mops_cuda_binary",
        "mops_cuda_where",
        "mops_cuda_reduce",
        "mops_cuda_softmax",
        "mops_cuda_cumsum",
        "mops_cuda_take",
        "mops_cuda_topk",
        "mops_cuda_sample_tokens",
        "mops_cuda_gemm_load",
        "mops_cuda_matmul",
        "mops_cuda_rms_norm_linear",
        "mops_cuda_linear_add",
        "mops_cuda_attention"
    };

    static boolean libraryBuilt() {
        return NativeLibraries.cuda().isPresent();
    }

    @Test
    void exportsEveryEngineOp() {
        NativeLibrary lib = NativeLibraries.cuda().orElseThrow();
        for (String name : ENGINE_OPS) {
            assertNotNull(lib.getFunction(name), name);
        }
    }

    @Test
    void availabilityMatchesTheDeviceCount() {
        boolean gpu = CudaKernels.deviceCount() > 0;
        assertEquals(gpu, CudaTensorOps.isAvailable());
        assertEquals(gpu, CudaTensorOps.unavailableReason().isEmpty());
        if (!gpu) {
            UnsupportedOperationException e =
                    assertThrows(
                            UnsupportedOperationException.class,
                            () -> CudaTensorOps.requireAvailable("a test"));
            assertTrue(e.getMessage().startsWith("a test needs a CUDA GPU, but "), e.getMessage());
            assertTrue(e.getMessage().contains("no CUDA GPU"), e.getMessage());
        }
    }
}
