package io.github.mambadjl.hub;

import java.util.Optional;

/** A file of a Hub repository, as listed in the {@code siblings} of the model info. */
public final class RepoFile {

    private final String name;
    private final long size;
    private final String lfsSha256;

    /**
     * Creates a file entry.
     *
     * @param name the path in the repository ({@code rfilename})
     * @param size the size in bytes, or -1 if the listing did not say
     * @param lfsSha256 the SHA-256 of an LFS file, or {@code null}
     */
    public RepoFile(String name, long size, String lfsSha256) {
        this.name = name;
        this.size = size;
        this.lfsSha256 = lfsSha256;
    }

    /**
     * Returns the path of the file in the repository.
     *
     * @return for example {@code model.safetensors}
     */
    public String getName() {
        return name;
    }

    /**
     * Returns the size in bytes, or -1 when the listing did not include sizes.
     *
     * @return the size
     */
    public long getSize() {
        return size;
    }

    /**
     * Returns the SHA-256 of the file when it is stored with Git LFS and the listing says so.
     *
     * @return the hex digest
     */
    public Optional<String> getLfsSha256() {
        return Optional.ofNullable(lfsSha256);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return name;
    }
}
