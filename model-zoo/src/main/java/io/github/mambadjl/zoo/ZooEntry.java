package io.github.mambadjl.zoo;

import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.config.ModelFamily;
import io.github.mambadjl.hub.RepoId;
import java.util.Locale;

/**
 * One published checkpoint of the zoo: its zoo name, its Hub repository and what is known of it
 * before any download (family, approximate size, layout, the data type it is loaded in by default,
 * whether the repository is gated). The files themselves are listed by the Hub at run time.
 */
public final class ZooEntry {

    private final String name;
    private final RepoId repo;
    private final ModelFamily family;
    private final String parameters;
    private final RepoLayout layout;
    private final DataType dataType;
    private final boolean gated;

    /**
     * Creates an entry.
     *
     * @param repo the Hub repository, {@code org/name}
     * @param family the model family
     * @param parameters the approximate parameter count, e.g. {@code 130M}
     * @param layout the layout of the repository's files
     * @param dataType the data type the zoo loads the weights in unless told otherwise
     * @param gated whether the repository asks users to accept its terms (a token is needed)
     */
    public ZooEntry(
            String repo,
            ModelFamily family,
            String parameters,
            RepoLayout layout,
            DataType dataType,
            boolean gated) {
        this.repo = RepoId.of(repo);
        this.name = nameOf(repo);
        this.family = family;
        this.parameters = parameters;
        this.layout = layout;
        this.dataType = dataType;
        this.gated = gated;
    }

    /**
     * Returns the zoo name of a Hub repository: its name without the organisation, in lower case
     * ({@code state-spaces/mamba-130m-hf} is {@code mamba-130m-hf}).
     *
     * @param repo {@code org/name}
     * @return the zoo name
     */
    public static String nameOf(String repo) {
        return repo.substring(repo.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
    }

    /**
     * Returns the zoo name (the DJL artifact id), as in {@code djl://io.github.mambadjl/<name>}.
     *
     * @return the name
     */
    public String getName() {
        return name;
    }

    /**
     * Returns the Hub repository.
     *
     * @return the repository id
     */
    public RepoId getRepo() {
        return repo;
    }

    /**
     * Returns the model family.
     *
     * @return the family
     */
    public ModelFamily getFamily() {
        return family;
    }

    /**
     * Returns the approximate parameter count, as the model card states it.
     *
     * @return for example {@code 2.8B}
     */
    public String getParameters() {
        return parameters;
    }

    /**
     * Returns the layout of the repository's files.
     *
     * @return the layout
     */
    public RepoLayout getLayout() {
        return layout;
    }

    /**
     * Returns the data type the zoo loads the weights in unless the argument {@code dataType} says
     * otherwise ({@code bfloat16} is read as {@code float32} on the PyTorch engine, see {@link
     * ZooBlockFactory}).
     *
     * @return the default data type
     */
    public DataType getDataType() {
        return dataType;
    }

    /**
     * Returns whether the repository is gated (accept its terms on the Hub and set {@code
     * HF_TOKEN}).
     *
     * @return whether it is gated
     */
    public boolean isGated() {
        return gated;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return name
                + " ("
                + repo.getId()
                + ", "
                + family
                + ", "
                + parameters
                + ", "
                + layout
                + ", "
                + dataType
                + (gated ? ", gated" : "")
                + ')';
    }
}
