package io.github.mambadjl.kernel;

import ai.djl.ndarray.NDArray;

/**
 * The result of a stateful kernel: its output and the state it leaves behind, ready to be handed to
 * the next call (the next piece of a prompt, or the next decoding step).
 *
 * @param output the kernel output
 * @param state the final state
 */
public record KernelOutput(NDArray output, NDArray state) {}
