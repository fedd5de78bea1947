package io.github.mambadjl.nativeops;

import java.util.Objects;

/**
 * The arguments of the gated RMSNorm of Mamba-2 ({@code RMSNormGated} of mamba_ssm): over each row
 * of {@code hidden} elements, in groups of {@code groupSize},
 *
 * <pre>
 *   normBeforeGate = false: v = x * silu(z); out = v / sqrt(mean_group(v^2) + eps) * weight
 *   normBeforeGate = true:  out = x / sqrt(mean_group(x^2) + eps) * weight * silu(z)
 * </pre>
 *
 * @param x input {@code [rows, hidden]}; rows may be strided, elements within a row contiguous
 * @param z gate like x, or {@code null} for no gate
 * @param weight {@code [hidden]}, contiguous, x's dtype
 * @param groupSize the group size, dividing hidden ({@code hidden / ngroups})
 * @param eps the epsilon added to the mean square
 * @param normBeforeGate whether the norm comes before the gate
 * @param out output like x
 */
public record RmsNormGatedArgs(
        NativeTensor x,
        NativeTensor z,
        NativeTensor weight,
        long groupSize,
        float eps,
        boolean normBeforeGate,
        NativeTensor out) {

    static final String OP = "rms_norm_gated";

    /** Checks the arguments; see the record description for the expected shapes. */
    public RmsNormGatedArgs {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(out, "out");
        ArgChecks k = ArgChecks.of(OP, names(x, z, weight, out));
        k.require(x.rank() == 2, "x must be [rows, hidden]");
        long hidden = x.size(1);
        k.innerContiguous(x, "x");
        k.shape(out, "out", x.size(0), hidden);
        k.innerContiguous(out, "out");
        k.dtype(out, "out", x.dtype());
        k.shape(weight, "weight", hidden);
        k.dtype(weight, "weight", x.dtype());
        k.contiguous(weight, "weight");
        if (z != null) {
            k.shape(z, "z", x.size(0), hidden);
            k.dtype(z, "z", x.dtype());
            k.innerContiguous(z, "z");
        }
        k.require(groupSize > 0 && hidden % groupSize == 0, "groupSize must divide hidden");
        k.require(eps >= 0, "eps must be non-negative");
    }

    private static Object[] names(
            NativeTensor x, NativeTensor z, NativeTensor weight, NativeTensor out) {
        return new Object[] {"x", x, "z", z, "weight", weight, "out", out};
    }

    /**
     * Describes every argument's shape, for error messages.
     *
     * @return the description
     */
    public String shapes() {
        return ArgChecks.describe(names(x, z, weight, out)) + ", groupSize " + groupSize;
    }

    void checkBounds() {
        ArgChecks.bounds(OP, names(x, z, weight, out));
    }

    static long rowStride(NativeTensor t) {
        return t == null ? 0 : (t.size(0) == 1 ? t.size(1) : t.stride(0));
    }
}
