package io.github.mambadjl.examples.cli;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.util.Arrays;

/**
 * Turns tokens into text as they come. A token can be part of a character (byte-level vocabularies
 * split UTF-8 characters), so the new tokens are decoded together each time and only the text past
 * what was already returned is given out, holding back a trailing incomplete character.
 */
final class StreamingDecoder {

    private static final char REPLACEMENT = '\uFFFD';

    private final HuggingFaceTokenizer tokenizer;
    private long[] ids = new long[16];
    private int count;
    private int emitted;

    StreamingDecoder(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds a token.
     *
     * @param id the token id
     * @return the text that became complete with it, possibly empty
     */
    String add(long id) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        String text = tokenizer.decode(Arrays.copyOf(ids, count), true);
        int end = text.length();
        if (end > 0 && text.charAt(end - 1) == REPLACEMENT) {
            return "";
        }
        if (end <= emitted) {
            return "";
        }
        String fresh = text.substring(emitted);
        emitted = end;
        return fresh;
    }
}
