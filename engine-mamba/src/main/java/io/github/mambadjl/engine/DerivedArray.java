package io.github.mambadjl.engine;

import java.util.function.Function;

/**
 * An array computed from another one and kept until that one's memory changes: recomputed when the
 * source views other memory (after {@code intern}) or its memory was written ({@link
 * ArrayMemory#written()}), closed with the source. Thread-safe.
 */
final class DerivedArray {

    private MambaNDArray value;
    private ArrayMemory memory;
    private long writes;

    /**
     * Returns the kept value, computing it first when there is none or it is stale.
     *
     * @param source the array it derives from
     * @param compute computes the value from the source
     * @return the value, owned by this object
     */
    synchronized MambaNDArray get(
            MambaNDArray source, Function<MambaNDArray, MambaNDArray> compute) {
        ArrayMemory current = source.memory();
        if (value != null
                && !value.isReleased()
                && memory == current
                && writes == current.writes()) {
            return value;
        }
        close();
        long before = current.writes();
        MambaNDArray computed = compute.apply(source);
        value = computed;
        memory = current;
        writes = before;
        return computed;
    }

    /** Closes the kept value. */
    synchronized void close() {
        if (value != null) {
            value.close();
            value = null;
            memory = null;
        }
    }
}
