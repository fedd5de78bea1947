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

    /**
     * The fused GEMVs check their operands before any CUDA call, so their refusals show on a
     * machine without a GPU too (the addresses are never read).
     */
    @Test
    void fusedGemvsSayWhatTheyCannotRead() {
        long x = 1024;
        long w = 4096;
        long out = 1 << 20;
        long addend = 1 << 21;
        long norm = 1 << 22;
        TensorDType bf16 = TensorDType.BFLOAT16;
        refused(
                "1 to 4 rows",
                () -> CudaTensorOps.linearAdd(0, bf16, 5, 24, 64, x, 64, w, 64, addend, 24, out));
        refused(
                "16 bytes",
                () -> CudaTensorOps.linearAdd(0, bf16, 2, 24, 65, x, 65, w, 65, addend, 24, out));
        refused(
                "16 bytes",
                () ->
                        CudaTensorOps.rmsNormLinear(
                                0, bf16, 1, 24, 64, x + 2, 64, norm, 1e-5f, w, 64, out));
        refused(
                "row stride >= n",
                () -> CudaTensorOps.linearAdd(0, bf16, 2, 24, 64, x, 64, w, 64, addend, 23, out));
        refused(
                "must not overlap",
                () -> CudaTensorOps.linearAdd(0, bf16, 2, 24, 64, x, 64, w, 64, out + 8, 24, out));
        refused(
                "norm weight starting on 16 bytes",
                () ->
                        CudaTensorOps.rmsNormLinear(
                                0, bf16, 1, 24, 64, x, 64, norm + 8, 1e-5f, w, 64, out));
        refused(
                "eps >= 0",
                () ->
                        CudaTensorOps.rmsNormLinear(
                                0, bf16, 1, 24, 64, x, 64, norm, -1f, w, 64, out));
    }

    private static void refused(String reason, Runnable call) {
        NativeOpException e = assertThrows(NativeOpException.class, call::run);
        assertEquals(Status.INVALID_ARGUMENT, e.getStatus(), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
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
