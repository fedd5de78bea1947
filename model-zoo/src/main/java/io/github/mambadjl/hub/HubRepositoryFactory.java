package io.github.mambadjl.hub;

import ai.djl.ndarray.types.DataType;
import ai.djl.repository.Repository;
import ai.djl.repository.RepositoryFactory;
import io.github.mambadjl.zoo.ZooArguments;
import java.net.URI;
import java.util.Collections;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Makes DJL understand {@code hf://org/name[@revision]} model URLs, so that {@code
 * Criteria.optModelUrls("hf://state-spaces/mamba-130m-hf")} downloads the checkpoint from the
 * Hugging Face Hub into its cache. The repository's artifact carries {@link ZooArguments} (block
 * factory, text-generation translator factory, {@code float32}, the Hub settings), so a Hub
 * repository of a supported layout loads as a zoo model does. Registered through {@code
 * META-INF/services}; the settings come from the environment ({@link
 * HubSettings#fromEnvironment()}) when the repository is created.
 */
public class HubRepositoryFactory implements RepositoryFactory {

    /** The URL scheme. */
    public static final String SCHEME = "hf";

    private final Supplier<HubSettings> settings;

    /** Creates the factory that reads the settings from the environment. */
    public HubRepositoryFactory() {
        this(HubSettings::fromEnvironment);
    }

    /**
     * Creates a factory with the given settings (tests, or an application that configures the Hub
     * in code); register it with {@link Repository#registerRepositoryFactory(RepositoryFactory)}.
     *
     * @param settings the Hub settings
     */
    public HubRepositoryFactory(HubSettings settings) {
        this(() -> settings);
    }

    private HubRepositoryFactory(Supplier<HubSettings> settings) {
        this.settings = settings;
    }

    /** {@inheritDoc} */
    @Override
    public Repository newInstance(String name, URI uri) {
        if (!SCHEME.equalsIgnoreCase(uri.getScheme())) {
            throw new IllegalArgumentException("Not an hf:// URL: " + uri);
        }
        HubSettings s = settings.get();
        return new HubRepository(
                name, uri, s, ZooArguments.defaults(s, DataType.FLOAT32), ZooArguments.OPTIONS);
    }

    /** {@inheritDoc} */
    @Override
    public Set<String> getSupportedScheme() {
        return Collections.singleton(SCHEME);
    }
}
