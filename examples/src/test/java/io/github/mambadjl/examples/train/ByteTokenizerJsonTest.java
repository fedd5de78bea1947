package io.github.mambadjl.examples.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The byte-level tokenizer.json loads in DJL's HuggingFace tokenizers and round-trips text. */
class ByteTokenizerJsonTest {

    @Test
    void gpt2TableIsABijection() {
        int[] table = ByteTokenizerJson.byteToUnicode();
        Set<Integer> seen = new HashSet<>();
        for (int c : table) {
            seen.add(c);
        }
        assertEquals(256, seen.size());
        assertEquals('A', table['A']);
        assertEquals(0x120, table[' ']);
    }

    @Test
    void tokensAreTheUtf8BytesAndDecodeBack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        ByteTokenizerJson.write(file);
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(file)) {
            for (String text :
                    new String[] {
                        "In the beginning God created the heaven and the earth.\n",
                        "  two spaces, tab\there; Ünïcödé ✓ 日本語 🙂",
                        "\u0000\u0001\u007f"
                    }) {
                Encoding encoding = tokenizer.encode(text);
                byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
                long[] expected = new long[bytes.length];
                for (int i = 0; i < bytes.length; i++) {
                    expected[i] = bytes[i] & 0xFF;
                }
                assertArrayEquals(expected, encoding.getIds(), text);
                assertEquals(text, tokenizer.decode(encoding.getIds(), true));
            }
        }
    }
}
