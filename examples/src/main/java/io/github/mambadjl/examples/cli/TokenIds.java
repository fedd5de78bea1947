package io.github.mambadjl.examples.cli;

/** Parses the {@code --input-ids} list. */
final class TokenIds {

    private TokenIds() {}

    /**
     * Parses comma-separated token ids.
     *
     * @param text ids such as {@code 1,2,3} (spaces allowed)
     * @param vocabSize the number of tokens of the model
     * @return the ids
     * @throws UsageException if an entry is not an integer or lies outside {@code [0, vocabSize)}
     */
    static long[] parse(String text, int vocabSize) throws UsageException {
        String[] parts = text.split(",", -1);
        long[] ids = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            try {
                ids[i] = Long.parseLong(p);
            } catch (NumberFormatException e) {
                throw new UsageException(
                        "--input-ids must be comma-separated integers such as 1,2,3; entry "
                                + (i + 1)
                                + " is '"
                                + p
                                + "'");
            }
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new UsageException(
                        "--input-ids: token id "
                                + ids[i]
                                + " is outside the model's vocabulary [0, "
                                + vocabSize
                                + ")");
            }
        }
        return ids;
    }
}
