package io.github.mambadjl.zoo;

import ai.djl.repository.MRL;
import ai.djl.repository.RemoteRepository;
import ai.djl.repository.Repository;
import ai.djl.repository.RepositoryFactory;
import ai.djl.repository.zoo.ModelLoader;
import ai.djl.repository.zoo.ModelZoo;
import java.net.URI;
import java.util.Collections;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes {@code djl://io.github.mambadjl/<name>[?arguments]} load the zoo entry from the Hugging
 * Face Hub. DJL's own {@code djl://} factory sends every {@code djl://} URL to DJL's model
 * repository (mlrepo.djl.ai), where these models are not; this factory, registered through {@code
 * META-INF/services} (DJL lets a registered factory take over a scheme), answers for the group
 * {@value MambaModelZoo#GROUP_ID} and does exactly what DJL's does for every other group.
 */
public class ZooRepositoryFactory implements RepositoryFactory {

    /** The URL scheme. */
    public static final String SCHEME = "djl";

    private static final Pattern VERSIONED = Pattern.compile("(.+)/([\\d.]+)(/(.*))?");

    /** {@inheritDoc} */
    @Override
    public Repository newInstance(String name, URI uri) {
        String groupId = uri.getHost();
        if (groupId == null) {
            throw new IllegalArgumentException(
                    "Invalid djl URL: " + uri + "; write djl://<group id>/<model name>");
        }
        String artifactId = uri.getPath() == null ? "" : uri.getPath();
        if (artifactId.startsWith("/")) {
            artifactId = artifactId.substring(1);
        }
        if (artifactId.isEmpty()) {
            throw new IllegalArgumentException(
                    "Invalid djl URL: " + uri + "; write djl://<group id>/<model name>");
        }
        ModelZoo zoo = ModelZoo.getModelZoo(groupId);
        if (zoo instanceof MambaModelZoo) {
            return ((MambaModelZoo) zoo).requireLoader(artifactId).newRepository(uri.getRawQuery());
        }
        return djlRepository(name, uri, groupId, artifactId, zoo);
    }

    /** DJL's own handling of {@code djl://} for the other model zoos. */
    private static Repository djlRepository(
            String name, URI uri, String groupId, String artifactId, ModelZoo zoo) {
        String query = uri.getQuery();
        URI djlUri = URI.create("https://mlrepo.djl.ai/" + (query == null ? "" : "?" + query));
        RemoteRepository repo = new RemoteRepository(name, djlUri);
        String version = null;
        String artifactName = null;
        Matcher m = VERSIONED.matcher(artifactId);
        if (m.matches()) {
            artifactId = m.group(1);
            version = m.group(2);
            artifactName = m.group(4);
        }
        if (zoo == null) {
            throw new IllegalArgumentException("ModelZoo not found in classpath: " + groupId);
        }
        ModelLoader loader = zoo.getModelLoader(artifactId);
        if (loader == null) {
            throw new IllegalArgumentException("Invalid djl URL: " + uri);
        }
        MRL mrl = repo.model(loader.getApplication(), groupId, artifactId, version, artifactName);
        repo.addResource(mrl);
        return repo;
    }

    /** {@inheritDoc} */
    @Override
    public Set<String> getSupportedScheme() {
        return Collections.singleton(SCHEME);
    }
}
