package io.github.mambadjl.zoo;

import java.util.List;

/** Where generated text ends, given stop strings (the text ends before the first one). */
final class StopStrings {

    private final List<String> stops;

    StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    boolean isEmpty() {
        return stops.isEmpty();
    }

    /** Returns the index of the first stop string in the text, or -1. */
    int find(String text) {
        int first = -1;
        for (String s : stops) {
            int i = text.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) {
                first = i;
            }
        }
        return first;
    }

    /** Returns the text up to the first stop string. */
    String cut(String text) {
        int i = find(text);
        return i < 0 ? text : text.substring(0, i);
    }

    /**
     * Returns how much of the text may be shown while more is coming: all but a tail that could be
     * the start of a stop string, or an incomplete character (U+FFFD from a split UTF-8 byte
     * sequence).
     */
    int safeLength(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, end); k > hold; k--) {
                if (text.regionMatches(end - k, s, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return end - hold;
    }
}
