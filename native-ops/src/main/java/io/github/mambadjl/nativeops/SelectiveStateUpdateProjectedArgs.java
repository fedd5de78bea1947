package io.github.mambadjl.nativeops;

import java.util.Objects;

/**
 * The arguments of one decoding step of the Mamba-1 scan with its {@code dt_proj} folded in: the
 * step of {@link SelectiveStateUpdateArgs}, whose {@code dt} the kernel computes itself as {@code
 * dt[b, d] = round(sum_r dtLow[b, r] * dtProjWeight[d, r])}, the product summed in float32 and
 * rounded to x's dtype before the bias and softplus, as the separate product stores it (see {@code
 * mops_cpu_selective_state_update_projected} in {@code mambaops.h} for the order of the sum).
 *
 * @param state {@code [batch, dim, dstate]} float32, contiguous, read and written
 * @param x input {@code [batch, dim]}, any strides
 * @param dtLow the low-rank time step {@code [batch, dtRank]}, x's dtype, the last axis contiguous
 * @param dtProjWeight the projection {@code [dim, dtRank]}, x's dtype, the last axis contiguous
 * @param a {@code [dim, dstate]} float32, contiguous
 * @param b {@code [batch, ngroups, dstate]}, x's dtype, any strides
 * @param c like {@code b}
 * @param d skip {@code [dim]} float32, or {@code null}
 * @param z gate {@code [batch, dim]}, x's dtype, or {@code null}
 * @param dtBias {@code [dim]} float32, or {@code null}
 * @param softplus whether to apply softplus to {@code dt + dtBias}
 * @param out output {@code [batch, dim]}, x's dtype, any strides
 */
public record SelectiveStateUpdateProjectedArgs(
        NativeTensor state,
        NativeTensor x,
        NativeTensor dtLow,
        NativeTensor dtProjWeight,
        NativeTensor a,
        NativeTensor b,
        NativeTensor c,
        NativeTensor d,
        NativeTensor z,
        NativeTensor dtBias,
        boolean softplus,
        NativeTensor out) {

    static final String OP = "selective_state_update_projected";

    /** Checks the arguments; see the record description for the expected shapes. */
    public SelectiveStateUpdateProjectedArgs {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(dtLow, "dtLow");
        Objects.requireNonNull(dtProjWeight, "dtProjWeight");
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        Objects.requireNonNull(c, "c");
        Objects.requireNonNull(out, "out");
        ArgChecks k =
                ArgChecks.of(OP, names(state, x, dtLow, dtProjWeight, a, b, c, d, z, dtBias, out));
        k.require(x.rank() == 2, "x must be [batch, dim]");
        k.require(b.rank() == 3, "B must be [batch, ngroups, dstate]");
        k.require(dtLow.rank() == 2, "dtLow must be [batch, dtRank]");
        long batch = x.size(0);
        long dim = x.size(1);
        long groups = b.size(1);
        long dstate = b.size(2);
        long rank = dtLow.size(1);
        DType type = x.dtype();
        k.require(rank > 0, "dtRank must be positive");
        k.shape(dtLow, "dtLow", batch, rank);
        k.shape(dtProjWeight, "dtProjWeight", dim, rank);
        k.innerContiguous(dtLow, "dtLow");
        k.innerContiguous(dtProjWeight, "dtProjWeight");
        k.shape(out, "out", batch, dim);
        k.shape(b, "B", batch, groups, dstate);
        k.shape(c, "C", batch, groups, dstate);
        k.require(groups > 0 && dim % groups == 0, "ngroups must divide dim");
        for (Object[] t :
                new Object[][] {
                    {dtLow, "dtLow"},
                    {dtProjWeight, "dtProjWeight"},
                    {b, "B"},
                    {c, "C"},
                    {out, "out"}
                }) {
            k.dtype((NativeTensor) t[0], (String) t[1], type);
        }
        k.optional(z, "z", type, batch, dim);
        k.optionalFloat32(state, "state", batch, dim, dstate);
        k.optionalFloat32(a, "A", dim, dstate);
        k.optionalFloat32(d, "D", dim);
        k.optionalFloat32(dtBias, "dtBias", dim);
    }

    private static Object[] names(
            NativeTensor state,
            NativeTensor x,
            NativeTensor dtLow,
            NativeTensor dtProjWeight,
            NativeTensor a,
            NativeTensor b,
            NativeTensor c,
            NativeTensor d,
            NativeTensor z,
            NativeTensor dtBias,
            NativeTensor out) {
        return new Object[] {
            "state",
            state,
            "x",
            x,
            "dtLow",
            dtLow,
            "dtProjWeight",
            dtProjWeight,
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
        return ArgChecks.describe(names(state, x, dtLow, dtProjWeight, a, b, c, d, z, dtBias, out));
    }

    void checkBounds() {
        ArgChecks.bounds(OP, names(state, x, dtLow, dtProjWeight, a, b, c, d, z, dtBias, out));
    }
}
