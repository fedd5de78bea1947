/**
 * The Mamba-family layers as DJL blocks: {@link io.github.mambadjl.nn.Mamba}, {@link
 * io.github.mambadjl.nn.Mamba2}, {@link io.github.mambadjl.nn.GroupedQueryAttention}, {@link
 * io.github.mambadjl.nn.SwiGluMlp}, {@link io.github.mambadjl.nn.RmsNorm}, the residual wrappers
 * and the token embedding, with parameters named as in the checkpoints.
 */
package io.github.mambadjl.nn;
