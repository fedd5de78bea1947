package io.github.mambadjl.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The data type the zoo's block factory loads weights in, per engine. */
class ZooBlockFactoryTest {

    @Test
    void theEntryTypeIsUsedWhereTheEngineCanComputeInIt() {
        Map<String, String> bf16 = Map.of(ZooArguments.DEFAULT_DATA_TYPE, "bfloat16");
        assertEquals(DataType.BFLOAT16, ZooBlockFactory.dataType("Mamba", bf16));
        assertEquals(DataType.FLOAT32, ZooBlockFactory.dataType("PyTorch", bf16));
        assertEquals(DataType.FLOAT32, ZooBlockFactory.dataType("PyTorch", Map.of()));
        assertEquals(
                DataType.FLOAT16,
                ZooBlockFactory.dataType(
                        "PyTorch",
                        Map.of(
                                ZooArguments.DATA_TYPE,
                                "Float16",
                                ZooArguments.DEFAULT_DATA_TYPE,
                                "bfloat16")));
    }

    @Test
    void impossibleTypesAreRefusedWithTheReason() {
        IllegalArgumentException pt =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ZooBlockFactory.dataType(
                                        "PyTorch", Map.of(ZooArguments.DATA_TYPE, "bfloat16")));
        assertTrue(pt.getMessage().contains("aborts the JVM"), pt.getMessage());
        IllegalArgumentException bad =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                ZooBlockFactory.dataType(
                                        "Mamba", Map.of(ZooArguments.DATA_TYPE, "int8")));
        assertTrue(bad.getMessage().contains("float32, float16 or bfloat16"), bad.getMessage());
    }
}
