package io.github.mambadjl.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.kernel.KernelOutput;
import io.github.mambadjl.kernel.RecordedStep;
import io.github.mambadjl.kernel.SsmKernels;
import io.github.mambadjl.kernel.StepRecorder;
import io.github.mambadjl.kernel.TokenSampling;
import io.github.mambadjl.nativeops.CausalConv1dArgs;
import io.github.mambadjl.nativeops.CausalConv1dUpdateArgs;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.NativeTensor;
import io.github.mambadjl.nativeops.RmsNormGatedArgs;
import io.github.mambadjl.nativeops.SamplingSettings;
import io.github.mambadjl.nativeops.SelectiveScanArgs;
import io.github.mambadjl.nativeops.SelectiveStateUpdateArgs;
import io.github.mambadjl.nativeops.SelectiveStateUpdateProjectedArgs;
import io.github.mambadjl.nativeops.SsdArgs;
import io.github.mambadjl.nativeops.SsdStateUpdateArgs;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The {@link SsmKernels} of the {@code Mamba} engine: each method is one call of a fused native
 * kernel, reading the arrays in place through their strides: the CPU kernels of {@code libmambaops}
 * ({@link CpuKernels}) for host arrays, the CUDA kernels ({@code CudaKernels}, on the device's
 * engine stream) for GPU arrays, chosen by {@link SsmKernelDispatch} from the first input.
 *
 * <p>Inputs in the storage dtype (float32, float16 or bfloat16, the dtype of the first input) are
 * read with any strides; the state matrix, skips, biases and states are read as float32 and
 * contiguous, converted only when they are not. Every state this class returns is float32 (the
 * kernels keep states in float32 whatever the storage dtype). The one-step methods update a
 * float32, contiguous state of this engine in place and return it (a decoding step then neither
 * copies nor allocates its states, and a recorded step reads and writes the same state memory at
 * every replay); any other state is copied first and left as it was.
 */
public final class MambaSsmKernels implements SsmKernels, StepRecorder, TokenSampling {

    /** The single instance. */
    public static final MambaSsmKernels INSTANCE = new MambaSsmKernels();

    private MambaSsmKernels() {}

    /** {@inheritDoc} */
    @Override
    public boolean canRecord(Device device) {
        return device.isGpu() && CudaTensorOps.isAvailable();
    }

    /**
     * {@inheritDoc}
     *
     * <p>On the engine's stream of the GPU, as a CUDA graph; each replay frees and makes again the
     * outputs at the same addresses.
     */
    @Override
    public RecordedStep record(Device device, Supplier<NDList> step) {
        if (!canRecord(device)) {
            throw new IllegalArgumentException(
                    "steps are recorded on a GPU of the Mamba engine, not on " + device);
        }
        CudaBackend gpu = CudaBackend.of(device.getDeviceId());
        GraphRecording recording = gpu.startRecording();
        NDList outputs;
        try {
            outputs = step.get();
        } catch (RuntimeException e) {
            try {
                recording.discard();
            } catch (RuntimeException d) {
                e.addSuppressed(d);
            }
            throw new IllegalStateException(
                    "the step cannot be recorded as a CUDA graph: " + e.getMessage(), e);
        }
        return new RecordedGraph(gpu, recording.finish(), outputs);
    }

    /** {@inheritDoc} */
    @Override
    public KernelOutput causalConv1d(
            NDArray x, NDArray weight, NDArray bias, NDArray state, boolean silu) {
        requireRank("causalConv1d", "x", x, 3);
        try (KernelArgs k = new KernelArgs("causalConv1d", x)) {
            Shape s = x.getShape();
            long width = width("causalConv1d", weight, s.get(1));
            MambaNDArray out = k.outputLike(x, k.storage());
            MambaNDArray finalState =
                    k.output(new Shape(s.get(0), s.get(1), width - 1), DataType.FLOAT32);
            try {
                SsmKernelDispatch.causalConv1d(
                        k.anchor(),
                        new CausalConv1dArgs(
                                k.strided(x),
                                k.contiguous(weight),
                                k.contiguous(bias),
                                k.float32(state),
                                KernelArgs.tensor(finalState),
                                KernelArgs.tensor(out),
                                silu));
            } catch (RuntimeException e) {
                out.close();
                finalState.close();
                throw e;
            }
            return new KernelOutput(out, finalState);
        }
    }

    /** {@inheritDoc} */
    @Override
    public KernelOutput causalConv1dUpdate(
            NDArray x, NDArray weight, NDArray bias, NDArray state, boolean silu) {
        requireRank("causalConv1dUpdate", "x", x, 2);
        requireState("causalConv1dUpdate", state);
        try (KernelArgs k = new KernelArgs("causalConv1dUpdate", x)) {
            return oneStep(
                    k,
                    x,
                    state,
                    (out, newState) ->
                            SsmKernelDispatch.causalConv1dUpdate(
                                    k.anchor(),
                                    new CausalConv1dUpdateArgs(
                                            k.strided(x),
                                            k.contiguous(weight),
                                            k.contiguous(bias),
                                            KernelArgs.tensor(newState),
                                            KernelArgs.tensor(out),
                                            silu)));
        }
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
        requireRank("selectiveScan", "A", a, 2);
        try (KernelArgs k = new KernelArgs("selectiveScan", u)) {
            Shape s = u.getShape();
            MambaNDArray out = k.outputLike(u, k.storage());
            MambaNDArray finalState =
                    k.output(new Shape(s.get(0), s.get(1), a.getShape().get(1)), DataType.FLOAT32);
            try {
                SsmKernelDispatch.selectiveScan(
                        k.anchor(),
                        new SelectiveScanArgs(
                                k.strided(u),
                                k.strided(delta),
                                k.float32(a),
                                k.strided(k.grouped(b, 4)),
                                k.strided(k.grouped(c, 4)),
                                k.float32(d),
                                k.strided(z),
                                k.float32(deltaBias),
                                deltaSoftplus,
                                k.float32(state),
                                KernelArgs.tensor(finalState),
                                KernelArgs.tensor(out)));
            } catch (RuntimeException e) {
                out.close();
                finalState.close();
                throw e;
            }
            return new KernelOutput(out, finalState);
        }
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
        requireState("selectiveStateUpdate", state);
        try (KernelArgs k = new KernelArgs("selectiveStateUpdate", u)) {
            return oneStep(
                    k,
                    u,
                    state,
                    (out, newState) ->
                            SsmKernelDispatch.selectiveStateUpdate(
                                    k.anchor(),
                                    new SelectiveStateUpdateArgs(
                                            KernelArgs.tensor(newState),
                                            k.strided(u),
                                            k.strided(delta),
                                            k.float32(a),
                                            k.strided(k.grouped(b, 3)),
                                            k.strided(k.grouped(c, 3)),
                                            k.float32(d),
                                            k.strided(z),
                                            k.float32(deltaBias),
                                            deltaSoftplus,
                                            KernelArgs.tensor(out))));
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>One native kernel on the CPU and on a GPU ({@code
     * mops_cpu_selective_state_update_projected}, {@code
     * mops_cuda_selective_state_update_projected}) where {@code dtLow} and {@code dtProjWeight} are
     * rank-2 arrays of this engine, on the device of {@code u} and in its dtype, with a contiguous
     * last axis (the views of {@code x_proj}'s output that {@code Mamba} passes are): the step
     * computes each channel's time step from {@code dtLow} and the channel's row of the weight,
     * summed in float32 in the order of this engine's product of a decoding step (its GEMV) and
     * rounded to the dtype before the bias and softplus, so that where the product runs that GEMV
     * (up to 4 rows; on a GPU, one warp per column: rows of whole 16-byte vectors, fewer than 64 of
     * them) the result is that of the product then {@link #selectiveStateUpdate}, bit for bit, and
     * elsewhere differs from it only by the association of the float32 sums. Anywhere else, the
     * default composition.
     */
    @Override
    public KernelOutput selectiveStateUpdateProjected(
            NDArray state,
            NDArray u,
            NDArray dtLow,
            NDArray dtProjWeight,
            NDArray a,
            NDArray b,
            NDArray c,
            NDArray d,
            NDArray z,
            NDArray deltaBias,
            boolean deltaSoftplus) {
        if (!projectionFits(u, dtLow, dtProjWeight)) {
            return SsmKernels.super.selectiveStateUpdateProjected(
                    state, u, dtLow, dtProjWeight, a, b, c, d, z, deltaBias, deltaSoftplus);
        }
        requireRank("selectiveStateUpdateProjected", "u", u, 2);
        requireState("selectiveStateUpdateProjected", state);
        try (KernelArgs k = new KernelArgs("selectiveStateUpdateProjected", u)) {
            return oneStep(
                    k,
                    u,
                    state,
                    (out, newState) ->
                            SsmKernelDispatch.selectiveStateUpdateProjected(
                                    k.anchor(),
                                    new SelectiveStateUpdateProjectedArgs(
                                            KernelArgs.tensor(newState),
                                            k.strided(u),
                                            k.strided(dtLow),
                                            k.strided(dtProjWeight),
                                            k.float32(a),
                                            k.strided(k.grouped(b, 3)),
                                            k.strided(k.grouped(c, 3)),
                                            k.float32(d),
                                            k.strided(z),
                                            k.float32(deltaBias),
                                            deltaSoftplus,
                                            KernelArgs.tensor(out))));
        }
    }

    /**
     * Runs a one-step kernel: allocates its output, shaped like {@code first}, and takes the state
     * it updates ({@link KernelArgs#stateToUpdate}); closes what it allocated if the kernel fails.
     *
     * @param k the call's arguments
     * @param first the input whose shape the output has
     * @param state the state the step consumes
     * @param kernel runs the kernel on the output and the state to update
     * @return the output and the updated state
     */
    private static KernelOutput oneStep(
            KernelArgs k,
            NDArray first,
            NDArray state,
            BiConsumer<MambaNDArray, MambaNDArray> kernel) {
        MambaNDArray out = k.output(first.getShape(), k.storage());
        MambaNDArray newState = k.stateToUpdate(state);
        try {
            kernel.accept(out, newState);
        } catch (RuntimeException e) {
            out.close();
            if (newState != state) {
                newState.close();
            }
            throw e;
        }
        return new KernelOutput(out, newState);
    }

    /**
     * Whether the projected step's native kernel reads {@code dtLow} and the weight as they are:
     * rank-2 arrays of this engine on the device of {@code u}, in its dtype, the last axis
     * contiguous.
     */
    private static boolean projectionFits(NDArray u, NDArray dtLow, NDArray weight) {
        return u instanceof MambaNDArray x
                && dtLow instanceof MambaNDArray low
                && weight instanceof MambaNDArray w
                && low.getDataType() == x.getDataType()
                && w.getDataType() == x.getDataType()
                && low.backend() == x.backend()
                && w.backend() == x.backend()
                && rowsContiguous(low)
                && rowsContiguous(w);
    }

    private static boolean rowsContiguous(MambaNDArray array) {
        long[] dims = array.dims();
        return dims.length == 2 && (dims[1] <= 1 || array.strides()[1] == 1);
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
        requireRank("ssdChunkScan", "B", b, 4);
        if (chunkSize <= 0) {
            throw new IllegalArgumentException(
                    "ssdChunkScan: chunkSize must be positive, got " + chunkSize);
        }
        try (KernelArgs k = new KernelArgs("ssdChunkScan", x)) {
            Shape s = x.getShape();
            MambaNDArray out = k.outputLike(x, k.storage());
            MambaNDArray finalState =
                    k.output(
                            new Shape(s.get(0), s.get(2), s.get(3), b.getShape().get(3)),
                            DataType.FLOAT32);
            try {
                SsmKernelDispatch.ssd(
                        k.anchor(),
                        new SsdArgs(
                                k.strided(x),
                                k.strided(dt),
                                k.float32(a),
                                k.strided(b),
                                k.strided(c),
                                k.float32(d),
                                k.strided(z),
                                k.float32(dtBias),
                                dtSoftplus,
                                dtMin,
                                dtMax,
                                chunkSize,
                                k.float32(state),
                                KernelArgs.tensor(finalState),
                                KernelArgs.tensor(out)));
            } catch (RuntimeException e) {
                out.close();
                finalState.close();
                throw e;
            }
            return new KernelOutput(out, finalState);
        }
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
        requireState("ssdStep", state);
        try (KernelArgs k = new KernelArgs("ssdStep", x)) {
            return oneStep(
                    k,
                    x,
                    state,
                    (out, newState) ->
                            SsmKernelDispatch.ssdStateUpdate(
                                    k.anchor(),
                                    new SsdStateUpdateArgs(
                                            KernelArgs.tensor(newState),
                                            k.strided(x),
                                            k.strided(dt),
                                            k.float32(a),
                                            k.strided(b),
                                            k.strided(c),
                                            k.float32(d),
                                            k.strided(z),
                                            k.float32(dtBias),
                                            dtSoftplus,
                                            dtMin,
                                            dtMax,
                                            KernelArgs.tensor(out))));
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Without a padding mask, one {@link FusedAttention} kernel on a GPU (the scores never
     * stored); with one, the composed default.
     */
    @Override
    public NDArray causalAttention(NDArray q, NDArray k, NDArray v, NDArray keyMask, float scale) {
        if (keyMask != null) {
            return SsmKernels.super.causalAttention(q, k, v, keyMask, scale);
        }
        long offset = k.getShape().get(2) - q.getShape().get(2);
        return FusedAttention.causal(q, k, v, offset, scale);
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
        if (shape.dimension() == 0) {
            throw new IllegalArgumentException("gatedRmsNorm: x must have at least one axis");
        }
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
        if (z != null && !z.getShape().equals(shape)) {
            throw new IllegalArgumentException(
                    "gatedRmsNorm: z " + z.getShape() + " must have the shape of x " + shape);
        }
        long rows = channels == 0 ? 0 : shape.size() / channels;
        try (KernelArgs k = new KernelArgs("gatedRmsNorm", x)) {
            MambaNDArray out = k.output(shape, k.storage());
            try {
                SsmKernelDispatch.rmsNormGated(
                        k.anchor(),
                        new RmsNormGatedArgs(
                                rows(k, x, rows, channels),
                                z == null ? null : rows(k, z, rows, channels),
                                k.contiguous(weight),
                                groupSize,
                                eps,
                                normBeforeGate,
                                KernelArgs.tensor(out)
                                        .view(
                                                0,
                                                rowShape(rows, channels),
                                                new long[] {channels, 1})));
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>On a GPU, for 1 to 4 rows (a decoding step of up to 4 sequences) in float32, float16 or
     * bfloat16, a contiguous input on 16 bytes whose rows fill whole 16-byte vectors, a contiguous
     * weight of the same dtype and no bias: one kernel ({@code mops_cuda_rms_norm_linear}), the
     * norm in the prologue of the GEMV. Anywhere else, the CPU included, the default composition.
     */
    @Override
    public NDArray rmsNormLinear(
            NDArray x, NDArray normWeight, float eps, NDArray weight, NDArray bias) {
        NDArray fused = FusedGemv.rmsNormLinear(x, normWeight, eps, weight, bias);
        return fused != null
                ? fused
                : SsmKernels.super.rmsNormLinear(x, normWeight, eps, weight, bias);
    }

    /**
     * {@inheritDoc}
     *
     * <p>On a GPU, where {@link #rmsNormLinear} fuses and the addend is a contiguous array of the
     * output's shape and dtype on the same GPU: one kernel ({@code mops_cuda_linear_add}), the add
     * in the epilogue of the GEMV, bit for bit the product then the add when both run the same
     * split of the GEMV. For a prompt's rows on a GPU (any number of rows, the input read through
     * its strides): one cuBLASLt call ({@code mops_cuda_matmul_add}) that adds the addend before
     * the output's one rounding, where the composition rounds the product first (the two differ by
     * at most half a unit in the last place of the product in the dtype). Anywhere else, the CPU
     * included, the default composition.
     */
    @Override
    public NDArray linearAdd(NDArray x, NDArray weight, NDArray bias, NDArray addend) {
        NDArray fused = FusedGemv.linearAdd(x, weight, bias, addend);
        if (fused == null) {
            fused = FusedGemm.linearAdd(x, weight, bias, addend);
        }
        return fused != null ? fused : SsmKernels.super.linearAdd(x, weight, bias, addend);
    }

    /**
     * {@inheritDoc}
     *
     * <p>On this engine (no autograd) the result is computed once per {@code A_log} array and kept
     * with it, closed with it, and recomputed only when its memory is written ({@code set}, an
     * in-place operation) or replaced ({@code intern}): a decoding step does not recompute the
     * exponentials of every layer's {@code A_log}.
     */
    @Override
    public NDArray stateMatrix(NDArray aLog, NDManager manager) {
        if (aLog instanceof MambaNDArray) {
            return ((MambaNDArray) aLog).stateMatrix();
        }
        return SsmKernels.super.stateMatrix(aLog, manager);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One native call ({@code mops_cpu_sample_tokens} or {@code mops_cuda_sample_tokens}).
     */
    @Override
    public NDArray sampleTokens(
            NDArray logits, NDArray draws, float temperature, int topK, float topP, float minP) {
        requireRank("sampleTokens", "logits", logits, 2);
        requireRank("sampleTokens", "draws", draws, 1);
        if (!(logits instanceof MambaNDArray x) || !(draws instanceof MambaNDArray d)) {
            throw new IllegalArgumentException(
                    "sampleTokens: logits and draws must be arrays of the Mamba engine");
        }
        if (!logits.getDataType().isFloating()) {
            throw new IllegalArgumentException(
                    "sampleTokens: logits must be float32, float16 or bfloat16, got "
                            + logits.getDataType());
        }
        long rows = logits.getShape().get(0);
        if (draws.getDataType() != DataType.INT64 || draws.getShape().get(0) != rows) {
            throw new IllegalArgumentException(
                    "sampleTokens: draws must be int64 ["
                            + rows
                            + "] (one per row), got "
                            + draws.getDataType()
                            + " "
                            + draws.getShape());
        }
        if (!draws.getDevice().equals(logits.getDevice())) {
            throw new IllegalArgumentException(
                    "sampleTokens: draws are on "
                            + draws.getDevice()
                            + ", logits on "
                            + logits.getDevice());
        }
        return x.sampleTokens(d, new SamplingSettings(temperature, topK, topP, minP));
    }

    /**
     * Views {@code [..., channels]} as {@code [rows, channels]} with a row stride, without a copy
     * when the leading axes collapse into one and the channels are contiguous.
     */
    private static NativeTensor rows(KernelArgs k, NDArray array, long rows, long channels) {
        NativeTensor t = k.strided(array);
        long[] dims = t.shape();
        int last = dims.length - 1;
        boolean innerContiguous = dims[last] <= 1 || t.stride(last) == 1;
        long rowStride = channels;
        boolean collapses = innerContiguous;
        long expected = -1;
        for (int i = last - 1; i >= 0 && collapses; i--) {
            if (dims[i] == 1) {
                continue;
            }
            if (expected < 0) {
                rowStride = t.stride(i);
                expected = rowStride * dims[i];
            } else if (t.stride(i) == expected) {
                expected *= dims[i];
            } else {
                collapses = false;
            }
        }
        if (!collapses) {
            t = k.contiguous(array);
            rowStride = channels;
        }
        return t.view(0, rowShape(rows, channels), new long[] {rowStride, 1});
    }

    private static long[] rowShape(long rows, long channels) {
        return new long[] {rows, channels};
    }

    private static long width(String op, NDArray weight, long channels) {
        Shape ws = weight.getShape();
        long width = ws.get(ws.dimension() - 1);
        if (ws.get(0) != channels || ws.size() != channels * width) {
            throw new IllegalArgumentException(
                    op
                            + ": weight "
                            + ws
                            + " must be [channels, width] or [channels, 1, width] with "
                            + channels
                            + " channels");
        }
        return width;
    }

    private static void requireRank(String op, String name, NDArray array, int rank) {
        if (array == null) {
            throw new IllegalArgumentException(op + ": " + name + " is required");
        }
        if (array.getShape().dimension() != rank) {
            throw new IllegalArgumentException(
                    op + ": " + name + " must have rank " + rank + ", got " + array.getShape());
        }
    }

    private static void requireState(String op, NDArray state) {
        if (state == null) {
            throw new IllegalArgumentException(
                    op + ": the state is required (run the sequence kernel first)");
        }
    }
}
