package io.github.mambadjl.zoo;

import ai.djl.Application;
import ai.djl.repository.MRL;
import ai.djl.repository.zoo.BaseModelLoader;
import io.github.mambadjl.hub.HubRepository;
import io.github.mambadjl.hub.HubSettings;
import java.net.URI;
import java.util.List;

/**
 * The DJL model loader of one {@link ZooEntry}: its MRL ({@code djl://io.github.mambadjl/<name>})
 * points at the entry's Hub repository, whose files are listed by the Hub at run time and
 * downloaded into the Hugging Face cache. The artifact carries {@link ZooArguments}: the block
 * factory, the text-generation translator factory, the entry's data type and the Hub settings.
 */
public class MambaModelLoader extends BaseModelLoader {

    private final ZooEntry entry;
    private final HubSettings settings;

    /**
     * Creates the loader.
     *
     * @param entry the checkpoint
     * @param settings where and how to download
     */
    public MambaModelLoader(ZooEntry entry, HubSettings settings) {
        super(newRepository(entry, settings, null).getResources().get(0));
        this.entry = entry;
        this.settings = settings;
    }

    /**
     * Returns the checkpoint this loader loads.
     *
     * @return the entry
     */
    public ZooEntry getEntry() {
        return entry;
    }

    /**
     * Returns a fresh repository of the entry whose artifact also carries the given URL query
     * arguments (as {@code djl://io.github.mambadjl/<name>?arg=value} writes them).
     *
     * @param query the raw query, or {@code null}
     * @return the repository
     */
    public EntryRepository newRepository(String query) {
        return newRepository(entry, settings, query);
    }

    private static EntryRepository newRepository(
            ZooEntry entry, HubSettings settings, String query) {
        String url = "hf://" + entry.getRepo().getId() + (query == null ? "" : "?" + query);
        return new EntryRepository(entry, URI.create(url), settings);
    }

    /** The Hub repository of a zoo entry, whose resource is the entry's MRL in the zoo's group. */
    public static final class EntryRepository extends HubRepository {

        private final ZooEntry entry;

        EntryRepository(ZooEntry entry, URI uri, HubSettings settings) {
            super(
                    entry.getName(),
                    uri,
                    settings,
                    ZooArguments.defaults(settings, entry.getDataType()),
                    ZooArguments.OPTIONS);
            this.entry = entry;
        }

        /** {@inheritDoc} */
        @Override
        public List<MRL> getResources() {
            return List.of(
                    MRL.model(
                            this,
                            Application.NLP.TEXT_GENERATION,
                            MambaModelZoo.GROUP_ID,
                            entry.getName(),
                            null,
                            null));
        }
    }
}
