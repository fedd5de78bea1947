package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The token sampling cases of {@link SampleTokensCpuTest} on the CUDA library. */
@Tag("gpu")
class SampleTokensGpuTest extends SampleTokensCpuTest {

    /**
     * The device does not read the draws on the host: one outside [0, 2^53) is taken as the nearer
     * end of the range (draw 0 chooses the best token, 2^53 - 1 the last kept one).
     */
    @Override
    @Test
    void drawsOutsideTheirRange() {
        float[] logits = {1f, 2f, 3f};
        SamplingSettings all = new SamplingSettings(1f, 0, 1f, 0f);
        long[] draws = {-1, Long.MIN_VALUE, 0, 1L << 53, Long.MAX_VALUE, (1L << 53) - 1};
        float[] rows = new float[3 * draws.length];
        for (int r = 0; r < draws.length; r++) {
            System.arraycopy(logits, 0, rows, 3 * r, 3);
        }
        assertArrayEquals(
                new long[] {2, 2, 2, 0, 0, 0},
                sample(DType.FLOAT32, rows, draws.length, 3, 3, all, draws));
    }

    @Override
    long[] sample(
            DType dtype,
            float[] logits,
            int rows,
            int vocab,
            int stride,
            SamplingSettings settings,
            long[] draws) {
        NativeTensor x = Host.tensor(dtype, logits, logits.length);
        long bytes = (long) logits.length * dtype.byteSize();
        try (CudaStream stream = CudaStream.create();
                DeviceBuffer dx = DeviceBuffer.allocate(stream, bytes);
                DeviceBuffer dd = DeviceBuffer.allocate(stream, 8L * rows);
                DeviceBuffer dt = DeviceBuffer.allocate(stream, 8L * rows)) {
            dx.copyFrom(new Pointer(x.address()).getByteBuffer(0, bytes));
            ByteBuffer hostDraws =
                    ByteBuffer.allocateDirect(8 * rows).order(ByteOrder.nativeOrder());
            hostDraws.asLongBuffer().put(draws);
            dd.copyFrom(hostDraws);
            CudaTensorOps.sampleTokens(
                    Pointer.nativeValue(stream.handle()),
                    TensorDType.valueOf(dtype.name()),
                    dx.address(),
                    rows,
                    vocab,
                    stride,
                    settings,
                    dd.address(),
                    dt.address());
            ByteBuffer tokens = ByteBuffer.allocateDirect(8 * rows).order(ByteOrder.nativeOrder());
            dt.copyTo(tokens);
            long[] out = new long[rows];
            tokens.asLongBuffer().get(out);
            return out;
        }
    }
}
