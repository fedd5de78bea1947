package io.github.mambadjl.zoo;

import ai.djl.repository.Repository;
import ai.djl.repository.zoo.ModelZoo;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.hub.FakeHub;
import io.github.mambadjl.hub.HubRepositoryFactory;
import io.github.mambadjl.hub.HubSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The golden fixtures as Hub repositories with a word-level tokenizer of their 96 ids ({@code t0}
 * ... {@code t95}, {@code t0} the special end-of-sequence token), so that text in equals ids in.
 */
final class ZooFixtures {

    static final int VOCAB = 96;

    private ZooFixtures() {}

    /** A tokenizer.json mapping {@code t<i>} to id i, whitespace-separated; t0 is special. */
    static String tokenizerJson() {
        StringJoiner vocab = new StringJoiner(",", "{", "}");
        for (int i = 0; i < VOCAB; i++) {
            vocab.add("\"t" + i + "\":" + i);
        }
        return "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                + "\"added_tokens\":[{\"id\":0,\"content\":\"t0\",\"single_word\":false,"
                + "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},"
                + "\"post_processor\":null,\"decoder\":null,"
                + "\"model\":{\"type\":\"WordLevel\",\"vocab\":"
                + vocab
                + ",\"unk_token\":\"t0\"}}";
    }

    /** The checkpoint files of a fixture, with the tokenizer if asked. */
    static Map<String, byte[]> repo(String fixture, boolean withTokenizer) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        Path dir = FakeHub.fixture(fixture);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                // golden outputs are no repository files, nor DJL markers other tests leave
                if (!name.startsWith("golden") && !name.endsWith(".params")) {
                    files.put(name, Files.readAllBytes(p));
                }
            }
        }
        if (withTokenizer) {
            files.put("tokenizer.json", tokenizerJson().getBytes(StandardCharsets.UTF_8));
        }
        return files;
    }

    /** The GPT-NeoX fallback repository, holding the test tokenizer. */
    static Map<String, byte[]> neox() {
        return Map.of("tokenizer.json", tokenizerJson().getBytes(StandardCharsets.UTF_8));
    }

    static HubSettings.Builder settings(FakeHub hub, Path cache) {
        return HubSettings.builder()
                .endpoint(hub.endpoint())
                .hubCache(cache)
                .maxRetries(2)
                .backoff(Duration.ofMillis(10), Duration.ofMillis(40))
                .connectTimeout(Duration.ofSeconds(3))
                .readTimeout(Duration.ofSeconds(3))
                .progressThreshold(Long.MAX_VALUE);
    }

    /** Points the zoo and hf:// at the given settings. */
    static void use(HubSettings settings) {
        ModelZoo.registerModelZoo(new MambaZooProvider(settings));
        Repository.registerRepositoryFactory(new HubRepositoryFactory(settings));
    }

    /** Back to the environment's settings. */
    static void reset() {
        ModelZoo.registerModelZoo(new MambaZooProvider());
        Repository.registerRepositoryFactory(new HubRepositoryFactory());
    }

    /** The golden prompt (row 0 of input_ids) and the greedy new tokens of a fixture. */
    static final class Golden {
        final long[] prompt;
        final long[] newTokens;

        Golden(String fixture) throws IOException {
            try (SafetensorsFile f =
                    SafetensorsFile.open(FakeHub.fixture(fixture).resolve("golden.safetensors"))) {
                TensorData input = f.tensor("input_ids");
                int length = (int) input.shape()[1];
                prompt = Arrays.copyOf(longs(input), length);
                long[] generated = longs(f.tensor("generated_ids"));
                newTokens = Arrays.copyOfRange(generated, length, generated.length);
            }
        }

        String promptText() {
            return text(prompt, false);
        }

        /** The text of the new tokens as the translator decodes it (t0 skipped). */
        String expectedText() {
            return text(newTokens, true);
        }

        static String text(long[] ids, boolean skipSpecial) {
            StringJoiner j = new StringJoiner(" ");
            for (long id : ids) {
                if (!(skipSpecial && id == 0)) {
                    j.add("t" + id);
                }
            }
            return j.toString();
        }

        private static long[] longs(TensorData t) {
            long[] out = new long[(int) t.numel()];
            t.data().asLongBuffer().get(out);
            return out;
        }
    }
}
