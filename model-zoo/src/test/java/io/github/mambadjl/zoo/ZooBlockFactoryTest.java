package io.github.mambadjl.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.translate.TranslateException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The zoo's block factory (data types per engine), and the translator factory on its block. */
class ZooBlockFactoryTest {

    @Test
    void aTranslatorThatCannotBeMadeClosesTheModel(@TempDir Path dir) throws Exception {
        for (Map.Entry<String, byte[]> f : ZooFixtures.repo("mamba-tiny", true).entrySet()) {
            Files.write(dir.resolve(f.getKey()), f.getValue());
        }
        Model model = Model.newInstance("m", Device.cpu(), "PyTorch");
        model.setBlock(new ZooBlockFactory().newBlock(model, dir, Map.of()));
        model.load(dir, null, ZooArguments.OPTIONS);
        TranslateException e =
                assertThrows(
                        TranslateException.class,
                        () ->
                                new TextGenerationTranslatorFactory()
                                        .newInstance(
                                                String.class,
                                                String.class,
                                                model,
                                                Map.of("topK", 3)));
        assertTrue(e.getMessage().contains("topK"), e.getMessage());
        assertFalse(model.getNDManager().isOpen(), "the loaded model is freed");
        String[] files = list(dir);
        assertArrayEquals(
                new String[] {
                    "config.json", "generation_config.json", "model.safetensors", "tokenizer.json"
                },
                files,
                () -> "written into the checkpoint directory: " + String.join(", ", files));
    }

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

    private static String[] list(Path dir) throws java.io.IOException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }
}
