package io.github.mambadjl.nativeops;

/**
 * One step of the depthwise causal convolution applied to a range of a GEMV's outputs ({@link
 * CudaTensorOps#rmsNormLinearConv}): the operands of {@code mops_cuda_causal_conv1d_update} but its
 * input, which is the range of the product's outputs.
 *
 * @param start the first output column convolved
 * @param channels the number of output columns convolved, the convolution's channels
 * @param weight the address of the filters {@code [channels, width]}, contiguous in the GEMV's
 *     dtype
 * @param width the filter width, 2 to 4
 * @param bias the address of the bias {@code [channels]} in the GEMV's dtype, or 0 for none
 * @param state the address of the float32 state {@code [rows, channels, width - 1]}, contiguous,
 *     updated in place
 * @param silu whether the convolution's outputs go through SiLU
 */
public record ConvStep(
        long start, long channels, long weight, int width, long bias, long state, boolean silu) {}
