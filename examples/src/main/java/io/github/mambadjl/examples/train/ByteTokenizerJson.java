package io.github.mambadjl.examples.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the {@code tokenizer.json} of a byte-level model: token {@code i} is byte {@code i}.
 *
 * <p>It is a Hugging Face byte-level BPE without merges: the {@code ByteLevel} pre-tokenizer maps
 * every byte of the UTF-8 text to one printable character (GPT-2's table), the vocabulary maps each
 * of those 256 characters to the byte's value, and the {@code ByteLevel} decoder maps them back, so
 * any text round-trips and DJL's {@code HuggingFaceTokenizer} loads it as it loads GPT-2's.
 */
public final class ByteTokenizerJson {

    /** The vocabulary size: one token per byte value. */
    public static final int VOCAB_SIZE = 256;

    private ByteTokenizerJson() {}

    /**
     * Returns GPT-2's printable character for each byte value.
     *
     * @return 256 code points, indexed by byte value
     */
    static int[] byteToUnicode() {
        int[] table = new int[VOCAB_SIZE];
        int next = 256;
        for (int b = 0; b < VOCAB_SIZE; b++) {
            boolean printable =
                    (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? b : next++;
        }
        return table;
    }

    /**
     * Writes the tokenizer file.
     *
     * @param file the {@code tokenizer.json} to write
     * @throws IOException if the file cannot be written
     */
    public static void write(Path file) throws IOException {
        int[] table = byteToUnicode();
        JsonObject vocab = new JsonObject();
        for (int b = 0; b < VOCAB_SIZE; b++) {
            vocab.addProperty(new String(Character.toChars(table[b])), b);
        }
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        model.add("vocab", vocab);
        model.add("merges", new JsonArray());

        JsonObject json = new JsonObject();
        json.addProperty("version", "1.0");
        json.add("truncation", JsonNull.INSTANCE);
        json.add("padding", JsonNull.INSTANCE);
        json.add("added_tokens", new JsonArray());
        json.add("normalizer", JsonNull.INSTANCE);
        json.add("pre_tokenizer", byteLevel());
        json.add("post_processor", JsonNull.INSTANCE);
        json.add("decoder", byteLevel());
        json.add("model", model);
        Files.writeString(
                file,
                new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(json),
                StandardCharsets.UTF_8);
    }

    private static JsonObject byteLevel() {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", false);
        o.addProperty("trim_offsets", false);
        o.addProperty("use_regex", false);
        return o;
    }
}
