/**
 * Checkpoint formats and directories: the memory-mapped safetensors reader and writer, the sharded
 * safetensors index, the PyTorch zip {@code .bin} through a restricted unpickler, and {@link
 * io.github.mambadjl.checkpoint.Checkpoint}, which detects a directory's layout and exposes its
 * config and weights under one naming (transformers').
 */
package io.github.mambadjl.checkpoint;
