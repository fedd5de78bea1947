package io.github.mambadjl.zoo;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Generated text, piece by piece as the tokens are decided: each {@link #next()} returns the text
 * that the new tokens add (possibly several tokens' worth, or nothing held back: a piece is shown
 * once it can no longer be the start of a stop string or of a split character). Iteration ends at
 * the end-of-sequence token, at {@code maxNewTokens}, or before the first stop string; the rest of
 * the generation is then not computed. Close it to end a generation early.
 */
public final class TextStream implements Iterator<String>, AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final StopStrings stops;
    private final Iterator<long[]> source;
    private final Runnable onClose;
    private long[] tokens = new long[16];
    private int count;
    private int shown;
    private String pending;
    private boolean done;

    TextStream(
            HuggingFaceTokenizer tokenizer,
            StopStrings stops,
            Iterator<long[]> source,
            Runnable onClose) {
        this.tokenizer = tokenizer;
        this.stops = stops;
        this.source = source;
        this.onClose = onClose;
    }

    /** {@inheritDoc} */
    @Override
    public boolean hasNext() {
        while (pending == null && !done) {
            if (!source.hasNext()) {
                String text = stops.cut(decode());
                emit(text, text.length());
                close();
                break;
            }
            for (long t : source.next()) {
                if (count == tokens.length) {
                    tokens = Arrays.copyOf(tokens, count * 2);
                }
                tokens[count++] = t;
            }
            String text = decode();
            int stop = stops.find(text);
            if (stop >= 0) {
                emit(text, stop);
                close();
            } else {
                emit(text, stops.safeLength(text));
            }
        }
        return pending != null;
    }

    /** {@inheritDoc} */
    @Override
    public String next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the generated text has ended");
        }
        String piece = pending;
        pending = null;
        return piece;
    }

    /**
     * Reads the remaining pieces and returns them joined.
     *
     * @return the rest of the text
     */
    public String readAll() {
        StringBuilder sb = new StringBuilder();
        while (hasNext()) {
            sb.append(next());
        }
        return sb.toString();
    }

    /**
     * Returns the tokens generated so far.
     *
     * @return the token ids
     */
    public long[] getTokenIds() {
        return Arrays.copyOf(tokens, count);
    }

    /** Ends the generation and frees what it holds; the pieces not yet read are dropped. */
    @Override
    public void close() {
        if (!done) {
            done = true;
            onClose.run();
        }
    }

    private String decode() {
        return tokenizer.decode(Arrays.copyOf(tokens, count), true);
    }

    private void emit(String text, int end) {
        if (end > shown) {
            pending = text.substring(shown, end);
            shown = end;
        }
    }
}
