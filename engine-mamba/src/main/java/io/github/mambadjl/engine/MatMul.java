package io.github.mambadjl.engine;

import java.util.Arrays;

/**
 * {@code matMul} with NumPy semantics (1-D operands, broadcast batch dimensions) on the native
 * GEMM. Transposed and broadcast operands are read through their strides without a copy when the
 * batch dimensions can be walked with one stride.
 */
final class MatMul {

    private MatMul() {}

    static MambaNDArray run(MambaNDArray a, MambaNDArray b) {
        String op = "matMul";
        if (a.getDataType() != b.getDataType() || !a.type().isFloating()) {
            throw new IllegalArgumentException(
                    op
                            + " needs two floating-point arrays of one data type, got "
                            + a.getDataType()
                            + " and "
                            + b.getDataType());
        }
        long[] as = a.dims();
        long[] bs = b.dims();
        if (as.length == 0 || bs.length == 0) {
            throw new IllegalArgumentException(
                    op
                            + " needs arrays of rank 1 or more, got "
                            + a.getShape()
                            + " and "
                            + b.getShape());
        }
        long[] ast = a.strides();
        long[] bst = b.strides();
        boolean aVector = as.length == 1;
        boolean bVector = bs.length == 1;
        if (aVector) {
            as = new long[] {1, as[0]};
            ast = new long[] {0, ast[0]};
        }
        if (bVector) {
            bs = new long[] {bs[0], 1};
            bst = new long[] {bst[0], 0};
        }
        long m = as[as.length - 2];
        long k = as[as.length - 1];
        long n = bs[bs.length - 1];
        if (bs[bs.length - 2] != k) {
            throw new IllegalArgumentException(
                    op
                            + ": shapes "
                            + a.getShape()
                            + " and "
                            + b.getShape()
                            + " do not match: the last dimension of the first ("
                            + k
                            + ") must equal the second-to-last of the second ("
                            + bs[bs.length - 2]
                            + ")");
        }
        long[] aBatch = Arrays.copyOf(as, as.length - 2);
        long[] bBatch = Arrays.copyOf(bs, bs.length - 2);
        long[] batch = Strides.broadcastShape(aBatch, bBatch, op);
        long[] aBatchStrides =
                Strides.broadcastStrides(aBatch, Arrays.copyOf(ast, ast.length - 2), batch, op);
        long[] bBatchStrides =
                Strides.broadcastStrides(bBatch, Arrays.copyOf(bst, bst.length - 2), batch, op);
        long count = Strides.product(batch, 0, batch.length);

        MambaNDArray aData = a;
        MambaNDArray bData = b;
        long aStep = Strides.flatStride(batch, aBatchStrides);
        long bStep = Strides.flatStride(batch, bBatchStrides);
        long[] aMat = {ast[ast.length - 2], ast[ast.length - 1]};
        long[] bMat = {bst[bst.length - 2], bst[bst.length - 1]};
        try {
            if (aStep < 0) {
                long[] full = concat(batch, m, k);
                aData =
                        a.materialize(
                                full, concat(aBatchStrides, aMat[0], aMat[1]), a.getDataType());
                aStep = m * k;
                aMat = new long[] {k, 1};
            }
            if (bStep < 0) {
                long[] full = concat(batch, k, n);
                bData =
                        b.materialize(
                                full, concat(bBatchStrides, bMat[0], bMat[1]), b.getDataType());
                bStep = k * n;
                bMat = new long[] {n, 1};
            }
            long[] outShape = concat(batch, m, n);
            MambaNDArray out = a.allocateLike(Strides.shape(outShape), a.getDataType(), false);
            long gemmBatch = count;
            long gemmRows = m;
            if (count > 1 && bStep == 0 && aStep == m * aMat[0]) {
                // One shared right operand and rows that continue across the batch: a single
                // taller product packs B once instead of once per batch entry.
                gemmBatch = 1;
                gemmRows = count * m;
            }
            a.backend()
                    .matmul(
                            a.type(),
                            gemmBatch,
                            gemmRows,
                            n,
                            k,
                            aData.address(),
                            new long[] {aStep, aMat[0], aMat[1]},
                            bData.address(),
                            new long[] {bStep, bMat[0], bMat[1]},
                            out.address());
            if (!aVector && !bVector) {
                return out;
            }
            long[] finalShape =
                    aVector && bVector ? batch : aVector ? concat(batch, n) : concat(batch, m);
            try (out) {
                return out.view(0, finalShape, Strides.contiguous(finalShape));
            }
        } finally {
            if (aData != a) {
                aData.close();
            }
            if (bData != b) {
                bData.close();
            }
        }
    }

    private static long[] concat(long[] head, long... tail) {
        long[] out = Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, out, head.length, tail.length);
        return out;
    }
}
