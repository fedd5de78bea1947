package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Native memory is freed deterministically: by close, by the manager, by NDScope. */
class MambaMemoryTest {

    private static NDManager newManager() {
        return Engine.getEngine(MambaEngine.ENGINE_NAME).newBaseManager();
    }

    @Test
    void closeFreesTheArraysMemory() {
        try (NDManager manager = newManager()) {
            long before = MambaNDManager.hostBytesInUse();
            NDArray a = manager.zeros(new Shape(256, 1024));
            assertEquals(before + 256 * 1024 * 4, MambaNDManager.hostBytesInUse());
            a.close();
            assertEquals(before, MambaNDManager.hostBytesInUse());
            assertTrue(a.isReleased());
            assertThrows(IllegalStateException.class, a::getShape);
        }
    }

    @Test
    void closingTheManagerFreesEverythingItHolds() {
        long before = MambaNDManager.hostBytesInUse();
        long blocks = MambaNDManager.hostBlocksInUse();
        NDManager manager = newManager();
        NDManager child = manager.newSubManager();
        NDArray a = manager.randomUniform(-1, 1, new Shape(64, 64));
        NDArray b = child.ones(new Shape(64, 64));
        a.matMul(b).softmax(-1).sum(new int[] {0});
        NDArray.class.cast(child.create(new long[] {1, 2, 3})).toType(DataType.INT32, false);
        assertTrue(MambaNDManager.hostBytesInUse() > before);
        manager.close();
        assertFalse(child.isOpen());
        assertEquals(before, MambaNDManager.hostBytesInUse());
        assertEquals(blocks, MambaNDManager.hostBlocksInUse());
    }

    @Test
    void aViewKeepsTheMemoryUntilItIsClosedToo() {
        try (NDManager manager = newManager()) {
            long before = MambaNDManager.hostBytesInUse();
            NDArray base = manager.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
            NDArray view = base.transpose();
            NDArray slice = base.get("1, 1:");
            base.close();
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, view.toFloatArray());
            assertArrayEquals(new float[] {5, 6}, slice.toFloatArray());
            view.close();
            assertTrue(MambaNDManager.hostBytesInUse() > before);
            slice.close();
            assertEquals(before, MambaNDManager.hostBytesInUse());
        }
    }

    @Test
    @SuppressWarnings("try")
    void ndScopeClosesTheArraysCreatedInIt() {
        try (NDManager manager = newManager()) {
            long before = MambaNDManager.hostBytesInUse();
            NDArray kept;
            try (NDScope ignored = new NDScope()) {
                NDArray x = manager.randomNormal(new Shape(32, 32));
                NDArray y = x.exp().add(x).transpose();
                kept = y.sum();
                NDScope.unregister(kept);
            }
            assertEquals(before + 4, MambaNDManager.hostBytesInUse());
            assertFalse(kept.isReleased());
            kept.close();
            assertEquals(before, MambaNDManager.hostBytesInUse());
        }
    }

    @Test
    void manyCreateCloseCyclesDoNotGrowNativeMemory() {
        long before = MambaNDManager.hostBytesInUse();
        long blocks = MambaNDManager.hostBlocksInUse();
        for (int i = 0; i < 2000; i++) {
            try (NDManager manager = newManager()) {
                NDArray x = manager.randomUniform(0, 1, new Shape(8, 16));
                NDArray w = manager.ones(new Shape(16, 4));
                NDArray y = x.matMul(w).logSoftmax(1);
                y.topK(2, 1, true, true);
                y.argMax(1);
                x.get("2:4").reshape(-1).concat(x.get(0));
            }
        }
        assertEquals(before, MambaNDManager.hostBytesInUse());
        assertEquals(blocks, MambaNDManager.hostBlocksInUse());
    }

    @Test
    void inPlaceUpdatesWriteThroughViews() {
        try (NDManager manager = newManager()) {
            NDArray base = manager.zeros(new Shape(2, 3));
            NDArray column = base.get(":, 1");
            column.addi(manager.create(new float[] {5, 7}));
            assertArrayEquals(new float[] {0, 5, 0, 0, 7, 0}, base.toFloatArray());
        }
    }
}
