package io.github.mambadjl.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.github.mambadjl.examples.train.ByteTokenizerJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamingDecoderTest {

    @Test
    void multiByteCharactersComeOutWhole(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        ByteTokenizerJson.write(file);
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(file)) {
            StreamingDecoder decoder = new StreamingDecoder(tokenizer);
            String text = "é✓a";
            StringBuilder pieces = new StringBuilder();
            for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                String piece = decoder.add(b & 0xFF);
                if (!piece.isEmpty()) {
                    pieces.append('[').append(piece).append(']');
                }
            }
            assertEquals("[é][✓][a]", pieces.toString());
        }
    }
}
