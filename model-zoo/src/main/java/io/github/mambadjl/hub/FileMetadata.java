package io.github.mambadjl.hub;

import java.net.URI;
import java.util.Locale;

/**
 * What a {@code HEAD} request on a file's {@code resolve} URL tells: the commit, the ETag (the
 * SHA-256 for LFS files, the git blob SHA-1 otherwise), the size and where to download it from.
 */
public final class FileMetadata {

    private final String commitHash;
    private final String etag;
    private final long size;
    private final URI location;

    /**
     * Creates the metadata of a file.
     *
     * @param commitHash the commit ({@code X-Repo-Commit})
     * @param etag the normalized ETag ({@code X-Linked-Etag} or {@code ETag})
     * @param size the size in bytes ({@code X-Linked-Size} or {@code Content-Length}), or -1
     * @param location the URL to download from (the redirect target for LFS files)
     */
    public FileMetadata(String commitHash, String etag, long size, URI location) {
        this.commitHash = commitHash;
        this.etag = etag;
        this.size = size;
        this.location = location;
    }

    /**
     * Returns the commit the revision resolved to.
     *
     * @return 40 hex digits
     */
    public String getCommitHash() {
        return commitHash;
    }

    /**
     * Returns the ETag without quotes or weak prefix; it names the blob in the cache.
     *
     * @return the ETag
     */
    public String getEtag() {
        return etag;
    }

    /**
     * Returns the size of the file.
     *
     * @return the size in bytes, or -1 if unknown
     */
    public long getSize() {
        return size;
    }

    /**
     * Returns the URL the file is downloaded from.
     *
     * @return the location
     */
    public URI getLocation() {
        return location;
    }

    /**
     * Returns whether the ETag is a SHA-256 digest, as it is for files stored with Git LFS.
     *
     * @return {@code true} for LFS files
     */
    public boolean isLfs() {
        return isSha256(etag);
    }

    static boolean isSha256(String etag) {
        return etag != null
                && etag.length() == 64
                && etag.toLowerCase(Locale.ROOT).matches("[0-9a-f]+");
    }
}
