package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.nativeops.CudaTensorOps;
import java.util.ArrayList;
import java.util.List;

/**
 * Causal grouped-query attention over a KV cache, as Bamba's attention layers compute it after the
 * (partial) rotary embedding: on a GPU one fused flash-style kernel that never stores the {@code
 * qLen x kvLen} scores; on the CPU the same result from the engine's native operations.
 */
public final class FusedAttention {

    private FusedAttention() {}

    /**
     * Computes {@code out[b,h,i] = sum_{j <= qOffset + i} softmax_j(scale q[b,h,i] . k[b,g,j])
     * v[b,g,j]}, where key/value head {@code g = h / (qHeads / kvHeads)}.
     *
     * @param q the queries {@code [batch, qHeads, qLen, headDim]}
     * @param k the keys {@code [batch, kvHeads, kvLen, headDim]}: a KV cache whose first {@code
     *     qOffset} positions precede the queries
     * @param v the values, shaped like {@code k}
     * @param qOffset the position of the first query among the keys ({@code kvLen - qLen} for a
     *     cache that ends with the queries' own keys)
     * @param scale the factor of the scores, usually {@code 1 / sqrt(headDim)}
     * @return the output {@code [batch, qHeads, qLen, headDim]}, on the queries' device
     * @throws IllegalArgumentException if the shapes, types or devices do not fit together
     */
    public static NDArray causal(NDArray q, NDArray k, NDArray v, long qOffset, float scale) {
        MambaNDArray mq = mamba(q, "q");
        MambaNDArray mk = mamba(k, "k");
        MambaNDArray mv = mamba(v, "v");
        long[] qs = mq.dims();
        long[] ks = mk.dims();
        if (qs.length != 4 || ks.length != 4 || !mk.getShape().equals(mv.getShape())) {
            throw new IllegalArgumentException(
                    "attention needs q [batch, qHeads, qLen, headDim] and k, v [batch, kvHeads,"
                            + " kvLen, headDim] of one shape; got "
                            + q.getShape()
                            + ", "
                            + k.getShape()
                            + ", "
                            + v.getShape());
        }
        if (qs[0] != ks[0] || qs[3] != ks[3] || ks[1] == 0 || qs[1] % ks[1] != 0) {
            throw new IllegalArgumentException(
                    "attention: q "
                            + q.getShape()
                            + " and k "
                            + k.getShape()
                            + " must share batch and headDim, and qHeads must be a multiple of"
                            + " kvHeads");
        }
        if (qOffset < 0 || qOffset + qs[2] > ks[2]) {
            throw new IllegalArgumentException(
                    "attention: qOffset "
                            + qOffset
                            + " + qLen "
                            + qs[2]
                            + " must not exceed kvLen "
                            + ks[2]);
        }
        if (q.getDataType() != k.getDataType()
                || q.getDataType() != v.getDataType()
                || !mq.type().isFloating()) {
            throw new IllegalArgumentException(
                    "attention needs floating-point q, k, v of one data type, got "
                            + q.getDataType()
                            + ", "
                            + k.getDataType()
                            + ", "
                            + v.getDataType());
        }
        mq.operand(k, "attention");
        mq.operand(v, "attention");
        if (mq.backend() instanceof CudaBackend) {
            return fused((CudaBackend) mq.backend(), mq, mk, mv, qOffset, scale);
        }
        return composed(mq, mk, mv, qOffset, scale);
    }

    private static MambaNDArray mamba(NDArray a, String name) {
        if (!(a instanceof MambaNDArray)) {
            throw new IllegalArgumentException(
                    "attention: " + name + " must be an array of the Mamba engine");
        }
        return (MambaNDArray) a;
    }

    private static NDArray fused(
            CudaBackend gpu,
            MambaNDArray q,
            MambaNDArray k,
            MambaNDArray v,
            long qOffset,
            float scale) {
        MambaNDArray qc = unitLast(q);
        MambaNDArray kc = unitLast(k);
        MambaNDArray vc = unitLast(v);
        try {
            long[] qs = q.dims();
            long[] ks = k.dims();
            MambaNDArray out = q.allocateLike(q.getShape(), q.getDataType(), false);
            try {
                CudaTensorOps.attention(
                        gpu.stream(),
                        q.type(),
                        new long[] {qs[0], qs[1], ks[1], qs[2], ks[2], qs[3], qOffset},
                        scale,
                        qc.address(),
                        qc.strides(),
                        kc.address(),
                        kc.strides(),
                        vc.address(),
                        vc.strides(),
                        out.address(),
                        out.strides());
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        } finally {
            for (MambaNDArray c : new MambaNDArray[] {qc, kc, vc}) {
                if (c != q && c != k && c != v) {
                    c.close();
                }
            }
        }
    }

    /** The array itself when its last axis has stride 1 (or size 1), else a contiguous copy. */
    private static MambaNDArray unitLast(MambaNDArray a) {
        long[] st = a.strides();
        long[] d = a.dims();
        return st[3] == 1 || d[3] == 1 ? a : a.contiguous();
    }

    private static NDArray composed(
            MambaNDArray q, MambaNDArray k, MambaNDArray v, long qOffset, float scale) {
        List<NDArray> temporaries = new ArrayList<>();
        try {
            long group = q.dims()[1] / k.dims()[1];
            long qLen = q.dims()[2];
            long kvLen = k.dims()[2];
            NDManager manager = q.getManager();
            NDArray kk = keep(temporaries, group == 1 ? k.duplicate() : k.repeat(1, group));
            NDArray vv = keep(temporaries, group == 1 ? v.duplicate() : v.repeat(1, group));
            NDArray kt = keep(temporaries, kk.transpose(0, 1, 3, 2));
            NDArray product = keep(temporaries, q.matMul(kt));
            NDArray scores = keep(temporaries, product.mul(scale));
            NDArray queryPos =
                    keep(temporaries, manager.arange(qOffset, qOffset + qLen, 1, DataType.INT64));
            NDArray keyPos = keep(temporaries, manager.arange(0, kvLen, 1, DataType.INT64));
            NDArray keyRow = keep(temporaries, keyPos.expandDims(0));
            NDArray queryColumn = keep(temporaries, queryPos.expandDims(1));
            NDArray visible = keep(temporaries, keyRow.lte(queryColumn));
            NDArray mask = keep(temporaries, visible.broadcast(scores.getShape()));
            NDArray hidden =
                    keep(
                            temporaries,
                            manager.full(
                                    scores.getShape(),
                                    Float.NEGATIVE_INFINITY,
                                    scores.getDataType()));
            NDArray masked = keep(temporaries, NDArrays.where(mask, scores, hidden));
            NDArray weights = keep(temporaries, masked.softmax(-1));
            return weights.matMul(vv);
        } finally {
            for (NDArray t : temporaries) {
                t.close();
            }
        }
    }

    private static NDArray keep(List<NDArray> temporaries, NDArray a) {
        temporaries.add(a);
        return a;
    }
}
