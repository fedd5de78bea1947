package io.github.mambadjl.engine;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineProvider;

/** The {@link EngineProvider} of the {@code Mamba} engine, found through {@code ServiceLoader}. */
public class MambaEngineProvider implements EngineProvider {

    /** {@inheritDoc} */
    @Override
    public String getEngineName() {
        return MambaEngine.ENGINE_NAME;
    }

    /** {@inheritDoc} */
    @Override
    public int getEngineRank() {
        return MambaEngine.RANK;
    }

    /** {@inheritDoc} */
    @Override
    public Engine getEngine() {
        return InstanceHolder.INSTANCE;
    }

    private static final class InstanceHolder {
        static final Engine INSTANCE = MambaEngine.newInstance();
    }
}
