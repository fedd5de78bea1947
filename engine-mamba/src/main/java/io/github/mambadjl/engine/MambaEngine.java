package io.github.mambadjl.engine;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.CudaTensorOps;

/**
 * The DJL engine {@code Mamba}: NDArrays in native memory and the operations that Mamba-family
 * models use, run by mamba-djl's own native library (no libtorch).
 *
 * <p>DJL picks the engine with the lowest rank as the default; this engine's rank is above
 * PyTorch's, so a user with both keeps PyTorch as the default and asks for this engine by name
 * ({@code Engine.getEngine("Mamba")}, {@code Criteria.optEngine("Mamba")}). Arrays live on the CPU
 * ({@code Device.cpu()}, the default) or on a CUDA GPU ({@code Device.gpu(i)}, when the CUDA
 * library loads and a GPU is present).
 */
public final class MambaEngine extends Engine {

    /** The engine's name. */
    public static final String ENGINE_NAME = "Mamba";

    /** The engine's rank: above PyTorch (2), so that it is never the default over it. */
    static final int RANK = 20;

    private static final String ALTERNATIVE_ENGINE = "PyTorch";
    private static final String VERSION = "0.1.0";

    private Engine alternativeEngine;
    private boolean alternativeLookedUp;

    private MambaEngine() {}

    static Engine newInstance() {
        try {
            // Loads the CPU library and checks its ABI version.
            CpuKernels.buildInfo();
            HostBlockCache.configure();
            return new MambaEngine();
        } catch (LinkageError e) {
            // UnsatisfiedLinkError, or the failed initialisation of the JNA bindings
            throw new EngineException(
                    "The Mamba engine could not load its native library libmambaops.so", e);
        }
    }

    /**
     * Returns the PyTorch engine when it is on the class path: operations outside this engine's
     * native set run there, on a copy.
     *
     * @return the PyTorch engine, or {@code null}
     */
    @Override
    public synchronized Engine getAlternativeEngine() {
        if (!alternativeLookedUp) {
            alternativeLookedUp = true;
            if (Engine.hasEngine(ALTERNATIVE_ENGINE)) {
                alternativeEngine = Engine.getEngine(ALTERNATIVE_ENGINE);
            }
        }
        return alternativeEngine;
    }

    /** {@inheritDoc} */
    @Override
    public String getEngineName() {
        return ENGINE_NAME;
    }

    /** {@inheritDoc} */
    @Override
    public int getRank() {
        return RANK;
    }

    /** {@inheritDoc} */
    @Override
    public String getVersion() {
        return VERSION;
    }

    /**
     * Tells whether the engine has a capability: {@code CUDA} only when the CUDA library loaded and
     * sees a GPU.
     *
     * @param capability the capability, see {@link StandardCapabilities}
     * @return whether the engine has it
     */
    @Override
    public boolean hasCapability(String capability) {
        if (StandardCapabilities.CUDA.equals(capability)) {
            return CudaTensorOps.isAvailable();
        }
        return false;
    }

    /**
     * Returns the number of CUDA GPUs this engine can use.
     *
     * @return the GPU count, 0 without the CUDA library, a driver or a GPU
     */
    @Override
    public int getGpuCount() {
        return CudaTensorOps.deviceCount();
    }

    /**
     * Returns the CPU: arrays go to a GPU only when asked for ({@code Device.gpu(i)}).
     *
     * @return {@link Device#cpu()}
     */
    @Override
    public Device defaultDevice() {
        return Device.cpu();
    }

    /** {@inheritDoc} */
    @Override
    public Model newModel(String name, Device device) {
        return new MambaModel(name, device);
    }

    /** {@inheritDoc} */
    @Override
    public NDManager newBaseManager() {
        return MambaNDManager.getSystemManager().newSubManager();
    }

    /** {@inheritDoc} */
    @Override
    public NDManager newBaseManager(Device device) {
        return MambaNDManager.getSystemManager().newSubManager(device);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return ENGINE_NAME + ':' + VERSION + ", " + CpuKernels.buildInfo();
    }
}
