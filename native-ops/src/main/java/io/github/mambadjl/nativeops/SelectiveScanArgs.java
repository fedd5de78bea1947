package io.github.mambadjl.nativeops;

import java.util.Objects;

/**
 * The arguments of the Mamba-1 selective scan ({@code selective_scan_fn} of mamba_ssm, with an
 * initial state in and the final state out). For batch b, channel d, state n and time t, with g the
 * group of d ({@code d / (dim / ngroups)}):
 *
 * <pre>
 *   dt = softplus?(delta[b,d,t] + deltaBias[d])
 *   s[n] = s[n] * exp(dt * A[d,n]) + dt * B[b,g,n,t] * u[b,d,t]
 *   out[b,d,t] = (sum_n C[b,g,n,t] * s[n] + D[d] * u[b,d,t]) * silu(z[b,d,t])
 * </pre>
 *
 * @param u input {@code [batch, dim, seqlen]}, any strides (so {@code [batch, seqlen, dim]} memory
 *     works through strides)
 * @param delta {@code [batch, dim, seqlen]}, u's dtype, any strides
 * @param a {@code [dim, dstate]} float32, contiguous
 * @param b {@code [batch, ngroups, dstate, seqlen]}, u's dtype, any strides
 * @param c like {@code b}
 * @param d skip {@code [dim]} float32, or {@code null}
 * @param z gate {@code [batch, dim, seqlen]}, u's dtype, or {@code null} for no gate
 * @param deltaBias {@code [dim]} float32, or {@code null}
 * @param softplus whether to apply softplus to {@code delta + deltaBias}
 * @param initialState {@code [batch, dim, dstate]} float32, or {@code null} for zeros
 * @param finalState {@code [batch, dim, dstate]} float32 receiving the last state, or {@code null};
 *     may be the same memory as initialState
 * @param out output {@code [batch, dim, seqlen]}, u's dtype, any strides
 */
public record SelectiveScanArgs(
        NativeTensor u,
        NativeTensor delta,
        NativeTensor a,
        NativeTensor b,
        NativeTensor c,
        NativeTensor d,
        NativeTensor z,
        NativeTensor deltaBias,
        boolean softplus,
        NativeTensor initialState,
        NativeTensor finalState,
        NativeTensor out) {

    static final String OP = "selective_scan";

    /** Checks the arguments; see the record description for the expected shapes. */
    public SelectiveScanArgs {
        Objects.requireNonNull(u, "u");
        Objects.requireNonNull(delta, "delta");
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(c, "c");
        Objects.requireNonNull(out, "out");
        ArgChecks k =
                ArgChecks.of(
                        OP,
                        names(u, delta, a, b, c, d, z, deltaBias, initialState, finalState, out));
        k.require(u.rank() == 3, "u must be [batch, dim, seqlen]");
        k.require(b.rank() == 4, "B must be [batch, ngroups, dstate, seqlen]");
        long batch = u.size(0);
        long dim = u.size(1);
        long seqlen = u.size(2);
        long groups = b.size(1);
        long dstate = b.size(2);
        DType dt = u.dtype();
        k.shape(delta, "delta", batch, dim, seqlen);
        k.shape(out, "out", batch, dim, seqlen);
        k.shape(b, "B", batch, groups, dstate, seqlen);
        k.shape(c, "C", batch, groups, dstate, seqlen);
        k.require(groups > 0 && dim % groups == 0, "ngroups must divide dim");
        for (Object[] t : new Object[][] {{delta, "delta"}, {b, "B"}, {c, "C"}, {out, "out"}}) {
            k.dtype((NativeTensor) t[0], (String) t[1], dt);
        }
        k.optional(z, "z", dt, batch, dim, seqlen);
        k.optionalFloat32(a, "A", dim, dstate);
        k.optionalFloat32(d, "D", dim);
        k.optionalFloat32(deltaBias, "deltaBias", dim);
        k.optionalFloat32(initialState, "initialState", batch, dim, dstate);
        k.optionalFloat32(finalState, "finalState", batch, dim, dstate);
    }

    private static Object[] names(
            NativeTensor u,
            NativeTensor delta,
            NativeTensor a,
            NativeTensor b,
            NativeTensor c,
            NativeTensor d,
            NativeTensor z,
            NativeTensor deltaBias,
            NativeTensor initialState,
            NativeTensor finalState,
            NativeTensor out) {
        return new Object[] {
            "u",
            u,
            "delta",
            delta,
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
            "deltaBias",
            deltaBias,
            "initialState",
            initialState,
            "finalState",
            finalState,
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
                names(u, delta, a, b, c, d, z, deltaBias, initialState, finalState, out));
    }

    void checkBounds() {
        ArgChecks.bounds(
                OP, names(u, delta, a, b, c, d, z, deltaBias, initialState, finalState, out));
    }
}
