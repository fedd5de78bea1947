package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The strides of a reshape that can stay a view ({@link Strides#viewStrides}). */
class StridesTest {

    @Test
    void splitsAndMergesDimensionsThatAreContiguousWithOneAnother() {
        // [4, 3, 5] sliced from [4, 6, 5] along the middle axis
        long[] shape = {4, 3, 5};
        long[] strides = {30, 5, 1};
        assertArrayEquals(
                new long[] {30, 1}, Strides.viewStrides(shape, strides, new long[] {4, 15}));
        assertArrayEquals(
                new long[] {30, 15, 5, 1},
                Strides.viewStrides(shape, strides, new long[] {4, 1, 3, 5}));
        // [4, 6, 4] sliced from [4, 6, 5] along the last axis: the last axis splits
        assertArrayEquals(
                new long[] {30, 5, 2, 1},
                Strides.viewStrides(new long[] {4, 6, 4}, strides, new long[] {4, 6, 2, 2}));
        // a transposed pair splits on either side but does not merge
        assertArrayEquals(
                new long[] {10, 5, 30, 1},
                Strides.viewStrides(
                        new long[] {6, 4, 5}, new long[] {5, 30, 1}, new long[] {3, 2, 4, 5}));
        // dimensions of size 1 have any stride
        assertArrayEquals(
                new long[] {30, 1},
                Strides.viewStrides(
                        new long[] {4, 1, 5}, new long[] {30, 99, 1}, new long[] {4, 5}));
    }

    @Test
    void refusesATargetDimensionThatSpansTwoRuns() {
        assertNull(
                Strides.viewStrides(
                        new long[] {4, 6, 4}, new long[] {30, 5, 1}, new long[] {4, 24}));
        assertNull(
                Strides.viewStrides(
                        new long[] {6, 4, 5}, new long[] {5, 30, 1}, new long[] {6, 20}));
        assertNull(
                Strides.viewStrides(new long[] {6, 4, 5}, new long[] {5, 30, 1}, new long[] {120}));
    }

    @Test
    void anEmptyViewTakesContiguousStrides() {
        assertArrayEquals(
                new long[] {1, 1},
                Strides.viewStrides(new long[] {0, 3}, new long[] {7, 2}, new long[] {3, 0}));
    }
}
