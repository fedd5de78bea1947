package io.github.mambadjl.engine;

import static io.github.mambadjl.engine.TwoEngines.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every natively implemented operation against the PyTorch engine, on fresh random inputs. */
class MambaOpsVsPyTorchTest {

    private static final double TOL = 1e-5;

    private TwoEngines e;

    @BeforeEach
    void open() {
        e = new TwoEngines();
    }

    @AfterEach
    void close() {
        e.close();
    }

    private void unary(NDArray[] x, Function<NDArray, NDArray> f, double tol) {
        assertClose(f.apply(x[1]), f.apply(x[0]), tol);
    }

    private void binary(NDArray[] a, NDArray[] b, BiFunction<NDArray, NDArray, NDArray> f) {
        assertClose(f.apply(a[1], b[1]), f.apply(a[0], b[0]), TOL);
    }

    @Test
    void arithmeticWithBroadcasting() {
        NDArray[] a = e.uniform(-2, 2, 2, 3, 4);
        NDArray[] rows = e.uniform(-2, 2, 3, 1);
        NDArray[] last = e.uniform(0.5f, 2, 4);
        NDArray[] same = e.uniform(0.5f, 2, 2, 3, 4);
        for (NDArray[] b : new NDArray[][] {rows, last, same}) {
            binary(a, b, NDArray::add);
            binary(a, b, NDArray::sub);
            binary(a, b, NDArray::mul);
            binary(a, b, NDArray::div);
            binary(a, b, NDArray::maximum);
            binary(a, b, NDArray::minimum);
            binary(b, a, NDArray::sub);
        }
        binary(same, a, NDArray::pow);
        unary(a, x -> x.add(1.5f), TOL);
        unary(a, x -> x.sub(0.25f), TOL);
        unary(a, x -> x.mul(-3f), TOL);
        unary(a, x -> x.div(7f), TOL);
        unary(a, x -> x.maximum(0.1f), TOL);
        unary(a, x -> x.minimum(0.1f), TOL);
    }

    @Test
    void inPlaceArithmetic() {
        NDArray[] a = e.uniform(-2, 2, 3, 4);
        NDArray[] b = e.uniform(0.5f, 2, 4);
        for (int i = 0; i < 2; i++) {
            a[i].addi(b[i]).muli(b[i]).subi(0.5f).divi(b[i]).negi();
        }
        assertClose(a[1], a[0], TOL);
    }

    @Test
    void elementwiseFunctions() {
        NDArray[] x = e.uniform(-4, 4, 5, 7);
        NDArray[] pos = e.uniform(0.1f, 5, 5, 7);
        unary(x, NDArray::neg, TOL);
        unary(x, NDArray::abs, TOL);
        unary(x, NDArray::square, TOL);
        unary(x, NDArray::exp, TOL);
        unary(pos, NDArray::log, TOL);
        unary(pos, NDArray::sqrt, TOL);
        unary(x, NDArray::tanh, TOL);
        unary(x, Activation::sigmoid, TOL);
        unary(x, Activation::softPlus, TOL);
        unary(x, Activation::relu, TOL);
        unary(x, Activation::gelu, 1e-4);
        unary(x, a -> Activation.swish(a, 1f), TOL);
        unary(x, a -> Activation.swish(a, 1.7f), TOL);
        unary(pos, a -> a.pow(3), TOL);
        unary(pos, a -> a.pow(-0.5), TOL);
        unary(pos, a -> a.pow(2), TOL);
        unary(pos, a -> a.pow(0.5), TOL);
        unary(pos, a -> a.pow(-1), TOL);
    }

    @Test
    void comparisonsAndLogic() {
        NDArray[] a = e.uniform(-1, 1, 4, 5);
        NDArray[] b = e.uniform(-1, 1, 5);
        binary(a, b, NDArray::gt);
        binary(a, b, NDArray::gte);
        binary(a, b, NDArray::lt);
        binary(a, b, NDArray::lte);
        binary(a, a, NDArray::eq);
        binary(a, b, NDArray::neq);
        unary(a, x -> x.gt(0.2f), TOL);
        unary(a, x -> x.lte(-0.1f), TOL);
        unary(a, x -> x.gt(0).logicalAnd(x.lt(0.5f)), TOL);
        unary(a, x -> x.gt(0).logicalOr(x.lt(-0.5f)), TOL);
        unary(a, x -> x.gt(0).logicalXor(x.lt(0.5f)), TOL);
        unary(a, x -> x.gt(0).logicalNot(), TOL);
        NDArray[] ia = e.ints(5, 6, 3);
        NDArray[] ib = e.ints(5, 3);
        binary(ia, ib, NDArray::eq);
        binary(ia, ib, NDArray::add);
        binary(ia, ib, NDArray::mul);
        binary(ia, ib, NDArray::maximum);
    }

    @Test
    void where() {
        NDArray[] a = e.uniform(-1, 1, 3, 4);
        NDArray[] b = e.uniform(-1, 1, 4);
        assertClose(
                NDArrays.where(a[1].gt(0), a[1], b[1]), NDArrays.where(a[0].gt(0), a[0], b[0]), 0);
    }

    @Test
    void reductions() {
        NDArray[] x = e.uniform(-1, 1, 3, 4, 5);
        unary(x, NDArray::sum, 1e-5);
        unary(x, NDArray::mean, 1e-5);
        unary(x, NDArray::max, 0);
        unary(x, NDArray::min, 0);
        for (int[] axes : new int[][] {{0}, {1}, {-1}, {0, 2}, {1, 2}}) {
            for (boolean keep : new boolean[] {false, true}) {
                unary(x, a -> a.sum(axes, keep), 1e-5);
                assertClose(
                        oneAxisAtATime(x[1], axes, keep, NDArray::mean),
                        x[0].mean(axes, keep),
                        1e-5);
                // PyTorch's mean, max, min and prod take one axis: its reference is a chain of
                // them.
                assertClose(
                        oneAxisAtATime(x[1], axes, keep, NDArray::max), x[0].max(axes, keep), 0);
                assertClose(
                        oneAxisAtATime(x[1], axes, keep, NDArray::min), x[0].min(axes, keep), 0);
                assertClose(
                        oneAxisAtATime(x[1], axes, keep, NDArray::prod),
                        x[0].prod(axes, keep),
                        1e-5);
            }
        }
        unary(x, NDArray::argMax, 0);
        unary(x, a -> a.argMax(1), 0);
        unary(x, a -> a.argMax(-1), 0);
        unary(x, a -> a.argMin(0), 0);
        unary(x, a -> a.cumSum(2), 1e-5);
        unary(x, a -> a.cumSum(0), 1e-5);
        unary(x, NDArray::cumSum, 1e-5);
        NDArray[] ints = e.ints(100, 4, 6);
        unary(ints, a -> a.sum(new int[] {1}), 0);
        unary(ints, a -> a.argMax(1), 0);
    }

    private interface AxisReduction {
        NDArray apply(NDArray a, int[] axes, boolean keepDims);
    }

    private static NDArray oneAxisAtATime(
            NDArray x, int[] axes, boolean keep, AxisReduction reduction) {
        int rank = x.getShape().dimension();
        int[] sorted =
                java.util.Arrays.stream(axes).map(a -> a < 0 ? a + rank : a).sorted().toArray();
        NDArray r = x;
        for (int i = sorted.length - 1; i >= 0; i--) {
            r = reduction.apply(r, new int[] {sorted[i]}, keep);
        }
        return r;
    }

    @Test
    void softmax() {
        NDArray[] x = e.uniform(-8, 8, 3, 5, 11);
        for (int axis : new int[] {-1, 0, 1}) {
            unary(x, a -> a.softmax(axis), 1e-5);
            unary(x, a -> a.logSoftmax(axis), 1e-5);
        }
    }

    @Test
    void matMul() {
        // Sizes that leave partial micro-kernel tiles and several K blocks.
        assertMatMul(new long[] {37, 300}, new long[] {300, 45});
        assertMatMul(new long[] {1, 64}, new long[] {64, 33});
        assertMatMul(new long[] {2, 5, 8}, new long[] {8, 3});
        assertMatMul(new long[] {2, 5, 8}, new long[] {2, 8, 3});
        assertMatMul(new long[] {4, 1, 5, 8}, new long[] {3, 8, 6});
        assertMatMul(new long[] {8}, new long[] {8, 5});
        assertMatMul(new long[] {5, 8}, new long[] {8});
        assertMatMul(new long[] {8}, new long[] {8});
        // A transposed right operand is read through its strides (the Linear layout).
        NDArray[] x = e.uniform(-1, 1, 2, 7, 96);
        NDArray[] w = e.uniform(-1, 1, 130, 96);
        binary(x, w, (a, b) -> a.matMul(b.transpose()));
        binary(w, x, (a, b) -> a.get("0:9").matMul(b.get(0).transpose()));
    }

    @Test
    void linearAndIntegerFunctions() {
        NDArray[] x = e.uniform(-1, 1, 2, 3, 24);
        NDArray[] w = e.uniform(-1, 1, 10, 24);
        NDArray[] b = e.uniform(-1, 1, 10);
        assertClose(
                x[1].getNDArrayInternal().linear(x[1], w[1], b[1]).singletonOrThrow(),
                x[0].getNDArrayInternal().linear(x[0], w[0], b[0]).singletonOrThrow(),
                1e-5);
        assertClose(
                x[1].getNDArrayInternal().linear(x[1], w[1], null).singletonOrThrow(),
                x[0].getNDArrayInternal().linear(x[0], w[0], null).singletonOrThrow(),
                1e-5);
        NDArray[] ints = e.ints(20, 3, 4);
        unary(ints, a -> a.sub(10).neg(), 0);
        unary(ints, a -> a.sub(10).abs(), 0);
        unary(ints, a -> a.toType(DataType.INT32, false).mul(3), 0);
        unary(ints, a -> a.gt(7).sum(), 0);
    }

    @Test
    void internTakesOverTheOtherArraysData() {
        NDArray[] x = e.uniform(-1, 1, 3, 4);
        NDArray[] y = e.uniform(-1, 1, 3, 4);
        x[0].intern(y[0]);
        assertClose(y[1], x[0], 0);
        assertEquals(true, y[0].isReleased());
    }

    private void assertMatMul(long[] aShape, long[] bShape) {
        NDArray[] a = e.uniform(-1, 1, aShape);
        NDArray[] b = e.uniform(-1, 1, bShape);
        assertClose(a[1].matMul(b[1]), a[0].matMul(b[0]), 1e-4);
    }

    @Test
    void float16MatMulAndConversions() {
        NDArray[] a = e.uniform(-1, 1, 9, 40);
        NDArray[] b = e.uniform(-1, 1, 40, 20);
        NDArray ta = a[1].toType(DataType.FLOAT16, false);
        NDArray tb = b[1].toType(DataType.FLOAT16, false);
        NDArray ma = a[0].toType(DataType.FLOAT16, false);
        NDArray mb = b[0].toType(DataType.FLOAT16, false);
        assertClose(ta, ma, 0);
        // The GEMM accumulates in float32 and rounds once: within one float16 ulp of PyTorch.
        assertClose(ta.matMul(tb), ma.matMul(mb), 1e-3);
        assertClose(ta.add(tb.get("0:9, 0:1")), ma.add(mb.get("0:9, 0:1")), 0);
        unary(a, x -> x.mul(100).toType(DataType.INT32, false), 0);
        unary(a, x -> x.mul(100).toType(DataType.INT64, false), 0);
        unary(a, x -> x.gt(0).toType(DataType.FLOAT32, false), 0);
    }

    /**
     * bfloat16 against float32 PyTorch results rounded to bfloat16 in Java (DJL 0.35.1's PyTorch
     * engine aborts the JVM on bfloat16 conversions, so it cannot be the oracle here).
     */
    @Test
    void bfloat16AgainstRoundedFloat32() {
        NDArray[] a = e.uniform(-1, 1, 9, 40);
        NDArray[] b = e.uniform(-1, 1, 40, 20);
        NDArray ma = a[0].toType(DataType.BFLOAT16, false);
        NDArray mb = b[0].toType(DataType.BFLOAT16, false);
        assertEquals(DataType.BFLOAT16, ma.getDataType());
        float[] roundedA = roundToBf16(a[1].toFloatArray());
        float[] roundedB = roundToBf16(b[1].toFloatArray());
        assertArrayEquals(roundedA, ma.toType(DataType.FLOAT32, false).toFloatArray());
        NDArray ra = e.torch.create(roundedA, new Shape(9, 40));
        NDArray rb = e.torch.create(roundedB, new Shape(40, 20));
        float[] expected = roundToBf16(ra.matMul(rb).toFloatArray());
        float[] actual = ma.matMul(mb).toType(DataType.FLOAT32, false).toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            // One bfloat16 ulp (2^-7 relative): the float32 sums may round to either neighbour.
            double tol = Math.max(Math.abs(expected[i]), 1e-2) / 128;
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(i + ": expected " + expected[i] + " but got " + actual[i]);
            }
        }
        float[] sum = roundToBf16(a[1].add(a[1].mul(2)).toFloatArray());
        NDArray m2 = ma.add(ma.mul(2)).toType(DataType.FLOAT32, false);
        float[] got = m2.toFloatArray();
        for (int i = 0; i < sum.length; i++) {
            assertEquals(sum[i], got[i], Math.abs(sum[i]) / 64, "element " + i);
        }
    }

    static float[] roundToBf16(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            bits += 0x7FFF + ((bits >>> 16) & 1);
            out[i] = Float.intBitsToFloat(bits & 0xFFFF0000);
        }
        return out;
    }

    @Test
    void viewsAndShapes() {
        NDArray[] x = e.uniform(-1, 1, 4, 6, 5);
        unary(x, a -> a.reshape(6, -1), 0);
        unary(x, a -> a.transpose(2, 0, 1), 0);
        unary(x, a -> a.transpose().reshape(-1), 0);
        // reshapes of strided views: as views where the dimensions allow, else copies
        unary(x, a -> a.get(":, 1:4, :").reshape(4, 15), 0);
        unary(x, a -> a.get(":, :, 0:4").reshape(4, 6, 2, 2), 0);
        unary(x, a -> a.get(":, :, 0:4").reshape(2, 2, 6, 1, 4), 0);
        unary(x, a -> a.get(":, :, 0:4").reshape(4, 24), 0);
        unary(x, a -> a.transpose(1, 0, 2).reshape(6, 20), 0);
        unary(x, a -> a.transpose(1, 0, 2).reshape(3, 2, 4, 5), 0);
        unary(x, a -> a.get(":, ::2").reshape(12, 5).add(1), 0);
        unary(x, a -> a.swapAxes(0, 1).add(1), 0);
        unary(x, a -> a.expandDims(1), 0);
        unary(x, a -> a.get(":, 2:3").squeeze(1), 0);
        unary(x, a -> a.get("1:3, ::2, 1"), 0);
        unary(x, a -> a.get("-1"), 0);
        unary(x, a -> a.get("1:3, ::2").exp(), TOL);
        unary(x, a -> a.flatten(), 0);
        unary(x, a -> a.get(":, 0:1").broadcast(new Shape(4, 3, 5)), 0);
        unary(x, a -> a.transpose(1, 0, 2).duplicate(), 0);
        unary(x, a -> a.repeat(1, 3), 0);
        unary(x, a -> a.transpose(0, 2, 1).repeat(2, 2), 0);
        unary(x, a -> a.stopGradient().mul(2), 0);
        unary(x, a -> a.log().isNaN(), 0);
        unary(x, a -> a.div(0).isInfinite(), 0);
        for (int part = 0; part < 3; part++) {
            int p = part;
            unary(x, a -> a.split(new long[] {2, 5}, 2).get(p), 0);
            unary(x, a -> a.transpose(0, 2, 1).split(new long[] {0, 4}, 2).get(p).add(1), 0);
        }
    }

    @Test
    void splitsAreViewsAndRefuseBadIndices() {
        NDArray x = e.uniform(-1, 1, 4, 6, 5)[0];
        NDList parts = x.split(new long[] {1, 3}, 1);
        assertEquals(new Shape(4, 2, 5), parts.get(1).getShape());
        parts.get(1).set(new NDIndex("0, 0, 0"), 42f);
        assertEquals(42f, x.getFloat(0, 1, 0));
        IllegalArgumentException error =
                assertThrows(IllegalArgumentException.class, () -> x.split(new long[] {3, 2}, 1));
        assertTrue(error.getMessage().contains("split: indices [3, 2]"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.split(new long[] {7}, 1));
        assertThrows(IllegalArgumentException.class, () -> x.split(new long[] {1}, 3));
    }

    @Test
    void setThroughAnIndex() {
        NDArray[] x = e.uniform(-1, 1, 4, 6);
        NDArray[] v = e.uniform(-1, 1, 6);
        for (int i = 0; i < 2; i++) {
            x[i].set(new NDIndex("1"), v[i]);
            x[i].set(new NDIndex("2:4, 0:2"), 7.5f);
        }
        assertClose(x[1], x[0], 0);
    }

    @Test
    void gatherConcatStackTopK() {
        NDArray[] weight = e.uniform(-1, 1, 50, 16);
        NDArray[] ids = e.ints(50, 3, 7);
        binary(weight, ids, (w, i) -> w.get(new NDIndex("{}", i.flatten())));
        binary(
                weight,
                ids,
                (w, i) ->
                        i.getNDArrayInternal()
                                .embedding(i, w, SparseFormat.DENSE)
                                .singletonOrThrow());
        NDArray[] x = e.uniform(-1, 1, 5, 3);
        binary(x, e.ints(3, 4), (a, i) -> a.get(new NDIndex(":, {}", i)));
        NDArray[] y = e.uniform(-1, 1, 5, 4);
        binary(x, y, (a, b) -> NDArrays.concat(new NDList(a, b), 1));
        binary(x, x, (a, b) -> NDArrays.concat(new NDList(a, b.mul(2), b), 0));
        binary(x, x, (a, b) -> NDArrays.stack(new NDList(a, b.neg()), 1));
        NDArray[] logits = e.uniform(-3, 3, 4, 100);
        for (boolean largest : new boolean[] {true, false}) {
            NDList expected = logits[1].topK(7, -1, largest, true);
            NDList actual = logits[0].topK(7, -1, largest, true);
            assertClose(expected.get(0), actual.get(0), 0);
            assertClose(expected.get(1), actual.get(1), 0);
        }
        NDList expected = logits[1].topK(2, 0, true, true);
        NDList actual = logits[0].topK(2, 0, true, true);
        assertClose(expected.get(1), actual.get(1), 0);
    }

    @Test
    void creation() {
        NDArray m = e.mamba.arange(0, 10, 3, DataType.INT64);
        NDArray t = e.torch.arange(0, 10, 3, DataType.INT64);
        assertClose(t, m, 0);
        assertClose(e.torch.ones(new Shape(2, 3)), e.mamba.ones(new Shape(2, 3)), 0);
        assertArrayEquals(
                new float[] {2.5f, 2.5f, 2.5f, 2.5f},
                e.mamba
                        .full(new Shape(2, 2), 2.5f, DataType.BFLOAT16)
                        .toType(DataType.FLOAT32, false)
                        .toFloatArray());
        assertClose(
                e.torch.zeros(new Shape(3), DataType.INT32),
                e.mamba.zeros(new Shape(3), DataType.INT32),
                0);
        NDArray u = e.mamba.randomUniform(-1, 1, new Shape(1000));
        assertEquals(DataType.FLOAT32, u.getDataType());
        float[] values = u.toFloatArray();
        float lo = Float.MAX_VALUE;
        float hi = -Float.MAX_VALUE;
        for (float v : values) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        if (lo < -1 || hi >= 1 || hi - lo < 1.5f) {
            throw new AssertionError(
                    "randomUniform values outside [-1, 1) or not spread: " + lo + ".." + hi);
        }
    }
}
