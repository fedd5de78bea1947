package io.github.mambadjl.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CliArgumentsTest {

    private static CliArguments parse(String... words) throws UsageException {
        return CliArguments.parse(
                "generate",
                List.of(words),
                Set.of("model", "top-k", "top-p", "format"),
                Set.of("greedy"));
    }

    @Test
    void valuesFlagsAndPositionals() throws UsageException {
        CliArguments a = parse("--model", "dir", "In", "--greedy", "--top-k=5", "the", "--", "--x");
        assertEquals("dir", a.value("model"));
        assertEquals(5, a.intValue("top-k", 0, 0));
        assertTrue(a.has("greedy"));
        assertFalse(a.has("format"));
        assertEquals("text", a.choice("format", "text", "text", "json"));
        assertEquals(List.of("In", "the", "--x"), a.positionals());
    }

    @Test
    void malformedCommandLinesNameTheProblem() {
        assertTrue(
                assertThrows(UsageException.class, () -> parse("--topk", "3"))
                        .getMessage()
                        .contains("unknown option --topk"));
        assertTrue(
                assertThrows(UsageException.class, () -> parse("--model"))
                        .getMessage()
                        .contains("needs a value"));
        assertTrue(
                assertThrows(UsageException.class, () -> parse("--greedy=yes"))
                        .getMessage()
                        .contains("takes no value"));
        assertTrue(
                assertThrows(UsageException.class, () -> parse("--model", "a", "--model", "b"))
                        .getMessage()
                        .contains("twice"));
        assertTrue(
                assertThrows(
                                UsageException.class,
                                () -> parse("--top-k", "x").intValue("top-k", 0, 0))
                        .getMessage()
                        .contains("must be an integer"));
        assertTrue(
                assertThrows(
                                UsageException.class,
                                () -> parse("--top-p", "1.5").floatValue("top-p", 1, 0, 1))
                        .getMessage()
                        .contains("must lie in"));
        assertTrue(
                assertThrows(
                                UsageException.class,
                                () ->
                                        parse("--format", "xml")
                                                .choice("format", "text", "text", "json"))
                        .getMessage()
                        .contains("one of text, json"));
    }

    @Test
    void tokenIds() throws UsageException {
        assertArrayEquals(new long[] {1, 2, 255}, TokenIds.parse(" 1, 2 ,255", 256));
        assertThrows(UsageException.class, () -> TokenIds.parse("1,,2", 256));
        assertThrows(UsageException.class, () -> TokenIds.parse("-1", 256));
        assertThrows(UsageException.class, () -> TokenIds.parse("256", 256));
    }

    @Test
    void errorsAreOneLine() {
        Exception e =
                new IllegalStateException("outer", new java.io.IOException("first\n  second"));
        assertEquals("outer: first second", Errors.describe(e));
    }
}
