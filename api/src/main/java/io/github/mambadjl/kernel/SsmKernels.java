package io.github.mambadjl.kernel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/**
 * The state-space operations of the Mamba family, the small surface that an engine may implement
 * with fused kernels (see the project's ARCHITECTURE.md, "One forward, two engines").
 *
 * <p>Every method follows the semantics of mamba_ssm and Hugging Face transformers: the scans fuse
 * the {@code D} skip connection, the {@code z} gate ({@code y * silu(z)}), the addition of the
 * delta bias and the softplus; the convolution fuses its bias and the SiLU. Every stateful method
 * accepts an optional initial state (may be {@code null}, meaning zeros) and returns the final
 * state, so a prompt can be processed in pieces and prefill hands its state to decoding. Optional
 * arrays may be {@code null}. The one-step methods ({@link #causalConv1dUpdate}, {@link
 * #selectiveStateUpdate}, {@link #selectiveStateUpdateProjected}, {@link #ssdStep}) may update the
 * state they are given in place and return it as the new state (the {@code Mamba} engine does, so
 * that decoding neither copies nor allocates states): after a step, use the returned state, and
 * keep a copy of the given one if it is still needed.
 */
public interface SsmKernels {

    /**
     * Returns the kernels for the engine of the given array: an engine-specific implementation
     * registered through {@link SsmKernelsProvider}, or the {@link ReferenceSsmKernels}.
     *
     * @param array an array of the engine in use
     * @return the kernels to use with arrays of that engine
     */
    static SsmKernels of(NDArray array) {
        String engine = array.getManager().getEngine().getEngineName();
        return KernelRegistry.PROVIDERS.getOrDefault(engine, ReferenceSsmKernels.INSTANCE);
    }

    /**
     * Depthwise causal 1-D convolution over a sequence.
     *
     * @param x the input {@code [batch, channels, length]}
     * @param weight the filters {@code [channels, width]} or {@code [channels, 1, width]}, width 2
     *     to 4
     * @param bias the bias {@code [channels]}, or {@code null}
     * @param state the {@code width - 1} inputs preceding {@code x}, {@code [batch, channels, width
     *     - 1]}, or {@code null} for zeros
     * @param silu whether to apply SiLU to the output
     * @return the output {@code [batch, channels, length]} and the last {@code width - 1} inputs
     */
    KernelOutput causalConv1d(NDArray x, NDArray weight, NDArray bias, NDArray state, boolean silu);

    /**
     * One step of {@link #causalConv1d}: consumes a single position.
     *
     * @param x the input {@code [batch, channels]}
     * @param weight the filters {@code [channels, width]} or {@code [channels, 1, width]}
     * @param bias the bias {@code [channels]}, or {@code null}
     * @param state the preceding inputs {@code [batch, channels, width - 1]}
     * @param silu whether to apply SiLU to the output
     * @return the output {@code [batch, channels]} and the shifted state
     */
    KernelOutput causalConv1dUpdate(
            NDArray x, NDArray weight, NDArray bias, NDArray state, boolean silu);

    /**
     * The selective scan of Mamba-1: {@code h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t}, {@code
     * y_t = C_t h_t + D u_t}, then {@code y * silu(z)}.
     *
     * @param u the input {@code [batch, dim, length]}
     * @param delta the time steps {@code [batch, dim, length]} (before bias and softplus)
     * @param a the state matrix {@code [dim, dState]} (already negative: {@code -exp(A_log)})
     * @param b input projections {@code [batch, dState, length]} or {@code [batch, groups, dState,
     *     length]}
     * @param c output projections, shaped like {@code b}
     * @param d the skip weights {@code [dim]}, or {@code null}
     * @param z the gate {@code [batch, dim, length]}, or {@code null}
     * @param deltaBias added to {@code delta}, {@code [dim]}, or {@code null}
     * @param deltaSoftplus whether to apply softplus to {@code delta + deltaBias}
     * @param state the initial state {@code [batch, dim, dState]}, or {@code null} for zeros
     * @return the output {@code [batch, dim, length]} and the final state {@code [batch, dim,
     *     dState]}
     */
    KernelOutput selectiveScan(
            NDArray u,
            NDArray delta,
            NDArray a,
            NDArray b,
            NDArray c,
            NDArray d,
            NDArray z,
            NDArray deltaBias,
            boolean deltaSoftplus,
            NDArray state);

    /**
     * One step of {@link #selectiveScan}.
     *
     * @param state the state {@code [batch, dim, dState]}
     * @param u the input {@code [batch, dim]}
     * @param delta the time step {@code [batch, dim]}
     * @param a the state matrix {@code [dim, dState]}
     * @param b {@code [batch, dState]} or {@code [batch, groups, dState]}
     * @param c shaped like {@code b}
     * @param d the skip weights {@code [dim]}, or {@code null}
     * @param z the gate {@code [batch, dim]}, or {@code null}
     * @param deltaBias {@code [dim]}, or {@code null}
     * @param deltaSoftplus whether to apply softplus to {@code delta + deltaBias}
     * @return the output {@code [batch, dim]} and the new state
     */
    KernelOutput selectiveStateUpdate(
            NDArray state,
            NDArray u,
            NDArray delta,
            NDArray a,
            NDArray b,
            NDArray c,
            NDArray d,
            NDArray z,
            NDArray deltaBias,
            boolean deltaSoftplus);

    /**
     * One step of {@link #selectiveScan} with the time step's low-rank projection ({@code dt_proj}
     * of Mamba-1) folded in: {@code delta = linear(dtLow, dtProjWeight)}, then {@link
     * #selectiveStateUpdate}, which an engine may run as one kernel (the step computing each
     * channel's time step from its row of the weight, without a projection of its own).
     *
     * <p>This default is exactly {@code selectiveStateUpdate(state, u, Linear.linear(dtLow,
     * dtProjWeight), a, b, c, d, z, deltaBias, deltaSoftplus)}: the product is stored in {@code
     * dtLow}'s dtype before the step reads it, as the two calls do. It is made of differentiable
     * NDArray operations where the engine's are.
     *
     * @param state the state {@code [batch, dim, dState]}
     * @param u the input {@code [batch, dim]}
     * @param dtLow the low-rank time step {@code [batch, dtRank]}
     * @param dtProjWeight the projection {@code [dim, dtRank]}, without bias ({@code deltaBias} is
     *     added after it)
     * @param a the state matrix {@code [dim, dState]}
     * @param b {@code [batch, dState]} or {@code [batch, groups, dState]}
     * @param c shaped like {@code b}
     * @param d the skip weights {@code [dim]}, or {@code null}
     * @param z the gate {@code [batch, dim]}, or {@code null}
     * @param deltaBias {@code [dim]}, or {@code null}
     * @param deltaSoftplus whether to apply softplus to {@code delta + deltaBias}
     * @return the output {@code [batch, dim]} and the new state
     */
    default KernelOutput selectiveStateUpdateProjected(
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
        NDArray delta = Linear.linear(dtLow, dtProjWeight).head();
        return selectiveStateUpdate(state, u, delta, a, b, c, d, z, deltaBias, deltaSoftplus);
    }

    /**
     * The chunked state-space-duality scan of Mamba-2, with one scalar decay per head. Its cost is
     * linear in the sequence length.
     *
     * @param x the input {@code [batch, length, heads, headDim]}
     * @param dt the time steps {@code [batch, length, heads]} (before bias, softplus and limits)
     * @param a the decay per head {@code [heads]} (already negative: {@code -exp(A_log)})
     * @param b input projections {@code [batch, length, groups, dState]}; head {@code h} uses group
     *     {@code h / (heads / groups)}
     * @param c output projections, shaped like {@code b}
     * @param chunkSize the chunk length
     * @param d the skip weights {@code [heads]}, or {@code null}
     * @param z the gate {@code [batch, length, heads, headDim]}, or {@code null}
     * @param dtBias added to {@code dt}, {@code [heads]}, or {@code null}
     * @param dtSoftplus whether to apply softplus to {@code dt + dtBias}
     * @param dtMin the lower clamp of the time step (0 for none)
     * @param dtMax the upper clamp of the time step ({@code Float.POSITIVE_INFINITY} for none)
     * @param state the initial state {@code [batch, heads, headDim, dState]}, or {@code null}
     * @return the output {@code [batch, length, heads, headDim]} and the final state
     */
    KernelOutput ssdChunkScan(
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
            NDArray state);

    /**
     * One step of {@link #ssdChunkScan}.
     *
     * @param state the state {@code [batch, heads, headDim, dState]}
     * @param x the input {@code [batch, heads, headDim]}
     * @param dt the time step {@code [batch, heads]}
     * @param a the decay per head {@code [heads]}
     * @param b {@code [batch, groups, dState]}
     * @param c shaped like {@code b}
     * @param d the skip weights {@code [heads]}, or {@code null}
     * @param z the gate {@code [batch, heads, headDim]}, or {@code null}
     * @param dtBias {@code [heads]}, or {@code null}
     * @param dtSoftplus whether to apply softplus to {@code dt + dtBias}
     * @param dtMin the lower clamp of the time step
     * @param dtMax the upper clamp of the time step
     * @return the output {@code [batch, heads, headDim]} and the new state
     */
    KernelOutput ssdStep(
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
            float dtMax);

    /**
     * RMS normalisation with an optional SiLU gate, per group of {@code groupSize} channels along
     * the last axis, as mamba_ssm's {@code RMSNormGated}.
     *
     * @param x the input {@code [..., channels]}
     * @param z the gate, shaped like {@code x}, or {@code null}
     * @param weight the scale {@code [channels]}
     * @param eps the epsilon added to the mean square
     * @param groupSize the number of channels normalised together; must divide {@code channels}
     * @param normBeforeGate {@code true}: {@code norm(x) * silu(z)}; {@code false}: {@code norm(x *
     *     silu(z))}
     * @return the normalised output, shaped like {@code x}
     */
    NDArray gatedRmsNorm(
            NDArray x, NDArray z, NDArray weight, float eps, int groupSize, boolean normBeforeGate);

    /**
     * The linear projection of RMS-normalised inputs, {@code linear(rmsNorm(x), weight, bias)}: the
     * pre-norm of a residual layer and the first projection of its block in one call, which an
     * engine may run as one kernel (the norm computed in the prologue of a decoding step's GEMV).
     *
     * <p>This default is exactly {@code Linear.linear(gatedRmsNorm(x, null, normWeight, eps, c,
     * true), weight[, bias])} with {@code c} the last dimension of {@code x}: the normalised input
     * is stored in {@code x}'s dtype before the product, as the two calls do. It is made of
     * differentiable NDArray operations where the engine's are.
     *
     * @param x the input {@code [..., in]}
     * @param normWeight the scale of the norm {@code [in]}
     * @param eps the epsilon added to the mean square
     * @param weight the projection {@code [out, in]}
     * @param bias the bias {@code [out]}, or {@code null}
     * @return {@code [..., out]}
     */
    default NDArray rmsNormLinear(
            NDArray x, NDArray normWeight, float eps, NDArray weight, NDArray bias) {
        Shape shape = x.getShape();
        if (shape.dimension() == 0) {
            throw new IllegalArgumentException("rmsNormLinear: x must have at least one axis");
        }
        int channels = Math.toIntExact(shape.get(shape.dimension() - 1));
        NDArray normed = gatedRmsNorm(x, null, normWeight, eps, channels, true);
        return bias == null
                ? Linear.linear(normed, weight).head()
                : Linear.linear(normed, weight, bias).head();
    }

    /**
     * A linear projection added to another array, {@code addend + linear(x, weight, bias)}: the
     * last projection of a residual layer's block and the residual add in one call, which an engine
     * may run as one kernel (the add in the epilogue of a decoding step's GEMV or of a prompt's
     * GEMM, which may then round the sum once where the composition rounds the product first).
     *
     * <p>This default is exactly {@code addend.add(Linear.linear(x, weight[, bias]))}: the product
     * is stored in {@code x}'s dtype before the add, as the two calls do. It is made of
     * differentiable NDArray operations where the engine's are.
     *
     * @param x the input {@code [..., in]}
     * @param weight the projection {@code [out, in]}
     * @param bias the bias {@code [out]}, or {@code null}
     * @param addend the array added to the product, {@code [..., out]}
     * @return {@code addend + linear(x, weight, bias)}, {@code [..., out]}
     */
    default NDArray linearAdd(NDArray x, NDArray weight, NDArray bias, NDArray addend) {
        NDArray product =
                bias == null
                        ? Linear.linear(x, weight).head()
                        : Linear.linear(x, weight, bias).head();
        return addend.add(product);
    }

    /**
     * Returns the state matrix {@code A = -exp(A_log)} of the Mamba and Mamba-2 mixers.
     *
     * <p>This default runs two NDArray operations on every call (differentiable where the engine
     * records gradients) and attaches the result to {@code manager}. An engine without autograd may
     * instead return an array that it keeps with {@code aLog} and reuses while {@code aLog} is
     * unchanged, so the caller must neither close nor modify the result.
     *
     * @param aLog {@code A_log}, any shape
     * @param manager the manager of the caller's intermediates
     * @return {@code -exp(aLog)}, shaped like {@code aLog}
     */
    default NDArray stateMatrix(NDArray aLog, NDManager manager) {
        NDArray decay = aLog.exp();
        // an operation on a parameter would otherwise leave its result with the model's manager
        decay.attach(manager);
        return decay.neg();
    }

    /**
     * Causal grouped-query attention of the queries over keys and values that end with the queries'
     * own positions (a KV cache after its append): {@code out[b, h, i] = sum_j softmax_j( scale
     * q[b, h, i] . k[b, g, j]) v[b, g, j]} over the keys {@code j <= kvLen - qLen + i} that the
     * mask allows, where {@code g = h / (qHeads / kvHeads)}.
     *
     * <p>This default composes NDArray operations (differentiable, the {@code qLen x kvLen} scores
     * in memory); an engine may run one fused kernel instead.
     *
     * @param q the queries {@code [batch, qHeads, qLen, headDim]}
     * @param k the keys {@code [batch, kvHeads, kvLen, headDim]}, with {@code kvLen >= qLen}
     * @param v the values, shaped like {@code k}
     * @param keyMask {@code [batch, kvLen]}, nonzero for tokens and zero for padding, or {@code
     *     null} when every key is a token
     * @param scale the factor of the scores, usually {@code 1 / sqrt(headDim)}
     * @return {@code [batch, qHeads, qLen, headDim]}
     */
    default NDArray causalAttention(NDArray q, NDArray k, NDArray v, NDArray keyMask, float scale) {
        return ReferenceSsmKernels.composedAttention(q, k, v, keyMask, scale);
    }
}
