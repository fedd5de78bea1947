package io.github.mambadjl.engine;

import static io.github.mambadjl.engine.CpuAndGpu.assertSame;
import static io.github.mambadjl.engine.CpuAndGpu.ulps;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.NativeOpException;
import io.github.mambadjl.nativeops.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Every GPU operation of the Mamba engine against the CPU engine, on random inputs. */
@Tag("gpu")
class MambaGpuOpsTest {

    private static final DataType[] FLOATS = {
        DataType.FLOAT32, DataType.FLOAT16, DataType.BFLOAT16
    };
    private static final DataType[] INTS = {DataType.INT32, DataType.INT64};

    private CpuAndGpu e;

    @BeforeEach
    void open() {
        e = new CpuAndGpu();
    }

    @AfterEach
    void close() {
        e.close();
    }

    private static void unary(NDArray[] x, Function<NDArray, NDArray> f, double tol) {
        assertSame(f.apply(x[0]), f.apply(x[1]), tol);
    }

    private static void binary(
            NDArray[] a, NDArray[] b, BiFunction<NDArray, NDArray, NDArray> f, double tol) {
        assertSame(f.apply(a[0], b[0]), f.apply(a[1], b[1]), tol);
    }

    @Test
    void engineSeesTheGpu() {
        Engine engine = Engine.getEngine("Mamba");
        assertTrue(engine.hasCapability(StandardCapabilities.CUDA));
        assertTrue(engine.getGpuCount() >= 1);
        assertEquals(Device.gpu(), e.gpu.getDevice());
        NDArray g = e.gpu.create(new float[] {1, 2, 3}, new Shape(3));
        assertEquals(Device.gpu(), g.getDevice());
        assertArrayEquals(new float[] {1, 2, 3}, g.toFloatArray());
    }

    @Test
    void elementwiseFloatingPoint() {
        for (DataType t : FLOATS) {
            double tol = ulps(t);
            NDArray[] a = e.uniform(-2, 2, t, 2, 3, 4);
            NDArray[] rows = e.uniform(-2, 2, t, 3, 1);
            NDArray[] positive = e.uniform(0.5f, 2, t, 2, 3, 4);
            NDArray[] last = e.uniform(0.5f, 2, t, 4);
            NDArray[] transposed = {a[0].transpose(2, 0, 1), a[1].transpose(2, 0, 1)};
            for (NDArray[] b : new NDArray[][] {rows, last, positive}) {
                binary(a, b, NDArray::add, tol);
                binary(a, b, NDArray::sub, tol);
                binary(a, b, NDArray::mul, tol);
                binary(a, b, NDArray::div, tol);
                binary(a, b, NDArray::maximum, tol);
                binary(a, b, NDArray::minimum, tol);
                binary(a, b, NDArray::eq, 0);
                binary(a, b, NDArray::gt, 0);
                binary(a, b, NDArray::lte, 0);
            }
            binary(positive, a, NDArray::pow, 4 * tol);
            unary(transposed, x -> x.mul(x), tol);
            unary(a, x -> x.add(1.5f), tol);
            unary(a, x -> x.div(7f), tol);
            unary(a, x -> x.maximum(0.1f), tol);
            unary(a, NDArray::neg, 0);
            unary(a, NDArray::abs, 0);
            unary(a, NDArray::square, tol);
            unary(positive, NDArray::sqrt, tol);
            unary(positive, NDArray::log, 2 * tol);
            unary(a, NDArray::exp, 2 * tol);
            unary(a, NDArray::tanh, 2 * tol);
            unary(a, x -> x.pow(3), 4 * tol);
            unary(positive, x -> x.pow(-0.5), 2 * tol);
            unary(a, Activation::sigmoid, 2 * tol);
            unary(a, Activation::softPlus, 2 * tol);
            unary(a, Activation::relu, 0);
            unary(a, Activation::gelu, 2 * tol);
            unary(a, x -> x.getNDArrayInternal().swish(1f), 2 * tol);
            unary(a, NDArray::isNaN, 0);
            unary(a, NDArray::isInfinite, 0);
            unary(a, x -> x.duplicate().addi(x).muli(2f).subi(x).divi(3f).negi(), 4 * tol);
        }
    }

    @Test
    void integersAndBooleans() {
        for (DataType t : INTS) {
            NDArray[] a = e.uniform(-50, 50, t, 3, 5);
            NDArray[] b = e.uniform(-50, 50, t, 5);
            binary(a, b, NDArray::add, 0);
            binary(a, b, NDArray::sub, 0);
            binary(a, b, NDArray::mul, 0);
            binary(a, b, NDArray::maximum, 0);
            binary(a, b, NDArray::minimum, 0);
            binary(a, b, NDArray::lt, 0);
            binary(a, b, NDArray::gte, 0);
            unary(a, NDArray::neg, 0);
            unary(a, NDArray::abs, 0);
            unary(a, NDArray::square, 0);
            unary(a, x -> x.sum(new int[] {1}), 0);
            unary(a, x -> x.cumSum(1), 0);
            unary(a, x -> x.argMax(1), 0);
            unary(a, x -> x.max(new int[] {0}), 0);
        }
        NDArray[] p = e.uniform(0, 1, DataType.BOOLEAN, 4, 6);
        NDArray[] q = e.uniform(0, 1, DataType.BOOLEAN, 6);
        binary(p, q, NDArray::logicalAnd, 0);
        binary(p, q, NDArray::logicalOr, 0);
        binary(p, q, NDArray::logicalXor, 0);
        unary(p, NDArray::logicalNot, 0);
        unary(p, NDArray::sum, 0);
    }

    @Test
    void conversionsBetweenAllTypes() {
        DataType[] all = {
            DataType.FLOAT32,
            DataType.FLOAT16,
            DataType.BFLOAT16,
            DataType.INT32,
            DataType.INT64,
            DataType.BOOLEAN
        };
        for (DataType from : all) {
            NDArray[] x = e.uniform(-300, 300, from, 4, 7);
            NDArray[] strided = {x[0].transpose(), x[1].transpose()};
            for (DataType to : all) {
                unary(x, a -> a.toType(to, true), 0);
                unary(strided, a -> a.toType(to, true), 0);
            }
        }
    }

    @Test
    void whereAndLogic() {
        for (DataType t : FLOATS) {
            NDArray[] c = e.uniform(0, 1, DataType.BOOLEAN, 3, 1, 5);
            NDArray[] a = e.uniform(-1, 1, t, 3, 4, 5);
            NDArray[] b = e.uniform(-1, 1, t, 5);
            assertSame(NDArrays.where(c[0], a[0], b[0]), NDArrays.where(c[1], a[1], b[1]), 0);
        }
    }

    @Test
    void reductions() {
        for (DataType t : FLOATS) {
            double tol = 2 * ulps(t);
            NDArray[] a = e.uniform(-1, 1, t, 4, 5, 300);
            unary(a, NDArray::sum, Math.max(tol, 1e-5));
            unary(a, x -> x.sum(new int[] {2}), tol);
            unary(a, x -> x.sum(new int[] {0, 2}, true), tol);
            unary(a, x -> x.mean(new int[] {1}), tol);
            unary(a, x -> x.mean(new int[] {2}, true), tol);
            unary(a, x -> x.max(new int[] {2}), 0);
            unary(a, x -> x.min(new int[] {0}), 0);
            unary(a, x -> x.max(), 0);
            unary(a, x -> x.argMax(2), 0);
            unary(a, x -> x.argMin(1), 0);
            unary(a, NDArray::argMax, 0);
            NDArray[] small = e.uniform(0.9f, 1.1f, t, 3, 7);
            unary(small, x -> x.prod(new int[] {1}), tol);
            // few long rows (decoding's last logits) are split over blocks, then folded
            NDArray[] vocab = e.uniform(-1, 1, t, 2, 50280);
            unary(vocab, x -> x.argMax(-1), 0);
            unary(vocab, x -> x.argMin(1), 0);
            unary(vocab, x -> x.max(new int[] {1}), 0);
            unary(vocab, x -> x.sum(new int[] {1}), Math.max(tol, 1e-5));
            unary(vocab, x -> x.mean(new int[] {1}), tol);
            // ties across the split: the first of equal maxima wins, as on the CPU
            float[] tied = new float[3 * 9000];
            tied[2 * 9000 + 8500] = 5;
            tied[2 * 9000 + 100] = 5;
            tied[8999] = 1;
            NDArray tiedCpu = e.cpu.create(tied, new Shape(3, 9000)).toType(t, false);
            NDArray[] ties = {tiedCpu, e.onGpu(tiedCpu)};
            unary(ties, x -> x.argMax(-1), 0);
            unary(ties, x -> x.argMin(-1), 0);
        }
    }

    @Test
    void softmaxAndCumSum() {
        for (DataType t : FLOATS) {
            double tol = 2 * ulps(t);
            NDArray[] logits = e.uniform(-8, 8, t, 3, 5000);
            unary(logits, x -> x.softmax(-1), tol);
            unary(logits, x -> x.logSoftmax(-1), tol);
            NDArray[] mid = e.uniform(-3, 3, t, 2, 9, 4);
            unary(mid, x -> x.softmax(1), tol);
            unary(mid, x -> x.logSoftmax(1), tol);
            unary(mid, x -> x.cumSum(1), 4 * tol);
            unary(mid, x -> x.cumSum(2), 4 * tol);
        }
    }

    @Test
    void gatherConcatShapesAndViews() {
        for (DataType t : FLOATS) {
            NDArray[] w = e.uniform(-1, 1, t, 100, 16);
            NDArray ids = e.cpu.create(new long[] {3, 99, 0, 3, -1, 42}, new Shape(2, 3));
            NDArray gpuIds = e.onGpu(ids);
            assertSame(
                    w[0].getNDArrayInternal().embedding(ids, w[0], SparseFormat.DENSE).head(),
                    w[1].getNDArrayInternal().embedding(gpuIds, w[1], SparseFormat.DENSE).head(),
                    0);
            // host indices are moved to the weight's device
            assertSame(w[0].take(ids), w[1].take(ids), 0);
            assertSame(w[0].get(new NDIndex("1:7:2, 3:")), w[1].get(new NDIndex("1:7:2, 3:")), 0);
            NDArray[] a = e.uniform(-1, 1, t, 2, 3);
            NDArray[] b = e.uniform(-1, 1, t, 2, 5);
            assertSame(
                    NDArrays.concat(new NDList(a[0], b[0]), 1),
                    NDArrays.concat(new NDList(a[1], b[1]), 1),
                    0);
            assertSame(
                    NDArrays.stack(new NDList(a[0], a[0].neg())),
                    NDArrays.stack(new NDList(a[1], a[1].neg())),
                    0);
            unary(a, x -> x.repeat(1, 3), 0);
            unary(a, x -> x.broadcast(new Shape(4, 2, 3)), 0);
            unary(a, x -> x.transpose().reshape(3, 2).duplicate(), 0);
            for (int i = 0; i < 2; i++) {
                a[i].set(new NDIndex(":, 1"), 7f);
                a[i].set(new NDIndex("0, :"), b[i].get(new NDIndex("1, 0:3")));
            }
            assertSame(a[0], a[1], 0);
        }
    }

    @Test
    void topK() {
        for (DataType t : FLOATS) {
            // few distinct values, so that ties decide by index
            NDArray[] ints = e.uniform(0, 8, DataType.INT32, 3, 1000);
            NDArray[] ties = {ints[0].toType(t, false), ints[1].toType(t, false)};
            for (int k : new int[] {1, 5, 1000}) {
                for (boolean largest : new boolean[] {true, false}) {
                    NDList c = ties[0].topK(k, -1, largest, true);
                    NDList g = ties[1].topK(k, -1, largest, true);
                    assertSame(c.get(0), g.get(0), 0);
                    assertSame(c.get(1), g.get(1), 0);
                }
            }
            NDArray[] mid = e.uniform(-1, 1, t, 2, 50, 3);
            NDList c = mid[0].topK(4, 1, true, true);
            NDList g = mid[1].topK(4, 1, true, true);
            assertSame(c.get(1), g.get(1), 0);
        }
    }

    @Test
    void matMulThroughCublasLt() {
        for (DataType t : FLOATS) {
            // float32 exact GEMM (no TF32): only the summation order differs from the CPU GEMM
            double tol = t == DataType.FLOAT32 ? 2e-5 : 2 * ulps(t);
            NDArray[] x = e.uniform(-1, 1, t, 7, 33);
            NDArray[] w = e.uniform(-1, 1, t, 65, 33);
            binary(x, w, (p, q) -> p.matMul(q.transpose()), tol);
            NDArray[] wt = e.uniform(-1, 1, t, 33, 65);
            binary(x, wt, NDArray::matMul, tol);
            NDArray[] batched = e.uniform(-1, 1, t, 3, 4, 16);
            NDArray[] right = e.uniform(-1, 1, t, 3, 16, 8);
            binary(batched, right, NDArray::matMul, tol);
            NDArray[] shared = e.uniform(-1, 1, t, 16, 8);
            binary(batched, shared, NDArray::matMul, tol);
            NDArray[] bcast = e.uniform(-1, 1, t, 2, 1, 5, 6);
            NDArray[] bcast2 = e.uniform(-1, 1, t, 3, 6, 7);
            binary(bcast, bcast2, NDArray::matMul, tol);
            NDArray[] v = e.uniform(-1, 1, t, 33);
            binary(x, v, NDArray::matMul, tol);
            binary(v, wt, NDArray::matMul, tol);
            // a column stride of 2: cuBLASLt cannot read it in place, the operand is packed
            NDArray[] wide = e.uniform(-1, 1, t, 66, 80);
            binary(x, wide, (p, q) -> p.matMul(q.get(new NDIndex("::2, ::2"))), tol);
            NDArray[] big = e.uniform(-1, 1, t, 512, 768);
            NDArray[] weight = e.uniform(-1, 1, t, 1536, 768);
            binary(
                    big,
                    weight,
                    (p, q) -> p.matMul(q.transpose()),
                    t == DataType.FLOAT32 ? 1e-4 : 4 * ulps(t));
        }
    }

    @Test
    void productsOfFewRowsByATransposedWeight() {
        // decoding's linears: 1 to 4 rows by a transposed weight, rows aligned to 16 bytes, may
        // take the GEMV (one to eight warps per output); 5 rows or an unaligned operand go to
        // cuBLASLt. Each result is within one rounding of its type (plus float32 summation) of
        // the float64 product (the CPU's blocked float16 GEMM rounds its partial sums, so it is
        // not the reference here), with the GEMV forced, with cuBLASLt forced, and measured
        try {
            for (CudaTensorOps.GemvMode mode : CudaTensorOps.GemvMode.values()) {
                CudaTensorOps.setGemvMode(mode);
                fewRowProducts();
            }
        } finally {
            CudaTensorOps.setGemvMode(CudaTensorOps.GemvMode.MEASURE);
        }
    }

    private void fewRowProducts() {
        for (DataType t : FLOATS) {
            for (int rows = 1; rows <= 5; rows++) {
                for (int k : new int[] {8, 64, 2560}) {
                    for (int n : new int[] {1, 257, 5000}) {
                        NDArray[] x = e.uniform(-1, 1, t, rows, k);
                        NDArray[] w = e.uniform(-1, 1, t, n, k);
                        closeToFloat64(x[0], w[0], x[1].matMul(w[1].transpose()));
                    }
                }
            }
            // wide products: fewer warps per output column (4 and 2 in the rule of thumb)
            for (int rows : new int[] {1, 4}) {
                for (int n : new int[] {10000, 20000}) {
                    NDArray[] x = e.uniform(-1, 1, t, rows, 2560);
                    NDArray[] weight = e.uniform(-1, 1, t, n, 2560);
                    closeToFloat64(x[0], weight[0], x[1].matMul(weight[1].transpose()));
                }
            }
            NDArray[] w = e.uniform(-1, 1, t, 31, 64);
            // rows with a stride (a slice of a wider projection), aligned or not; a 3-D step
            NDArray[] wide = e.uniform(-1, 1, t, 3, 200);
            for (String cols : new String[] {":, 8:72", ":, 3:67"}) {
                closeToFloat64(wide[0].get(cols), w[0], wide[1].get(cols).matMul(w[1].transpose()));
            }
            NDArray[] step = e.uniform(-1, 1, t, 1, 1, 64);
            closeToFloat64(
                    step[0].reshape(1, 64), w[0], step[1].matMul(w[1].transpose()).reshape(1, 31));
            NDArray[] odd = e.uniform(-1, 1, t, 2, 12);
            NDArray[] oddWeight = e.uniform(-1, 1, t, 9, 12);
            closeToFloat64(odd[0], oddWeight[0], odd[1].matMul(oddWeight[1].transpose()));
        }
    }

    /** x [m, k] and w [n, k] on the CPU, gpu = x w^T computed on the GPU. */
    private static void closeToFloat64(NDArray x, NDArray w, NDArray gpu) {
        DataType t = x.getDataType();
        assertEquals(t, gpu.getDataType());
        int m = (int) x.getShape().get(0);
        int k = (int) x.getShape().get(1);
        int n = (int) w.getShape().get(0);
        float[] xs = x.toType(DataType.FLOAT32, false).toFloatArray();
        float[] ws = w.toType(DataType.FLOAT32, false).toFloatArray();
        float[] got = gpu.toType(DataType.FLOAT32, false).toFloatArray();
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double magnitude = 0;
                for (int i = 0; i < k; i++) {
                    double term = (double) xs[r * k + i] * ws[j * k + i];
                    sum += term;
                    magnitude += Math.abs(term);
                }
                double g = got[r * n + j];
                // one rounding of the result to its type, and float32 sums in any order
                double tol = ulps(t) * Math.abs(sum) + 2e-7 * magnitude + 1e-30;
                if (Math.abs(g - sum) > tol) {
                    throw new AssertionError(
                            t
                                    + " ["
                                    + m
                                    + ", "
                                    + k
                                    + "] x ["
                                    + n
                                    + ", "
                                    + k
                                    + "]^T at ("
                                    + r
                                    + ", "
                                    + j
                                    + "): float64 "
                                    + sum
                                    + " but GPU "
                                    + g);
                }
            }
        }
    }

    @Test
    void aForwardStepGivesTheSameGreedyToken() {
        NDArray[] h = e.uniform(-1, 1, DataType.FLOAT32, 2, 5, 64);
        NDArray[] norm = e.uniform(0.5f, 1.5f, DataType.FLOAT32, 64);
        NDArray[] up = e.uniform(-0.2f, 0.2f, DataType.FLOAT32, 128, 64);
        NDArray[] head = e.uniform(-0.2f, 0.2f, DataType.FLOAT32, 1000, 64);
        NDArray[] ids = new NDArray[2];
        NDArray[] logits = new NDArray[2];
        for (int i = 0; i < 2; i++) {
            NDArray x = h[i];
            NDArray rms = x.square().mean(new int[] {-1}, true).add(1e-5f).pow(-0.5);
            NDArray y = x.mul(rms).mul(norm[i]);
            NDArray gate = y.matMul(up[i].transpose());
            NDArray split = gate.get("..., 0:64").getNDArrayInternal().swish(1f);
            NDArray mixed = split.mul(gate.get("..., 64:")).add(x);
            logits[i] = mixed.matMul(head[i].transpose()).logSoftmax(-1);
            ids[i] = logits[i].argMax(-1);
        }
        assertSame(logits[0], logits[1], 1e-4);
        assertSame(ids[0], ids[1], 0);
    }

    @Test
    void badInputOnTheGpuThrowsAndLeavesTheEngineUsable() {
        NDArray[] w = e.uniform(-1, 1, DataType.FLOAT32, 10, 4);
        NDArray bad = e.onGpu(e.cpu.create(new long[] {1, 40}, new Shape(2)));
        long blocks = MambaNDManager.deviceBlocksInUse(0);
        long bytes = MambaNDManager.deviceBytesInUse(0);
        // take reads the flattened array: 40 elements
        NativeOpException ex = assertThrows(NativeOpException.class, () -> w[1].take(bad));
        assertEquals(Status.INVALID_ARGUMENT, ex.getStatus());
        assertTrue(
                ex.getMessage().contains("index 40 at position 1 is out of bounds"),
                ex.getMessage());
        assertEquals(blocks, MambaNDManager.deviceBlocksInUse(0));
        assertEquals(bytes, MambaNDManager.deviceBytesInUse(0));
        NDArray[] other = e.uniform(-1, 1, DataType.FLOAT32, 10, 4);
        IllegalArgumentException mixed =
                assertThrows(IllegalArgumentException.class, () -> w[1].add(other[0]));
        assertTrue(mixed.getMessage().contains("different devices"), mixed.getMessage());
        binary(w, other, NDArray::add, 0);
        binary(w, other, (p, q) -> p.get(new NDIndex("3:5")).add(q.get(new NDIndex("0:2"))), 0);
    }

    @Test
    void threadsSharingTheDeviceStreamGetTheSerialResults() throws Exception {
        NDArray[] x = e.uniform(-1, 1, DataType.FLOAT32, 16, 256);
        NDArray[] w = e.uniform(-0.1f, 0.1f, DataType.FLOAT32, 512, 256);
        Supplier<float[]> forward =
                () -> {
                    try (NDManager m = e.gpu.newSubManager()) {
                        NDArray h = x[1].matMul(w[1].transpose());
                        h.attach(m);
                        NDArray y = h.getNDArrayInternal().swish(1f).logSoftmax(-1);
                        y.attach(m);
                        return y.cumSum(1).toFloatArray();
                    }
                };
        float[] serial = forward.get();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                results.add(pool.submit(forward::get));
            }
            for (Future<float[]> r : results) {
                assertArrayEquals(serial, r.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
