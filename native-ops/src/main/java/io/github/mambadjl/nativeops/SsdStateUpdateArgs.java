package io.github.mambadjl.nativeops;

import java.util.Objects;

/**
 * The arguments of one decoding step of Mamba-2 ({@code selective_state_update} with heads): the
 * recurrence of {@link SsdArgs} for one time step, the state updated in place.
 *
 * @param state {@code [batch, nheads, headdim, dstate]} float32, contiguous, read and written
 * @param x input {@code [batch, nheads, headdim]}, any strides
 * @param dt {@code [batch, nheads]}, x's dtype, any strides
 * @param a {@code [nheads]} float32
 * @param b {@code [batch, ngroups, dstate]}, x's dtype, any strides
 * @param c like {@code b}
 * @param d skip {@code [nheads]} or {@code [nheads, headdim]} float32, or {@code null}
 * @param z gate like {@code x}, or {@code null}
 * @param dtBias {@code [nheads]} float32, or {@code null}
 * @param softplus whether to apply softplus to {@code dt + dtBias}
 * @param dtMin lower limit of dt ({@code 0} for none)
 * @param dtMax upper limit of dt ({@code Float.POSITIVE_INFINITY} for none)
 * @param out output like {@code x}, any strides
 */
public record SsdStateUpdateArgs(
        NativeTensor state,
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
        NativeTensor out) {

    static final String OP = "ssd_state_update";

    /** Checks the arguments; see the record description for the expected shapes. */
    public SsdStateUpdateArgs {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(dt, "dt");
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(c, "c");
        Objects.requireNonNull(out, "out");
        ArgChecks k = ArgChecks.of(OP, names(state, x, dt, a, b, c, d, z, dtBias, out));
        k.require(x.rank() == 3, "x must be [batch, nheads, headdim]");
        k.require(b.rank() == 3, "B must be [batch, ngroups, dstate]");
        long batch = x.size(0);
        long heads = x.size(1);
        long headdim = x.size(2);
        long groups = b.size(1);
        long dstate = b.size(2);
        DType type = x.dtype();
        k.shape(dt, "dt", batch, heads);
        k.shape(out, "out", batch, heads, headdim);
        k.shape(b, "B", batch, groups, dstate);
        k.shape(c, "C", batch, groups, dstate);
        k.require(groups > 0 && heads % groups == 0, "ngroups must divide nheads");
        k.require(!(dtMin > dtMax), "dtMin must not exceed dtMax");
        for (Object[] t : new Object[][] {{dt, "dt"}, {b, "B"}, {c, "C"}, {out, "out"}}) {
            k.dtype((NativeTensor) t[0], (String) t[1], type);
        }
        k.optional(z, "z", type, batch, heads, headdim);
        k.optionalFloat32(state, "state", batch, heads, headdim, dstate);
        k.optionalFloat32(a, "A", heads);
        if (d != null) {
            k.require(d.rank() == 1 || d.rank() == 2, "D must be [nheads] or [nheads, headdim]");
            k.optionalFloat32(
                    d, "D", d.rank() == 1 ? new long[] {heads} : new long[] {heads, headdim});
        }
        k.optionalFloat32(dtBias, "dtBias", heads);
    }

    private static Object[] names(
            NativeTensor state,
            NativeTensor x,
            NativeTensor dt,
            NativeTensor a,
            NativeTensor b,
            NativeTensor c,
            NativeTensor d,
            NativeTensor z,
            NativeTensor dtBias,
            NativeTensor out) {
        return new Object[] {
            "state", state, "x", x, "dt", dt, "A", a, "B", b, "C", c, "D", d, "z", z, "dtBias",
            dtBias, "out", out
        };
    }

    /**
     * Describes every argument's shape, for error messages.
     *
     * @return the description
     */
    public String shapes() {
        return ArgChecks.describe(names(state, x, dt, a, b, c, d, z, dtBias, out));
    }

    void checkBounds() {
        ArgChecks.bounds(OP, names(state, x, dt, a, b, c, d, z, dtBias, out));
    }

    boolean dPerChannel() {
        return d != null && d.rank() == 2;
    }
}
