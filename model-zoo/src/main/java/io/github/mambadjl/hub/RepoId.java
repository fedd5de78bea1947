package io.github.mambadjl.hub;

import java.util.regex.Pattern;

/**
 * The id of a model repository on the Hub, such as {@code state-spaces/mamba-130m-hf}, validated as
 * {@code huggingface_hub} validates it.
 */
public final class RepoId {

    private static final Pattern VALID = Pattern.compile("^([\\w\\-.]+/)?[\\w\\-.]+$");

    private final String id;

    private RepoId(String id) {
        this.id = id;
    }

    /**
     * Parses a repository id.
     *
     * @param id {@code name} or {@code org/name}
     * @return the repository id
     * @throws IllegalArgumentException if the id is not a valid Hub repository id
     */
    public static RepoId of(String id) {
        if (id == null
                || id.length() > 96
                || !VALID.matcher(id).matches()
                || id.contains("--")
                || id.contains("..")
                || id.startsWith("-")
                || id.startsWith(".")
                || id.endsWith(".")
                || id.endsWith("-")) {
            throw new IllegalArgumentException(
                    "'"
                            + id
                            + "' is not a valid Hugging Face repository id: use 'org/name' made"
                            + " of letters, digits, '-', '_' and '.', without '--' or '..' and"
                            + " at most 96 characters (e.g. state-spaces/mamba-130m-hf).");
        }
        return new RepoId(id);
    }

    /**
     * Returns the id as written on the Hub.
     *
     * @return for example {@code state-spaces/mamba-130m-hf}
     */
    public String getId() {
        return id;
    }

    /**
     * Returns the name of this repository's folder in the cache.
     *
     * @return for example {@code models--state-spaces--mamba-130m-hf}
     */
    public String cacheFolderName() {
        return "models--" + id.replace("/", "--");
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(Object o) {
        return o instanceof RepoId && ((RepoId) o).id.equals(id);
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return id.hashCode();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return id;
    }
}
