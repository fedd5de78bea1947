package io.github.mambadjl.config;

/**
 * The clamp applied to the discretisation step {@code dt} of a Mamba2 mixer ({@code
 * time_step_limit} in transformers, {@code dt_limit} in mamba_ssm).
 *
 * @param min the lower bound, at least 0
 * @param max the upper bound, possibly {@link Double#POSITIVE_INFINITY}
 */
public record TimeStepLimit(double min, double max) {

    /** No clamp: {@code (0, +inf)}, the default of transformers and mamba_ssm. */
    public static final TimeStepLimit NONE = new TimeStepLimit(0.0, Double.POSITIVE_INFINITY);

    /** Validates the bounds. */
    public TimeStepLimit {
        if (Double.isNaN(min) || Double.isNaN(max) || min < 0 || max < min) {
            throw new ConfigException(
                    "time_step_limit",
                    "expected [min, max] with 0 <= min <= max, got [" + min + ", " + max + "]");
        }
    }

    /**
     * Returns whether this limit clamps nothing.
     *
     * @return {@code true} if the limit is {@code (0, +inf)}
     */
    public boolean isUnbounded() {
        return min == 0.0 && max == Double.POSITIVE_INFINITY;
    }

    /**
     * Returns the bounds as a new two-element array {@code {min, max}}.
     *
     * @return the bounds
     */
    public double[] toArray() {
        return new double[] {min, max};
    }
}
