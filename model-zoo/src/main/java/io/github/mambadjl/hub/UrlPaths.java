package io.github.mambadjl.hub;

import java.nio.charset.StandardCharsets;

/** Percent-encoding of URL path segments, as Python's {@code urllib.parse.quote} does it. */
final class UrlPaths {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private UrlPaths() {}

    /**
     * Percent-encodes everything but letters, digits, {@code -._~} and, if asked, {@code /}.
     *
     * @param s the text
     * @param keepSlash whether {@code /} stays as is
     * @return the encoded text
     */
    static String encode(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder(s.length());
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            boolean plain =
                    (c >= 'a' && c <= 'z')
                            || (c >= 'A' && c <= 'Z')
                            || (c >= '0' && c <= '9')
                            || c == '-'
                            || c == '.'
                            || c == '_'
                            || c == '~'
                            || (keepSlash && c == '/');
            if (plain) {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
            }
        }
        return sb.toString();
    }
}
