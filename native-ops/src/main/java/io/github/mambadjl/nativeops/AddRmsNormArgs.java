package io.github.mambadjl.nativeops;

import java.util.Objects;

/**
 * The arguments of RMSNorm fused with the residual add (mamba_ssm's {@code layer_norm_fn} with
 * {@code prenorm}): {@code r = x + residual} (or {@code x} without residual), {@code residualOut =
 * r}, {@code out = r / sqrt(mean(r^2) + eps) * weight}.
 *
 * @param x input {@code [rows, hidden]}, contiguous
 * @param residual {@code [rows, hidden]} contiguous, float32 or x's dtype, or {@code null}
 * @param weight {@code [hidden]}, contiguous, x's dtype
 * @param eps the epsilon added to the mean square
 * @param out normalised output {@code [rows, hidden]}, contiguous, x's dtype
 * @param residualOut receives the sum, {@code [rows, hidden]} contiguous, residual's dtype (float32
 *     keeps the residual stream in float32), or {@code null}; may be the same memory as residual
 */
public record AddRmsNormArgs(
        NativeTensor x,
        NativeTensor residual,
        NativeTensor weight,
        float eps,
        NativeTensor out,
        NativeTensor residualOut) {

    static final String OP = "add_rms_norm";

    /** Checks the arguments; see the record description for the expected shapes. */
    public AddRmsNormArgs {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(out, "out");
        ArgChecks k = ArgChecks.of(OP, names(x, residual, weight, out, residualOut));
        k.require(x.rank() == 2, "x must be [rows, hidden]");
        long rows = x.size(0);
        long hidden = x.size(1);
        k.contiguous(x, "x");
        k.shape(out, "out", rows, hidden);
        k.dtype(out, "out", x.dtype());
        k.contiguous(out, "out");
        k.shape(weight, "weight", hidden);
        k.dtype(weight, "weight", x.dtype());
        k.contiguous(weight, "weight");
        for (Object[] t : new Object[][] {{residual, "residual"}, {residualOut, "residualOut"}}) {
            NativeTensor r = (NativeTensor) t[0];
            if (r != null) {
                k.shape(r, (String) t[1], rows, hidden);
                k.contiguous(r, (String) t[1]);
                k.require(
                        r.dtype() == DType.FLOAT32 || r.dtype() == x.dtype(),
                        t[1] + " must be float32 or x's dtype");
            }
        }
        k.require(
                residual == null || residualOut == null || residual.dtype() == residualOut.dtype(),
                "residual and residualOut must share one dtype");
        k.require(eps >= 0, "eps must be non-negative");
    }

    private static Object[] names(
            NativeTensor x,
            NativeTensor residual,
            NativeTensor weight,
            NativeTensor out,
            NativeTensor residualOut) {
        return new Object[] {
            "x", x, "residual", residual, "weight", weight, "out", out, "residualOut", residualOut
        };
    }

    /**
     * Describes every argument's shape, for error messages.
     *
     * @return the description
     */
    public String shapes() {
        return ArgChecks.describe(names(x, residual, weight, out, residualOut));
    }

    void checkBounds() {
        ArgChecks.bounds(OP, names(x, residual, weight, out, residualOut));
    }

    DType residualDType() {
        if (residual != null) {
            return residual.dtype();
        }
        return residualOut != null ? residualOut.dtype() : DType.FLOAT32;
    }
}
