package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The parallel copy that the benchmarks use as their memory floor. */
class CpuCopyTest {

    @Test
    void copiesEveryByteAcrossBlocks() {
        long seed = System.nanoTime();
        float[] src = Host.gaussian(new Random(seed), (3 << 18) + 7, 1); // 3 MiB + 28 bytes
        NativeTensor s = Host.f32(src, src.length);
        NativeTensor d = Host.poisoned(DType.FLOAT32, src.length);
        CpuKernels.copy(d, s, src.length * 4L);
        assertArrayEquals(src, Host.read(d), "seed " + seed);
    }

    @Test
    void oversizedCopyIsRefused() {
        NativeTensor s = Host.f32(new float[4], 4);
        assertThrows(IllegalArgumentException.class, () -> CpuKernels.copy(s, s, 17));
    }
}
