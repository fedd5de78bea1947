package io.github.mambadjl.zoo;

import ai.djl.repository.zoo.ModelZoo;
import io.github.mambadjl.hub.HubSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The DJL model zoo of the published Mamba-family checkpoints (group id {@value #GROUP_ID}): one
 * {@link MambaModelLoader} per {@link ZooEntry}, downloading from the Hugging Face Hub with the
 * zoo's {@link HubSettings}.
 *
 * <pre>{@code
 * Criteria<String, String> criteria = Criteria.builder()
 *     .setTypes(String.class, String.class)
 *     .optModelUrls("djl://io.github.mambadjl/mamba-130m-hf")
 *     .optArgument("maxNewTokens", 32)
 *     .build();
 * }</pre>
 *
 * <p>The zoo that DJL finds through {@code META-INF/services} reads its settings from the
 * environment when it is created; to use other settings (a mirror, another cache), register {@code
 * ModelZoo.registerModelZoo(new MambaZooProvider(settings))}.
 */
public class MambaModelZoo extends ModelZoo {

    /** The group id. */
    public static final String GROUP_ID = "io.github.mambadjl";

    /** The engines: {@code Mamba} and, through {@link ZooBlockFactory}, {@code PyTorch}. */
    public static final Set<String> ENGINES = Set.of("Mamba", "PyTorch");

    private final HubSettings settings;
    private final List<ZooEntry> entries;

    /**
     * Creates the zoo with the settings of the environment ({@link HubSettings#fromEnvironment()}).
     */
    public MambaModelZoo() {
        this(HubSettings.fromEnvironment());
    }

    /**
     * Creates the zoo.
     *
     * @param settings where and how to download
     */
    @SuppressWarnings("this-escape")
    public MambaModelZoo(HubSettings settings) {
        this.settings = settings;
        this.entries = ZooEntries.ALL;
        for (ZooEntry entry : entries) {
            addModel(new MambaModelLoader(entry, settings));
        }
    }

    /** {@inheritDoc} */
    @Override
    public String getGroupId() {
        return GROUP_ID;
    }

    /** {@inheritDoc} */
    @Override
    public Set<String> getSupportedEngines() {
        return ENGINES;
    }

    /**
     * Returns the Hub settings of the zoo.
     *
     * @return the settings
     */
    public HubSettings getSettings() {
        return settings;
    }

    /**
     * Returns the entries, in the order of the documentation.
     *
     * @return the entries
     */
    public List<ZooEntry> getEntries() {
        return entries;
    }

    /**
     * Returns the loader of a zoo name, with a message listing the names when there is none.
     *
     * @param name a zoo name such as {@code mamba-130m-hf}
     * @return the loader
     * @throws IllegalArgumentException if the zoo has no such model
     */
    public MambaModelLoader requireLoader(String name) {
        MambaModelLoader loader = (MambaModelLoader) getModelLoader(name);
        if (loader == null) {
            List<String> names = new ArrayList<>();
            for (ZooEntry e : entries) {
                names.add(e.getName());
            }
            throw new IllegalArgumentException(
                    "The zoo "
                            + GROUP_ID
                            + " has no model '"
                            + name
                            + "'; the names are "
                            + names
                            + ". Any Hub repository loads as hf://org/name[@revision].");
        }
        return loader;
    }
}
