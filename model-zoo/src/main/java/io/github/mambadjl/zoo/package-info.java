/** The DJL model zoo of published Mamba-family checkpoints. */
package io.github.mambadjl.zoo;
