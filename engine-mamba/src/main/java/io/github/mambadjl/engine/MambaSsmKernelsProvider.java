package io.github.mambadjl.engine;

import io.github.mambadjl.kernel.SsmKernels;
import io.github.mambadjl.kernel.SsmKernelsProvider;

/**
 * Registers {@link MambaSsmKernels} for the arrays of the {@code Mamba} engine (found by {@link
 * java.util.ServiceLoader} through {@code META-INF/services}).
 */
public final class MambaSsmKernelsProvider implements SsmKernelsProvider {

    /** {@inheritDoc} */
    @Override
    public String engineName() {
        return MambaEngine.ENGINE_NAME;
    }

    /** {@inheritDoc} */
    @Override
    public SsmKernels kernels() {
        return MambaSsmKernels.INSTANCE;
    }
}
