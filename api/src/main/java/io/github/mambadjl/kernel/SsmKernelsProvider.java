package io.github.mambadjl.kernel;

/**
 * A {@link java.util.ServiceLoader} service that supplies engine-specific {@link SsmKernels}.
 *
 * <p>An engine that has fused kernels (the {@code Mamba} engine) registers one in {@code
 * META-INF/services/io.github.mambadjl.kernel.SsmKernelsProvider}. Arrays of every other engine get
 * the {@link ReferenceSsmKernels}.
 */
public interface SsmKernelsProvider {

    /**
     * Returns the name of the DJL engine whose arrays these kernels accept.
     *
     * @return the engine name, as {@code Engine.getEngineName()} returns it
     */
    String engineName();

    /**
     * Returns the kernels.
     *
     * @return the kernels for arrays of {@link #engineName()}
     */
    SsmKernels kernels();
}
