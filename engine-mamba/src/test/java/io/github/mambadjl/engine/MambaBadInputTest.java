package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.nativeops.NativeOpException;
import io.github.mambadjl.nativeops.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input gives an exception that says what was wrong; no array leaks from a failed call. */
class MambaBadInputTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = Engine.getEngine(MambaEngine.ENGINE_NAME).newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(
                    e.getMessage().contains(part),
                    "message '" + e.getMessage() + "' should contain '" + part + "'");
        }
    }

    @Test
    void shapesThatDoNotBroadcast() {
        NDArray a = manager.ones(new Shape(2, 3));
        NDArray b = manager.ones(new Shape(4));
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.add(b)),
                "add",
                "[2, 3]",
                "[4]",
                "cannot be broadcast");
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class,
                        () -> a.addi(manager.ones(new Shape(3, 3)))),
                "addi");
    }

    @Test
    void matMulWithMismatchedInnerDimensions() {
        NDArray a = manager.ones(new Shape(2, 3));
        NDArray b = manager.ones(new Shape(4, 5));
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.matMul(b)),
                "matMul",
                "(2, 3)",
                "(4, 5)",
                "must equal");
        NDArray ints = manager.ones(new Shape(3, 3), DataType.INT64);
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> ints.matMul(ints)),
                "floating-point");
    }

    @Test
    void mixedDataTypes() {
        NDArray f = manager.ones(new Shape(3));
        NDArray i = manager.ones(new Shape(3), DataType.INT32);
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> f.mul(i)),
                "mul",
                "float32",
                "int32",
                "toType");
    }

    @Test
    void reshapeToAnotherSize() {
        NDArray a = manager.ones(new Shape(2, 3));
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.reshape(4, 2)),
                "reshape",
                "6 elements",
                "8 elements");
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.reshape(-1, -1)),
                "only one dimension may be -1");
    }

    @Test
    void indexOutOfRangeInAGather() {
        NDArray weight = manager.ones(new Shape(10, 4));
        NDArray ids = manager.create(new long[] {1, 10});
        long bytes = MambaNDManager.hostBytesInUse();
        NativeOpException e =
                assertThrows(NativeOpException.class, () -> weight.get(new NDIndex("{}", ids)));
        assertEquals(Status.INVALID_ARGUMENT, e.getStatus());
        assertMessage(e, "take", "index 10", "out of bounds", "size 10");
        assertEquals(bytes, MambaNDManager.hostBytesInUse(), "the failed call leaked memory");
    }

    @Test
    void badAxesAndK() {
        NDArray a = manager.ones(new Shape(2, 3));
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.sum(new int[] {2})),
                "sum",
                "axis 2",
                "rank 2");
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.topK(4, 1, true, true)),
                "topK",
                "k = 4");
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.transpose(0, 0)),
                "transpose",
                "repeats");
        assertMessage(
                assertThrows(IllegalArgumentException.class, () -> a.squeeze(new int[] {0})),
                "squeeze",
                "size 2");
    }

    @Test
    void unsupportedDataTypes() {
        assertMessage(
                assertThrows(
                        IllegalArgumentException.class, () -> manager.create(new double[] {1, 2})),
                "does not store",
                "float64");
    }

    @Test
    void operationsOutsideTheNativeSetNameTheOperationAndEngine() {
        NDArray a = manager.ones(new Shape(1, 2, 4, 4));
        UnsupportedOperationException e =
                assertThrows(
                        UnsupportedOperationException.class,
                        () ->
                                a.getNDArrayInternal()
                                        .maxPool(
                                                new Shape(2, 2),
                                                new Shape(2, 2),
                                                new Shape(0, 0),
                                                false));
        assertMessage(e, "maxPool", "Mamba");
    }

    @Test
    void operationsOutsideTheNativeSetFallBackToPyTorch() {
        NDArray a = manager.create(new float[] {-1.5f, 2.5f});
        NDArray rounded = a.round();
        assertEquals("PyTorch", rounded.getManager().getEngine().getEngineName());
        assertEquals(-2f, rounded.toFloatArray()[0]);
    }

    @Test
    void otherDeviceTypesAreRefusedClearly() {
        assertMessage(
                assertThrows(
                        UnsupportedOperationException.class,
                        () -> manager.newSubManager(ai.djl.Device.of("tpu", 0))),
                "tpu(0)",
                "Device.cpu() or Device.gpu(i)");
    }
}
