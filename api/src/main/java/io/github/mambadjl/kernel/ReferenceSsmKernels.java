package io.github.mambadjl.kernel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link SsmKernels} written with ordinary {@link NDArray} operations only.
 *
 * <p>It runs on any engine, is differentiable through DJL's autograd (so the blocks train with it)
 * and is the oracle that fused kernels are tested against. The SSD scan is chunked: quadratic
 * within a chunk, a recurrence across chunks, so its cost is linear in the sequence length.
 */
public final class ReferenceSsmKernels implements SsmKernels {

    /** The single instance. */
    public static final ReferenceSsmKernels INSTANCE = new ReferenceSsmKernels();

    private ReferenceSsmKernels() {}

    /** {@inheritDoc} */
    @Override
    public KernelOutput causalConv1d(
            NDArray x, NDArray weight, NDArray bias, NDArray state, boolean silu) {
        Shape shape = x.getShape();
        requireRank("causalConv1d", "x", x, 3);
        long batch = shape.get(0);
        long channels = shape.get(1);
        long length = shape.get(2);
        NDArray w = filters(weight, channels);
        long width = w.getShape().get(1);
        NDArray previous = state;
        if (previous == null) {
            previous = x.getManager().zeros(new Shape(batch, channels, width - 1), x.getDataType());
        } else {
            requireShape("causalConv1d", "state", previous, new Shape(batch, channels, width - 1));
        }
        NDArray padded = NDArrays.concat(new NDList(previous, x), 2);
        NDArray y = null;
        for (long k = 0; k < width; k++) {
            NDArray term =
                    padded.get(":, :, {}:{}", k, k + length)
                            .mul(w.get(":, {}", k).reshape(1, channels, 1));
            y = y == null ? term : y.add(term);
        }
        if (bias != null) {
            y = y.add(bias.reshape(1, channels, 1));
        }
        if (silu) {
            y = silu(y);
        }
        return new KernelOutput(y, padded.get(":, :, {}:", length));
    }

    /** {@inheritDoc} */
    @Override
    public KernelOutput causalConv1dUpdate(
            NDArray x, NDArray weight, NDArray bias, NDArray state, boolean silu) {
        requireRank("causalConv1dUpdate", "x", x, 2);
        long channels = x.getShape().get(1);
        NDArray w = filters(weight, channels);
        long width = w.getShape().get(1);
        requireShape(
                "causalConv1dUpdate",
                "state",
                state,
                new Shape(x.getShape().get(0), channels, width - 1));
        NDArray window = NDArrays.concat(new NDList(state, x.expandDims(2)), 2);
        NDArray y = window.mul(w.expandDims(0)).sum(new int[] {2});
        if (bias != null) {
            y = y.add(bias.expandDims(0));
        }
        if (silu) {
            y = silu(y);
        }
        return new KernelOutput(y, window.get(":, :, 1:"));
    }

    /** {@inheritDoc} */
    @Override
    public KernelOutput selectiveScan(
            NDArray u,
            NDArray delta,
            NDArray a,
            NDArray b,
            NDArray c,
            NDArray d,
            NDArray z,
            NDArray deltaBias,
            boolean deltaSoftplus,
            NDArray state) {
        requireRank("selectiveScan", "u", u, 3);
        Shape shape = u.getShape();
        long batch = shape.get(0);
        long dim = shape.get(1);
        long length = shape.get(2);
        long dState = a.getShape().get(1);
        NDArray dt = timeStep(delta, deltaBias == null ? null : deltaBias.reshape(1, dim, 1));
        if (deltaSoftplus) {
            dt = softplus(dt);
        }
        NDArray dt4 = dt.expandDims(3);
        // [batch, dim, length, dState]
        NDArray decay = dt4.mul(a.reshape(1, dim, 1, dState)).exp();
        NDArray drive = dt4.mul(sequenceProjection(b, dim)).mul(u.expandDims(3));
        NDArray readout = sequenceProjection(c, dim);
        NDArray h = state;
        if (h == null) {
            h = u.getManager().zeros(new Shape(batch, dim, dState), u.getDataType());
        } else {
            requireShape("selectiveScan", "state", h, new Shape(batch, dim, dState));
        }
        NDList ys = new NDList((int) length);
        for (long t = 0; t < length; t++) {
            h = decay.get(":, :, {}", t).mul(h).add(drive.get(":, :, {}", t));
            ys.add(h.mul(readout.get(":, :, {}", t)).sum(new int[] {2}));
        }
        NDArray y = NDArrays.stack(ys, 2);
        if (d != null) {
            y = y.add(u.mul(d.reshape(1, dim, 1)));
        }
        if (z != null) {
            y = y.mul(silu(z));
        }
        return new KernelOutput(y, h);
    }

    /** {@inheritDoc} */
    @Override
    public KernelOutput selectiveStateUpdate(
            NDArray state,
            NDArray u,
            NDArray delta,
            NDArray a,
            NDArray b,
            NDArray c,
            NDArray d,
            NDArray z,
            NDArray deltaBias,
            boolean deltaSoftplus) {
        requireRank("selectiveStateUpdate", "u", u, 2);
        long dim = u.getShape().get(1);
        long dState = a.getShape().get(1);
        requireShape(
                "selectiveStateUpdate",
                "state",
                state,
                new Shape(u.getShape().get(0), dim, dState));
        NDArray dt = timeStep(delta, deltaBias == null ? null : deltaBias.expandDims(0));
        if (deltaSoftplus) {
            dt = softplus(dt);
        }
        NDArray dt3 = dt.expandDims(2);
        NDArray decay = dt3.mul(a.expandDims(0)).exp();
        NDArray drive = dt3.mul(stepProjection(b, dim)).mul(u.expandDims(2));
        NDArray h = decay.mul(state).add(drive);
        NDArray y = h.mul(stepProjection(c, dim)).sum(new int[] {2});
        if (d != null) {
            y = y.add(u.mul(d.expandDims(0)));
        }
        if (z != null) {
            y = y.mul(silu(z));
        }
        return new KernelOutput(y, h);
    }

    /** {@inheritDoc} */
    @Override
    public KernelOutput ssdChunkScan(
            NDArray x,
            NDArray dt,
            NDArray a,
            NDArray b,
            NDArray c,
            int chunkSize,
            NDArray d,
            NDArray z,
            NDArray dtBias,
            boolean dtSoftplus,
            float dtMin,
            float dtMax,
            NDArray state) {
        requireRank("ssdChunkScan", "x", x, 4);
        if (chunkSize <= 0) {
            throw new IllegalArgumentException(
                    "ssdChunkScan: chunkSize must be positive, got " + chunkSize);
        }
        Shape shape = x.getShape();
        long batch = shape.get(0);
        long length = shape.get(1);
        long heads = shape.get(2);
        long headDim = shape.get(3);
        long dState = b.getShape().get(3);
        NDManager manager = x.getManager();
        NDArray step = processDt(dt, dtBias, heads, dtSoftplus, dtMin, dtMax, 3);
        NDArray bh = headProjection("ssdChunkScan", b, heads);
        NDArray ch = headProjection("ssdChunkScan", c, heads);
        NDArray h = state;
        if (h == null) {
            h = manager.zeros(new Shape(batch, heads, headDim, dState), x.getDataType());
        } else {
            requireShape("ssdChunkScan", "state", h, new Shape(batch, heads, headDim, dState));
        }
        NDArray aRow = a.reshape(1, 1, heads);
        List<NDArray> outputs = new ArrayList<>();
        for (long start = 0; start < length; start += chunkSize) {
            long end = Math.min(length, start + chunkSize);
            String range = start + ":" + end;
            NDArray dtc = step.get(":, " + range);
            // [batch, heads, chunk]
            NDArray cumulative = dtc.mul(aRow).transpose(0, 2, 1).cumSum(2);
            NDArray xt = x.get(":, " + range).mul(dtc.expandDims(3)).transpose(0, 2, 1, 3);
            NDArray bt = bh.get(":, " + range).transpose(0, 2, 1, 3);
            NDArray ct = ch.get(":, " + range).transpose(0, 2, 1, 3);
            NDArray decay = segmentDecay(cumulative, end - start);
            NDArray scores = ct.matMul(bt.transpose(0, 1, 3, 2)).mul(decay);
            NDArray diagonal = scores.matMul(xt);
            NDArray offDiagonal =
                    ct.matMul(h.transpose(0, 1, 3, 2)).mul(cumulative.exp().expandDims(3));
            outputs.add(diagonal.add(offDiagonal).transpose(0, 2, 1, 3));
            NDArray last = cumulative.get(":, :, -1:");
            NDArray toEnd = last.sub(cumulative).exp().expandDims(3);
            h = h.mul(last.exp().expandDims(3)).add(xt.mul(toEnd).transpose(0, 1, 3, 2).matMul(bt));
        }
        NDArray y = NDArrays.concat(new NDList(outputs), 1);
        if (d != null) {
            y = y.add(x.mul(d.reshape(1, 1, heads, 1)));
        }
        if (z != null) {
            y = y.mul(silu(z));
        }
        return new KernelOutput(y, h);
    }

    /** {@inheritDoc} */
    @Override
    public KernelOutput ssdStep(
            NDArray state,
            NDArray x,
            NDArray dt,
            NDArray a,
            NDArray b,
            NDArray c,
            NDArray d,
            NDArray z,
            NDArray dtBias,
            boolean dtSoftplus,
            float dtMin,
            float dtMax) {
        requireRank("ssdStep", "x", x, 3);
        long heads = x.getShape().get(1);
        requireRank("ssdStep", "state", state, 4);
        NDArray step = processDt(dt, dtBias, heads, dtSoftplus, dtMin, dtMax, 2);
        NDArray decay = step.mul(a.expandDims(0)).exp().reshape(-1, heads, 1, 1);
        NDArray bh = headProjection("ssdStep", b.expandDims(1), heads).squeeze(1);
        NDArray ch = headProjection("ssdStep", c.expandDims(1), heads).squeeze(1);
        NDArray drive = x.mul(step.expandDims(2)).expandDims(3).mul(bh.expandDims(2));
        NDArray h = state.mul(decay).add(drive);
        NDArray y = h.mul(ch.expandDims(2)).sum(new int[] {3});
        if (d != null) {
            y = y.add(x.mul(d.reshape(1, heads, 1)));
        }
        if (z != null) {
            y = y.mul(silu(z));
        }
        return new KernelOutput(y, h);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray gatedRmsNorm(
            NDArray x,
            NDArray z,
            NDArray weight,
            float eps,
            int groupSize,
            boolean normBeforeGate) {
        Shape shape = x.getShape();
        long channels = shape.get(shape.dimension() - 1);
        if (groupSize <= 0 || channels % groupSize != 0) {
            throw new IllegalArgumentException(
                    "gatedRmsNorm: groupSize "
                            + groupSize
                            + " must be positive and divide the "
                            + channels
                            + " channels of x "
                            + shape);
        }
        NDArray input = x;
        if (z != null && !normBeforeGate) {
            input = input.mul(silu(z));
        }
        Shape grouped =
                shape.slice(0, shape.dimension() - 1)
                        .addAll(new Shape(channels / groupSize, groupSize));
        NDArray g = input.reshape(grouped);
        NDArray meanSquare = g.square().mean(new int[] {-1}, true);
        NDArray y = g.div(meanSquare.add(eps).sqrt()).reshape(shape).mul(weight);
        if (z != null && normBeforeGate) {
            y = y.mul(silu(z));
        }
        return y;
    }

    /**
     * The composed form of {@link SsmKernels#causalAttention}: the keys and values repeated for the
     * query heads, the scores, the causal and padding mask, softmax, and the weighted values.
     *
     * @param q the queries {@code [batch, qHeads, qLen, headDim]}
     * @param k the keys {@code [batch, kvHeads, kvLen, headDim]}
     * @param v the values, shaped like {@code k}
     * @param keyMask {@code [batch, kvLen]} (nonzero for tokens) or {@code null}
     * @param scale the factor of the scores
     * @return {@code [batch, qHeads, qLen, headDim]}
     */
    public static NDArray composedAttention(
            NDArray q, NDArray k, NDArray v, NDArray keyMask, float scale) {
        long qHeads = q.getShape().get(1);
        long kvHeads = k.getShape().get(1);
        if (kvHeads != qHeads) {
            k = k.repeat(1, qHeads / kvHeads);
            v = v.repeat(1, qHeads / kvHeads);
        }
        long length = q.getShape().get(2);
        long total = k.getShape().get(2);
        NDManager manager = q.getManager();
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale);
        long offset = total - length;
        NDArray queryPos = manager.arange(offset, offset + length, 1, DataType.INT64);
        NDArray keyPos = manager.arange(0, total, 1, DataType.INT64);
        NDArray allowed =
                keyPos.expandDims(0).lte(queryPos.expandDims(1)).reshape(1, 1, length, total);
        if (keyMask != null) {
            NDArray keys = keyMask.toType(DataType.BOOLEAN, false).reshape(-1, 1, 1, total);
            allowed = allowed.logicalAnd(keys);
        }
        NDArray blocked = manager.full(scores.getShape(), -1e30f, scores.getDataType());
        scores = NDArrays.where(allowed.broadcast(scores.getShape()), scores, blocked);
        return scores.softmax(-1).matMul(v);
    }

    /**
     * Returns {@code x * sigmoid(x)}.
     *
     * @param x the input
     * @return SiLU of the input
     */
    public static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /**
     * Returns {@code log(1 + exp(x))}, computed without overflow.
     *
     * @param x the input
     * @return softplus of the input
     */
    public static NDArray softplus(NDArray x) {
        return x.maximum(0).add(x.abs().neg().exp().add(1).log());
    }

    private static NDArray timeStep(NDArray delta, NDArray bias) {
        return bias == null ? delta : delta.add(bias);
    }

    private static NDArray processDt(
            NDArray dt,
            NDArray dtBias,
            long heads,
            boolean softplus,
            float dtMin,
            float dtMax,
            int rank) {
        requireRank("ssd", "dt", dt, rank);
        NDArray step = dt;
        if (dtBias != null) {
            step = step.add(rank == 3 ? dtBias.reshape(1, 1, heads) : dtBias.reshape(1, heads));
        }
        if (softplus) {
            step = softplus(step);
        }
        if (dtMin > 0f) {
            step = step.maximum(dtMin);
        }
        if (dtMax < Float.POSITIVE_INFINITY) {
            step = step.minimum(dtMax);
        }
        return step;
    }

    /** [b, N, L] or [b, G, N, L] to [b, dim or 1, L, N]. */
    private static NDArray sequenceProjection(NDArray p, long dim) {
        if (p.getShape().dimension() == 3) {
            return p.transpose(0, 2, 1).expandDims(1);
        }
        requireRank("selectiveScan", "B/C", p, 4);
        long groups = p.getShape().get(1);
        requireDivides("selectiveScan", groups, dim);
        return p.transpose(0, 1, 3, 2).repeat(1, dim / groups);
    }

    /** [b, N] or [b, G, N] to [b, dim or 1, N]. */
    private static NDArray stepProjection(NDArray p, long dim) {
        if (p.getShape().dimension() == 2) {
            return p.expandDims(1);
        }
        requireRank("selectiveStateUpdate", "B/C", p, 3);
        long groups = p.getShape().get(1);
        requireDivides("selectiveStateUpdate", groups, dim);
        return p.repeat(1, dim / groups);
    }

    /** [b, L, G, N] to [b, L, heads, N], head h reading group h / (heads / G). */
    private static NDArray headProjection(String op, NDArray p, long heads) {
        requireRank(op, "B/C", p, 4);
        long groups = p.getShape().get(2);
        requireDivides(op, groups, heads);
        return groups == heads ? p : p.repeat(2, heads / groups);
    }

    /** exp(cs_i - cs_j) for i >= j, else 0; [b, h, L, L]. */
    private static NDArray segmentDecay(NDArray cumulative, long length) {
        NDManager manager = cumulative.getManager();
        NDArray diff = cumulative.expandDims(3).sub(cumulative.expandDims(2));
        NDArray index = manager.arange(length);
        NDArray causal = index.expandDims(1).gte(index.expandDims(0));
        NDArray minusInf =
                manager.full(diff.getShape(), Float.NEGATIVE_INFINITY, diff.getDataType());
        return NDArrays.where(causal.broadcast(diff.getShape()), diff, minusInf).exp();
    }

    private static NDArray filters(NDArray weight, long channels) {
        Shape ws = weight.getShape();
        long width = ws.get(ws.dimension() - 1);
        if (ws.size() != channels * width || ws.get(0) != channels || width < 2) {
            throw new IllegalArgumentException(
                    "causalConv1d: weight must be [channels, width] or [channels, 1, width] with"
                            + " channels = "
                            + channels
                            + " and width >= 2, got "
                            + ws);
        }
        return weight.reshape(channels, width);
    }

    private static void requireRank(String op, String name, NDArray array, int rank) {
        if (array.getShape().dimension() != rank) {
            throw new IllegalArgumentException(
                    op
                            + ": "
                            + name
                            + " must have "
                            + rank
                            + " dimensions, got "
                            + array.getShape());
        }
    }

    private static void requireShape(String op, String name, NDArray array, Shape expected) {
        if (!array.getShape().equals(expected)) {
            throw new IllegalArgumentException(
                    op + ": " + name + " must be " + expected + ", got " + array.getShape());
        }
    }

    private static void requireDivides(String op, long groups, long count) {
        if (groups <= 0 || count % groups != 0) {
            throw new IllegalArgumentException(
                    op
                            + ": the number of B/C groups ("
                            + groups
                            + ") must divide "
                            + count
                            + "; check n_groups in the config");
        }
    }
}
