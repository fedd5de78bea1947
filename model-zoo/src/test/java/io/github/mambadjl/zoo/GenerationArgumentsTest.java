package io.github.mambadjl.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mambadjl.generate.GenerationConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Criteria arguments to generation settings, and stop strings. */
class GenerationArgumentsTest {

    @Test
    void defaultsAreGreedyTwentyTokensUntilTheEndOfSequence() {
        GenerationConfig c = GenerationArguments.toConfig(Map.of(), new long[] {2});
        assertEquals(20, c.maxNewTokens());
        assertFalse(c.sample());
        assertEquals(1f, c.repetitionPenalty());
        assertArrayEquals(new long[] {2}, c.stopTokenIds());
        assertEquals(2, c.padTokenId());
        assertNull(c.seed());
    }

    @Test
    void samplingArgumentsAsNumbersOrStrings() {
        GenerationConfig c =
                GenerationArguments.toConfig(
                        Map.of(
                                "maxNewTokens", "7",
                                "temperature", 0.7,
                                "topK", "40",
                                "topP", 0.9f,
                                "minP", "0.05",
                                "repetitionPenalty", "1.2",
                                "seed", 42L),
                        new long[0]);
        assertEquals(7, c.maxNewTokens());
        assertTrue(c.sample());
        assertEquals(0.7f, c.temperature());
        assertEquals(40, c.topK());
        assertEquals(0.9f, c.topP());
        assertEquals(0.05f, c.minP());
        assertEquals(1.2f, c.repetitionPenalty());
        assertEquals(42L, c.seed());
        assertArrayEquals(new long[0], c.stopTokenIds());
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        GenerationArguments.toConfig(
                                                Map.of("temperature", -1), new long[0]))
                        .getMessage()
                        .contains("temperature"));
        assertTrue(
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        GenerationArguments.toConfig(
                                                Map.of("minP", 0.1), new long[0]))
                        .getMessage()
                        .contains("minP applies only to sampling"));
        assertTrue(
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        GenerationArguments.toConfig(
                                                Map.of("maxNewTokens", 0), new long[0]))
                        .getMessage()
                        .contains("maxNewTokens"));
        assertTrue(
                assertThrows(
                                IllegalArgumentException.class,
                                () ->
                                        GenerationArguments.toConfig(
                                                Map.of("seed", "x"), new long[0]))
                        .getMessage()
                        .contains("seed must be a number"));
    }

    @Test
    void stopStringsFromAStringAListOrAnArray() {
        assertEquals(List.of("\n\n"), GenerationArguments.stopStrings(Map.of("stop", "\n\n")));
        assertEquals(
                List.of("a", "b"),
                GenerationArguments.stopStrings(Map.of("stop", List.of("a", "b"))));
        assertEquals(
                List.of("a", "b"),
                GenerationArguments.stopStrings(Map.of("stop", new String[] {"a", "b"})));
        assertEquals(List.of(), GenerationArguments.stopStrings(Map.of()));
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationArguments.stopStrings(Map.of("stop", List.of("a", ""))));
    }

    @Test
    void stopStringsCutAndHoldBack() {
        StopStrings s = new StopStrings(List.of("END", "\n\n"));
        assertEquals("abc", s.cut("abcEND more\n\n"));
        assertEquals("x", s.cut("x\n\nyEND"));
        assertEquals("no stop", s.cut("no stop"));
        assertEquals(4, s.safeLength("textE"), "E may start END");
        assertEquals(4, s.safeLength("textEN"));
        assertEquals(4, s.safeLength("text\n"), "a newline may start a blank line");
        assertEquals(7, s.safeLength("textEND".substring(0, 4) + "abc"));
        assertEquals(4, s.safeLength("text\uFFFD"), "a split character waits for its bytes");
        assertEquals(6, new StopStrings(List.of()).safeLength("abcdef"));
    }
}
