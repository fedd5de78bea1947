package io.github.mambadjl.nativeops;

import java.util.Objects;

/**
 * The arguments of one decoding step of the causal conv1d ({@code causal_conv1d_update}): the
 * convolution of {@code x} with the previous {@code width - 1} inputs held in {@code convState},
 * which is then rolled by one step in place.
 *
 * @param x input {@code [batch, dim]}, any strides
 * @param weight {@code [dim, width]} or {@code [dim, 1, width]}, contiguous, x's dtype
 * @param bias {@code [dim]} or {@code null}
 * @param convState {@code [batch, dim, width - 1]} float32, contiguous, updated in place
 * @param out output {@code [batch, dim]}, x's dtype, any strides
 * @param silu whether to apply SiLU to the result
 */
public record CausalConv1dUpdateArgs(
        NativeTensor x,
        NativeTensor weight,
        NativeTensor bias,
        NativeTensor convState,
        NativeTensor out,
        boolean silu) {

    static final String OP = "causal_conv1d_update";

    /** Checks the arguments; see the record description for the expected shapes. */
    public CausalConv1dUpdateArgs {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(convState, "convState");
        Objects.requireNonNull(out, "out");
        ArgChecks c = checks(x, weight, bias, convState, out);
        c.require(x.rank() == 2, "x must be [batch, dim]");
        long batch = x.size(0);
        long dim = x.size(1);
        c.require(
                weight.rank() == 2 || (weight.rank() == 3 && weight.size(1) == 1),
                "weight must be [dim, width] or [dim, 1, width]");
        long width = weight.size(weight.rank() - 1);
        c.require(weight.size(0) == dim, "weight's first dimension must equal x's dim");
        c.contiguous(weight, "weight");
        c.dtype(weight, "weight", x.dtype());
        c.shape(out, "out", batch, dim);
        c.dtype(out, "out", x.dtype());
        if (bias != null) {
            c.shape(bias, "bias", dim);
            c.dtype(bias, "bias", x.dtype());
            c.contiguous(bias, "bias");
        }
        c.optionalFloat32(convState, "convState", batch, dim, width - 1);
    }

    private static ArgChecks checks(
            NativeTensor x,
            NativeTensor weight,
            NativeTensor bias,
            NativeTensor convState,
            NativeTensor out) {
        return ArgChecks.of(
                OP, "x", x, "weight", weight, "bias", bias, "convState", convState, "out", out);
    }

    /**
     * Describes every argument's shape, for error messages.
     *
     * @return the description
     */
    public String shapes() {
        return checks(x, weight, bias, convState, out).shapes();
    }

    void checkBounds() {
        ArgChecks.bounds(
                OP, "x", x, "weight", weight, "bias", bias, "convState", convState, "out", out);
    }

    int width() {
        return (int) weight.size(weight.rank() - 1);
    }
}
