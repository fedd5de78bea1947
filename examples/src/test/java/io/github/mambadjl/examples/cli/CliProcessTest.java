package io.github.mambadjl.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The command line as a user runs it: a separate JVM, the embedded model, exit statuses, one-line
 * errors without stack traces.
 */
class CliProcessTest {

    private static void assertOneLineError(CliProcess.Result r, int exit, String expected) {
        assertEquals(exit, r.exit(), () -> "exit status; stderr: " + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), () -> "more than one line on stderr: " + err);
        assertTrue(err.startsWith("mamba-djl: error: "), err);
        assertTrue(err.contains(expected), () -> "'" + expected + "' not in: " + err);
        assertFalse(err.contains("Exception"), () -> "an exception leaked: " + err);
        assertEquals("", r.out());
    }

    @Test
    void generatesKingJamesTextFromATextPrompt() throws Exception {
        CliProcess.Result r =
                CliProcess.run("generate", "--greedy", "--max-new-tokens", "60", "And God said");
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        String text = r.out().strip();
        assertTrue(text.startsWith("And God said"), text);
        String continuation = text.substring("And God said".length());
        assertTrue(continuation.length() >= 10, text);
        // A model trained on the King James Bible writes its words, not noise.
        String[] words = continuation.trim().split("[\\s,.;:]+");
        int known = 0;
        for (String w : words) {
            if (w.matches(
                    "(?i)the|and|of|unto|that|he|to|lord|god|said|in|his|be|shall|is|i|a|them|for|they|thou|thee|all|not|was|my|which")) {
                known++;
            }
        }
        assertTrue(known >= 4, () -> "too few common King James words in: " + text);
    }

    @Test
    void streamingPrintsWhatTheBatchCallPrints() throws Exception {
        CliProcess.Result plain =
                CliProcess.run(
                        "generate", "--greedy", "--max-new-tokens", "30", "In the beginning");
        CliProcess.Result streamed =
                CliProcess.run(
                        "generate",
                        "--greedy",
                        "--stream",
                        "--max-new-tokens",
                        "30",
                        "In the beginning");
        assertEquals(0, plain.exit(), plain.err());
        assertEquals(0, streamed.exit(), streamed.err());
        assertEquals(plain.out(), streamed.out());
    }

    @Test
    void bothEnginesWriteTheSameGreedyText() throws Exception {
        CliProcess.Result mamba =
                CliProcess.run(
                        "generate",
                        "--engine",
                        "Mamba",
                        "--greedy",
                        "--max-new-tokens",
                        "20",
                        "The LORD");
        CliProcess.Result pytorch =
                CliProcess.run(
                        "generate",
                        "--engine",
                        "PyTorch",
                        "--greedy",
                        "--max-new-tokens",
                        "20",
                        "The LORD");
        assertEquals(0, mamba.exit(), mamba.err());
        assertEquals(0, pytorch.exit(), pytorch.err());
        assertEquals(pytorch.out(), mamba.out());
    }

    @Test
    void inputIdsWithJsonOutput() throws Exception {
        // "And" in bytes.
        CliProcess.Result r =
                CliProcess.run(
                        "generate",
                        "--input-ids",
                        "65,110,100",
                        "--max-new-tokens",
                        "20",
                        "--temperature",
                        "0.7",
                        "--top-k",
                        "20",
                        "--seed",
                        "3",
                        "--format",
                        "json");
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, r.out().strip().lines().count(), r.out());
        JsonObject json = JsonParser.parseString(r.out()).getAsJsonObject();
        JsonArray ids = json.getAsJsonArray("ids");
        JsonArray fresh = json.getAsJsonArray("new_ids");
        assertEquals(65, ids.get(0).getAsLong());
        assertEquals(110, ids.get(1).getAsLong());
        assertEquals(100, ids.get(2).getAsLong());
        assertEquals(3 + fresh.size(), ids.size());
        assertTrue(fresh.size() >= 1 && fresh.size() <= 20, json.toString());
        StringBuilder bytes = new StringBuilder();
        for (int i = 0; i < ids.size(); i++) {
            bytes.append((char) ids.get(i).getAsInt());
        }
        assertEquals(bytes.toString(), json.get("text").getAsString());
        assertTrue(json.get("text").getAsString().startsWith("And"));

        CliProcess.Result again =
                CliProcess.run(
                        "generate",
                        "--input-ids",
                        "65,110,100",
                        "--max-new-tokens",
                        "20",
                        "--temperature",
                        "0.7",
                        "--top-k",
                        "20",
                        "--seed",
                        "3",
                        "--format",
                        "json");
        assertEquals(
                ids,
                JsonParser.parseString(again.out()).getAsJsonObject().getAsJsonArray("ids"),
                "the same seed must give the same tokens");
    }

    @Test
    void infoDescribesTheEmbeddedModel() throws Exception {
        CliProcess.Result r = CliProcess.run("info");
        assertEquals(0, r.exit(), r.err());
        String out = r.out();
        assertTrue(out.contains("family:      MAMBA2"), out);
        assertTrue(out.contains("vocabulary:  256"), out);
        assertTrue(out.contains("dtype:       F32"), out);
        assertTrue(out.matches("(?s).*parameters:  [0-9,]+ .*"), out);
        assertTrue(out.contains("model.safetensors"), out);
        assertTrue(out.contains("tokenizer.json"), out);
        assertTrue(out.contains("native CPU:  loaded"), out);
        assertTrue(out.contains("native CUDA: "), out);
    }

    @Test
    void benchReportsPrefillAndDecodeRates() throws Exception {
        CliProcess.Result r =
                CliProcess.run(
                        "bench", "--prompt-length", "16", "--new-tokens", "4", "--runs", "1");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().matches("(?s).*prefill: [0-9.]+ tokens/s.*"), r.out());
        assertTrue(r.out().matches("(?s).*decode:  [0-9.]+ ms/token.*"), r.out());
    }

    @Test
    void bfloat16WeightsOnTheMambaEngineAndARefusalOnPyTorch() throws Exception {
        CliProcess.Result r =
                CliProcess.run(
                        "generate",
                        "--dtype",
                        "bfloat16",
                        "--greedy",
                        "--max-new-tokens",
                        "10",
                        "And");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("And"), r.out());
        assertOneLineError(
                CliProcess.run("generate", "--engine", "PyTorch", "--dtype", "float16", "And"),
                2,
                "needs --engine Mamba");
    }

    @Test
    void badModelPathIsOneLineAndExit1() throws Exception {
        assertOneLineError(
                CliProcess.run("generate", "--model", "/no/such/model-dir", "Hello"),
                1,
                "/no/such/model-dir");
    }

    @Test
    void directoryWithoutCheckpointIsOneLine() throws Exception {
        assertOneLineError(
                CliProcess.run(
                        "generate",
                        "--model",
                        System.getProperty("java.io.tmpdir"),
                        "--input-ids",
                        "1"),
                1,
                "cannot load");
    }

    @Test
    void unknownOptionIsOneLineAndExit2() throws Exception {
        assertOneLineError(
                CliProcess.run("generate", "--temprature", "0.5", "Hello"), 2, "--temprature");
    }

    @Test
    void missingGpuIsOneLineAndExit1() throws Exception {
        assertOneLineError(
                CliProcess.run(
                        Map.of("CUDA_VISIBLE_DEVICES", ""), "generate", "--device", "gpu", "Hi"),
                1,
                "no GPU");
    }

    @Test
    void malformedAndOutOfVocabularyIdsAreOneLineAndExit2() throws Exception {
        assertOneLineError(
                CliProcess.run("generate", "--input-ids", "1,two,3"), 2, "entry 2 is 'two'");
        assertOneLineError(CliProcess.run("generate", "--input-ids", "1,256"), 2, "token id 256");
    }

    @Test
    void verboseAddsTheStackTrace() throws Exception {
        CliProcess.Result r =
                CliProcess.run("generate", "--verbose", "--model", "/no/such/model-dir", "Hello");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("\tat "), r.err());
    }
}
