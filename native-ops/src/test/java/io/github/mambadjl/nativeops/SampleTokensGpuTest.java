package io.github.mambadjl.nativeops;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Tag;

/** The token sampling cases of {@link SampleTokensCpuTest} on the CUDA library. */
@Tag("gpu")
class SampleTokensGpuTest extends SampleTokensCpuTest {

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
