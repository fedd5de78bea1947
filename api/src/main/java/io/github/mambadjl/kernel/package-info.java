/** The kernel SPI of the Mamba-family blocks and its pure-NDArray reference implementation. */
package io.github.mambadjl.kernel;
