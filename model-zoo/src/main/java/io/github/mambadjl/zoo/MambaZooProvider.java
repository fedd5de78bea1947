package io.github.mambadjl.zoo;

import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooProvider;
import io.github.mambadjl.hub.HubSettings;

/**
 * Registers {@link MambaModelZoo} with DJL (through {@code META-INF/services}, with the settings of
 * the environment), or with given settings through {@code ModelZoo.registerModelZoo(new
 * MambaZooProvider(settings))}.
 */
public class MambaZooProvider implements ZooProvider {

    private final HubSettings settings;

    /** Creates the provider whose zoo reads its settings from the environment. */
    public MambaZooProvider() {
        this.settings = null;
    }

    /**
     * Creates a provider whose zoo downloads with the given settings.
     *
     * @param settings the Hub settings
     */
    public MambaZooProvider(HubSettings settings) {
        this.settings = settings;
    }

    /** {@inheritDoc} */
    @Override
    public ModelZoo getModelZoo() {
        return settings == null ? new MambaModelZoo() : new MambaModelZoo(settings);
    }
}
