package io.github.mambadjl.config;

/** Validation helpers shared by the configuration records. */
final class Checks {

    private Checks() {}

    static void positive(String field, long value) {
        if (value <= 0) {
            throw new ConfigException(field, "must be positive, got " + value);
        }
    }

    static void positive(String field, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new ConfigException(field, "must be a positive finite number, got " + value);
        }
    }

    static void vocab(int vocabSize, int paddedVocabSize) {
        positive("vocab_size", vocabSize);
        if (paddedVocabSize < vocabSize) {
            throw new ConfigException(
                    "vocab_size",
                    "the padded vocabulary ("
                            + paddedVocabSize
                            + ") is smaller than the vocabulary ("
                            + vocabSize
                            + ")");
        }
    }

    static void timeSteps(double min, double max, double floor) {
        positive("time_step_min", min);
        positive("time_step_max", max);
        if (min > max) {
            throw new ConfigException(
                    "time_step_min", "is larger than time_step_max (" + min + " > " + max + ")");
        }
        if (floor < 0) {
            throw new ConfigException("time_step_floor", "must not be negative, got " + floor);
        }
    }

    static void tokenId(String field, Integer id) {
        if (id != null && id < 0) {
            throw new ConfigException(field, "must not be negative, got " + id);
        }
    }
}
