package io.github.mambadjl.hub;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What the Hub API says of a model repository at one revision: the commit it resolves to and its
 * files ({@code GET /api/models/{repo_id}/revision/{revision}}).
 */
public final class RepoInfo {

    private final RepoId repo;
    private final String sha;
    private final List<RepoFile> files;
    private final boolean gated;

    /**
     * Creates a repository description.
     *
     * @param repo the repository
     * @param sha the commit the revision resolves to (40 hex digits)
     * @param files the files of the repository at that commit
     * @param gated whether the repository asks users to accept terms before download
     */
    public RepoInfo(RepoId repo, String sha, List<RepoFile> files, boolean gated) {
        this.repo = repo;
        this.sha = sha;
        this.files = Collections.unmodifiableList(new ArrayList<>(files));
        this.gated = gated;
    }

    /**
     * Parses the JSON answer of the model info endpoint.
     *
     * @param repo the repository that was asked for
     * @param json the response body
     * @return the description
     * @throws HubException if the answer lacks the commit sha or the file list
     */
    public static RepoInfo parse(RepoId repo, String json) throws HubException {
        try {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            JsonElement sha = o.get("sha");
            JsonElement siblings = o.get("siblings");
            if (sha == null || !sha.isJsonPrimitive() || siblings == null) {
                throw new HubException(
                        "The Hub's model info for "
                                + repo
                                + " has no 'sha' or no 'siblings'; is HF_ENDPOINT pointing at a"
                                + " Hugging Face Hub? Answer starts with: "
                                + abbreviate(json));
            }
            List<RepoFile> files = new ArrayList<>();
            for (JsonElement e : (JsonArray) siblings) {
                JsonObject f = e.getAsJsonObject();
                long size = f.has("size") ? f.get("size").getAsLong() : -1;
                String lfs = null;
                if (f.has("lfs") && f.get("lfs").isJsonObject()) {
                    JsonObject l = f.getAsJsonObject("lfs");
                    lfs = l.has("sha256") ? l.get("sha256").getAsString() : null;
                }
                files.add(new RepoFile(f.get("rfilename").getAsString(), size, lfs));
            }
            JsonElement g = o.get("gated");
            boolean gated =
                    g != null
                            && g.isJsonPrimitive()
                            && !(g.getAsJsonPrimitive().isBoolean() && !g.getAsBoolean());
            return new RepoInfo(repo, sha.getAsString(), files, gated);
        } catch (JsonParseException | IllegalStateException | ClassCastException e) {
            throw new HubException(
                    "Cannot parse the Hub's model info for "
                            + repo
                            + " ("
                            + e.getMessage()
                            + "); is HF_ENDPOINT pointing at a Hugging Face Hub? Answer starts"
                            + " with: "
                            + abbreviate(json),
                    e);
        }
    }

    /**
     * Returns the repository.
     *
     * @return the repository id
     */
    public RepoId getRepo() {
        return repo;
    }

    /**
     * Returns the commit the asked revision resolves to.
     *
     * @return 40 hex digits
     */
    public String getSha() {
        return sha;
    }

    /**
     * Returns the files of the repository at that commit.
     *
     * @return an unmodifiable list
     */
    public List<RepoFile> getFiles() {
        return files;
    }

    /**
     * Returns the paths of the files of the repository at that commit.
     *
     * @return the file names
     */
    public List<String> getFileNames() {
        List<String> names = new ArrayList<>(files.size());
        for (RepoFile f : files) {
            names.add(f.getName());
        }
        return names;
    }

    /**
     * Returns whether the repository is gated (its terms must be accepted before download).
     *
     * @return {@code true} if gated
     */
    public boolean isGated() {
        return gated;
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
