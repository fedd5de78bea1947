package io.github.mambadjl.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks a file against its ETag: the SHA-256 of the contents for LFS files (64 hex digits), the
 * git blob SHA-1 ({@code sha1("blob <size>\0" + contents)}) for regular files (40 hex digits).
 * Other ETags cannot be checked and are accepted.
 */
final class BlobVerifier {

    private BlobVerifier() {}

    /**
     * Returns whether an ETag is a digest this class can check.
     *
     * @param etag the normalized ETag
     * @return {@code true} for SHA-256 and git SHA-1 ETags
     */
    static boolean isVerifiable(String etag) {
        return etag.matches("[0-9a-f]{40}|[0-9a-f]{64}");
    }

    /**
     * Computes the digest of a file in the form of its ETag.
     *
     * @param file the file
     * @param etag the ETag, which selects the algorithm
     * @return the hex digest
     * @throws IOException if the file cannot be read
     */
    static String digest(Path file, String etag) throws IOException {
        boolean sha256 = etag.length() == 64;
        MessageDigest md = newDigest(sha256 ? "SHA-256" : "SHA-1");
        if (!sha256) {
            md.update(("blob " + Files.size(file) + "\0").getBytes(StandardCharsets.US_ASCII));
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                md.update(buf, 0, n);
            }
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : md.digest()) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }

    /**
     * Returns whether a file matches its ETag (always {@code true} when the ETag is no digest).
     *
     * @param file the file
     * @param etag the normalized ETag
     * @return {@code true} if the file is intact
     * @throws IOException if the file cannot be read
     */
    static boolean matches(Path file, String etag) throws IOException {
        return !isVerifiable(etag) || digest(file, etag).equals(etag);
    }

    private static MessageDigest newDigest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(name + " is required by every JDK", e);
        }
    }
}
