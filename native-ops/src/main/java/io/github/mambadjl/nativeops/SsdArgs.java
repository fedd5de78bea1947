package io.github.mambadjl.nativeops;

import java.util.Objects;

/**
 * The arguments of the Mamba-2 chunked SSD ({@code mamba_chunk_scan_combined} of mamba_ssm, with
 * initial states in and final states out). For batch b, head h (group g = {@code h / (nheads /
 * ngroups)}), head channel p, state n and time t:
 *
 * <pre>
 *   dt = clamp(softplus?(dt[b,t,h] + dtBias[h]), dtMin, dtMax)
 *   s[p,n] = s[p,n] * exp(dt * A[h]) + dt * B[b,t,g,n] * x[b,t,h,p]
 *   out[b,t,h,p] = (sum_n C[b,t,g,n] * s[p,n] + D[h(,p)] * x[b,t,h,p]) * silu(z[b,t,h,p])
 * </pre>
 *
 * @param x input {@code [batch, seqlen, nheads, headdim]}, any strides
 * @param dt {@code [batch, seqlen, nheads]}, x's dtype, any strides
 * @param a {@code [nheads]} float32
 * @param b {@code [batch, seqlen, ngroups, dstate]}, x's dtype, any strides
 * @param c like {@code b}
 * @param d skip {@code [nheads]} or {@code [nheads, headdim]} float32, or {@code null}
 * @param z gate like {@code x}, or {@code null}
 * @param dtBias {@code [nheads]} float32, or {@code null}
 * @param softplus whether to apply softplus to {@code dt + dtBias}
 * @param dtMin lower limit of dt ({@code 0} for none)
 * @param dtMax upper limit of dt ({@code Float.POSITIVE_INFINITY} for none)
 * @param chunkSize the chunk length of a chunked evaluation (positive; the result does not depend
 *     on it, and this version evaluates the recurrence step by step on both backends)
 * @param initialStates {@code [batch, nheads, headdim, dstate]} float32, or {@code null} for zeros
 * @param finalStates like initialStates, receiving the last states, or {@code null}; may be the
 *     same memory as initialStates
 * @param out output like {@code x}, x's dtype, any strides
 */
public record SsdArgs(
        NativeTensor x,
        NativeTensor dt,
        NativeTensor a,
        NativeTensor b,
        NativeTensor c,
        NativeTensor d,
        NativeTensor z,
        NativeTensor dtBias,
        boolean softplus,
        float dtMin,
        float dtMax,
        int chunkSize,
        NativeTensor initialStates,
        NativeTensor finalStates,
        NativeTensor out) {

    static final String OP = "ssd";

    /** Checks the arguments; see the record description for the expected shapes. */
    public SsdArgs {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(dt, "dt");
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(c, "c");
        Objects.requireNonNull(out, "out");
        ArgChecks k =
                ArgChecks.of(
                        OP, names(x, dt, a, b, c, d, z, dtBias, initialStates, finalStates, out));
        k.require(x.rank() == 4, "x must be [batch, seqlen, nheads, headdim]");
        k.require(b.rank() == 4, "B must be [batch, seqlen, ngroups, dstate]");
        long batch = x.size(0);
        long seqlen = x.size(1);
        long heads = x.size(2);
        long headdim = x.size(3);
        long groups = b.size(2);
        long dstate = b.size(3);
        DType type = x.dtype();
        k.shape(dt, "dt", batch, seqlen, heads);
        k.shape(out, "out", batch, seqlen, heads, headdim);
        k.shape(b, "B", batch, seqlen, groups, dstate);
        k.shape(c, "C", batch, seqlen, groups, dstate);
        k.require(groups > 0 && heads % groups == 0, "ngroups must divide nheads");
        k.require(chunkSize > 0, "chunkSize must be positive");
        k.require(!(dtMin > dtMax), "dtMin must not exceed dtMax");
        for (Object[] t : new Object[][] {{dt, "dt"}, {b, "B"}, {c, "C"}, {out, "out"}}) {
            k.dtype((NativeTensor) t[0], (String) t[1], type);
        }
        k.optional(z, "z", type, batch, seqlen, heads, headdim);
        k.optionalFloat32(a, "A", heads);
        if (d != null) {
            k.require(d.rank() == 1 || d.rank() == 2, "D must be [nheads] or [nheads, headdim]");
            k.optionalFloat32(
                    d, "D", d.rank() == 1 ? new long[] {heads} : new long[] {heads, headdim});
        }
        k.optionalFloat32(dtBias, "dtBias", heads);
        k.optionalFloat32(initialStates, "initialStates", batch, heads, headdim, dstate);
        k.optionalFloat32(finalStates, "finalStates", batch, heads, headdim, dstate);
    }

    private static Object[] names(
            NativeTensor x,
            NativeTensor dt,
            NativeTensor a,
            NativeTensor b,
            NativeTensor c,
            NativeTensor d,
            NativeTensor z,
            NativeTensor dtBias,
            NativeTensor initialStates,
            NativeTensor finalStates,
            NativeTensor out) {
        return new Object[] {
            "x",
            x,
            "dt",
            dt,
            "A",
            a,
            "B",
            b,
            "C",
            c,
            "D",
            d,
            "z",
            z,
            "dtBias",
            dtBias,
            "initialStates",
            initialStates,
            "finalStates",
            finalStates,
            "out",
            out
        };
    }

    /**
     * Describes every argument's shape, for error messages.
     *
     * @return the description
     */
    public String shapes() {
        return ArgChecks.describe(
                names(x, dt, a, b, c, d, z, dtBias, initialStates, finalStates, out));
    }

    void checkBounds() {
        ArgChecks.bounds(OP, names(x, dt, a, b, c, d, z, dtBias, initialStates, finalStates, out));
    }

    boolean dPerChannel() {
        return d != null && d.rank() == 2;
    }
}
