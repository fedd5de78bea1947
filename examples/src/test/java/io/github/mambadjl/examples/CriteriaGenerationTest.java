package io.github.mambadjl.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.TensorData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the Criteria example on the mamba-tiny golden fixture with a word-level tokenizer. */
class CriteriaGenerationTest {

    @TempDir Path dir;

    @Test
    void generatesTheGoldenGreedyTokensWholeAndStreamed() throws Exception {
        Path fixture = Path.of(System.getProperty("mambadjl.fixtures"), "mamba-tiny");
        for (String f :
                new String[] {"config.json", "generation_config.json", "model.safetensors"}) {
            Files.copy(fixture.resolve(f), dir.resolve(f));
        }
        Files.writeString(dir.resolve("tokenizer.json"), tokenizer(96));
        long[] prompt;
        long[] generated;
        try (SafetensorsFile golden = SafetensorsFile.open(fixture.resolve("golden.safetensors"))) {
            TensorData input = golden.tensor("input_ids");
            prompt = Arrays.copyOf(longs(input), (int) input.shape()[1]);
            long[] all = longs(golden.tensor("generated_ids"));
            generated = Arrays.copyOfRange(all, prompt.length, all.length);
        }
        String promptText = words(prompt) + " ";
        String expected = words(generated);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        String[] texts;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            texts = CriteriaGeneration.run(dir.toString(), promptText, generated.length, out);
        }
        assertArrayEquals(new String[] {expected, expected}, texts);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(
                promptText
                        + expected
                        + System.lineSeparator()
                        + promptText
                        + expected
                        + System.lineSeparator(),
                printed);
    }

    private static String words(long[] ids) {
        StringJoiner j = new StringJoiner(" ");
        for (long id : ids) {
            j.add("t" + id);
        }
        return j.toString();
    }

    /** A word-level tokenizer mapping t0 ... t(n-1) to their ids. */
    private static String tokenizer(int n) {
        StringJoiner vocab = new StringJoiner(",", "{", "}");
        for (int i = 0; i < n; i++) {
            vocab.add("\"t" + i + "\":" + i);
        }
        return "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},"
                + "\"post_processor\":null,\"decoder\":null,\"model\":{\"type\":\"WordLevel\","
                + "\"vocab\":"
                + vocab
                + ",\"unk_token\":\"t0\"}}";
    }

    private static long[] longs(TensorData t) {
        long[] out = new long[(int) t.numel()];
        t.data().asLongBuffer().get(out);
        return out;
    }
}
