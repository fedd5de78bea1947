package io.github.mambadjl.nativeops;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One CUDA call over more than 2^31 elements: residual add + RMSNorm on bfloat16 rows whose element
 * indices pass 2^31 (64-bit indexing). The inputs repeat one random block, so the rows read back
 * (the first and the last ones) can be checked against the float64 oracle.
 */
@Tag("gpu")
class LargeTensorGpuTest {

    @Test
    void addRmsNormPastTwoToTheThirtyOneElements() {
        long seed = System.nanoTime();
        int hidden = 1024;
        int blockRows = 64; // the repeated block: 64 rows of x and of the residual
        long rows = (1L << 21) + 3; // 2^31 + 3072 elements
        long elems = rows * hidden;
        Random rnd = new Random(seed);
        DType bf = DType.BFLOAT16;
        float[] x = Host.quantize(bf, Host.gaussian(rnd, blockRows * hidden, 1));
        float[] res = Host.quantize(bf, Host.gaussian(rnd, blockRows * hidden, 1));
        float[] w = Host.quantize(bf, Host.uniform(rnd, hidden, 0.5, 1.5));
        ByteBuffer xBlock = bytes(x);
        ByteBuffer resBlock = bytes(res);
        try (CudaStream stream = CudaStream.create();
                DeviceBuffer xd = DeviceBuffer.allocate(stream, elems * 2);
                DeviceBuffer rd = DeviceBuffer.allocate(stream, elems * 2);
                DeviceBuffer od = DeviceBuffer.allocate(stream, elems * 2);
                DeviceBuffer wd = DeviceBuffer.allocate(stream, hidden * 2L)) {
            long blockBytes = (long) blockRows * hidden * 2;
            for (long off = 0; off < elems * 2; off += blockBytes) {
                int n = (int) Math.min(blockBytes, elems * 2 - off);
                xd.copyFrom(xBlock.duplicate().limit(n), off);
                rd.copyFrom(resBlock.duplicate().limit(n), off);
            }
            wd.copyFrom(bytes(w));
            CudaKernels.addRmsNorm(
                    stream.handle(),
                    new AddRmsNormArgs(
                            xd.tensor(bf, rows, hidden),
                            rd.tensor(bf, rows, hidden),
                            wd.tensor(bf, hidden),
                            1e-6f,
                            od.tensor(bf, rows, hidden),
                            rd.tensor(bf, rows, hidden)));
            for (long row : new long[] {0, rows - 2, rows - 1}) {
                ByteBuffer outRow =
                        ByteBuffer.allocateDirect(hidden * 2).order(ByteOrder.nativeOrder());
                ByteBuffer resRow =
                        ByteBuffer.allocateDirect(hidden * 2).order(ByteOrder.nativeOrder());
                od.copyTo(outRow, row * hidden * 2);
                rd.copyTo(resRow, row * hidden * 2);
                stream.synchronize();
                int b = (int) (row % blockRows);
                float[] sum = new float[hidden];
                for (int i = 0; i < hidden; i++) {
                    sum[i] = Host.roundTo(bf, x[b * hidden + i] + res[b * hidden + i]);
                }
                double[] want = Oracles.rmsNorm(1, hidden, sum, w, 1e-6);
                Compare.close("row " + row, want, floats(outRow), Host.rtol(bf), 1e-2, seed);
                Compare.close(
                        "residual row " + row, Compare.toDouble(sum), floats(resRow), 0, 0, seed);
            }
        }
    }

    private static ByteBuffer bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocateDirect(v.length * 2).order(ByteOrder.nativeOrder());
        for (float f : v) {
            b.putShort(Host.floatToBf16(f));
        }
        return b.clear();
    }

    private static float[] floats(ByteBuffer b) {
        float[] v = new float[b.capacity() / 2];
        for (int i = 0; i < v.length; i++) {
            v[i] = Host.bf16ToFloat(b.getShort(i * 2));
        }
        return v;
    }
}
