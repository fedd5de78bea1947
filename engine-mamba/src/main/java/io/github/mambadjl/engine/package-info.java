/** The DJL engine named {@code Mamba}, over mamba-djl's native kernels. */
package io.github.mambadjl.engine;
