package io.github.mambadjl.examples.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/** Reads the verse listing of Debian's {@code bible} program as training text. */
final class KjvText {

    /** A verse reference at the start of a line: book abbreviation, chapter, colon, verse. */
    private static final Pattern REFERENCE = Pattern.compile("^[1-3]?[A-Za-z]+\\d+:\\d+ ");

    private KjvText() {}

    /**
     * Reads the verses, one a line, without their references.
     *
     * @param file the output of {@code bible -f gen1:1-rev22:21}
     * @return the UTF-8 bytes of the verses, each ending with a newline
     * @throws IOException if the file cannot be read or holds no verse
     */
    static byte[] read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        StringBuilder text = new StringBuilder();
        for (String line : lines) {
            String verse = REFERENCE.matcher(line).replaceFirst("").strip();
            if (!verse.isEmpty()) {
                text.append(verse).append('\n');
            }
        }
        if (text.length() == 0) {
            throw new IOException(file + " holds no verse");
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }
}
