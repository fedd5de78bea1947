package io.github.mambadjl.nativeops;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The arguments of the causal conv1d kernel, checked for consistency and memory bounds.
 *
 * @param x input, logical shape {@code [batch, dim, seqlen]} with any non-negative strides
 * @param weight {@code [dim, width]} or {@code [dim, 1, width]}, contiguous, same dtype as x
 * @param bias {@code [dim]} or {@code null}
 * @param initialState {@code [batch, dim, width - 1]} float32, or {@code null} for zeros
 * @param finalState {@code [batch, dim, width - 1]} float32 receiving the last inputs, or {@code
 *     null}
 * @param out output, logical shape {@code [batch, dim, seqlen]}, same dtype as x
 * @param silu whether to apply SiLU to the result
 */
public record CausalConv1dArgs(
        NativeTensor x,
        NativeTensor weight,
        NativeTensor bias,
        NativeTensor initialState,
        NativeTensor finalState,
        NativeTensor out,
        boolean silu) {

    static final String OP = "causal_conv1d";

    /** Checks the arguments; see the record description for the expected shapes. */
    public CausalConv1dArgs {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(weight, "weight");
        Objects.requireNonNull(out, "out");
        Supplier<String> shapes = () -> describe(x, weight, bias, initialState, finalState, out);
        require(shapes, x.rank() == 3, "x must be [batch, dim, seqlen]");
        require(shapes, out.rank() == 3, "out must be [batch, dim, seqlen]");
        require(
                shapes,
                weight.rank() == 2 || (weight.rank() == 3 && weight.size(1) == 1),
                "weight must be [dim, width] or [dim, 1, width]");
        long dim = x.size(1);
        long width = weight.size(weight.rank() - 1);
        require(shapes, weight.size(0) == dim, "weight's first dimension must equal x's dim");
        require(
                shapes,
                out.size(0) == x.size(0) && out.size(1) == dim && out.size(2) == x.size(2),
                "out must have x's shape");
        require(
                shapes,
                x.dtype() == out.dtype() && x.dtype() == weight.dtype(),
                "x, weight and out must share one dtype");
        require(
                shapes,
                weight.stride(weight.rank() - 1) == 1 && weight.stride(0) == width,
                "weight must be contiguous");
        if (bias != null) {
            require(shapes, bias.rank() == 1 && bias.size(0) == dim, "bias must be [dim]");
            require(shapes, bias.dtype() == x.dtype(), "bias must have x's dtype");
            require(shapes, bias.stride(0) == 1, "bias must be contiguous");
        }
        for (NativeTensor state : new NativeTensor[] {initialState, finalState}) {
            if (state != null) {
                require(
                        shapes,
                        state.rank() == 3
                                && state.size(0) == x.size(0)
                                && state.size(1) == dim
                                && state.size(2) == width - 1,
                        "states must be [batch, dim, width - 1]");
                require(shapes, state.dtype() == DType.FLOAT32, "states must be float32");
                require(
                        shapes,
                        state.stride(2) == 1 && state.stride(1) == width - 1,
                        "states must be contiguous");
            }
        }
    }

    private static void require(Supplier<String> shapes, boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(
                    OP + ": " + message + "; arguments: " + shapes.get());
        }
    }

    /**
     * Describes every argument's shape, for error messages.
     *
     * @return the description
     */
    public String shapes() {
        return describe(x, weight, bias, initialState, finalState, out);
    }

    private static String describe(
            NativeTensor x,
            NativeTensor weight,
            NativeTensor bias,
            NativeTensor initialState,
            NativeTensor finalState,
            NativeTensor out) {
        return "x "
                + x.describe()
                + ", weight "
                + weight.describe()
                + (bias == null ? "" : ", bias " + bias.describe())
                + (initialState == null ? "" : ", initialState " + initialState.describe())
                + (finalState == null ? "" : ", finalState " + finalState.describe())
                + ", out "
                + out.describe();
    }

    void checkBounds() {
        x.checkBounds(OP, "x");
        weight.checkBounds(OP, "weight");
        out.checkBounds(OP, "out");
        if (bias != null) {
            bias.checkBounds(OP, "bias");
        }
        if (initialState != null) {
            initialState.checkBounds(OP, "initialState");
        }
        if (finalState != null) {
            finalState.checkBounds(OP, "finalState");
        }
    }

    int width() {
        return (int) weight.size(weight.rank() - 1);
    }
}
