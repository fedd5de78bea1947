package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FileSelectorTest {

    @Test
    void checkpointPrefersShardedSafetensorsOverConsolidated() {
        List<String> codestral =
                List.of(
                        ".gitattributes",
                        "README.md",
                        "config.json",
                        "consolidated.safetensors",
                        "model-00001-of-00003.safetensors",
                        "model-00002-of-00003.safetensors",
                        "model-00003-of-00003.safetensors",
                        "model.safetensors.index.json",
                        "params.json",
                        "tokenizer.json",
                        "tokenizer.model.v3",
                        "tokenizer_config.json");
        assertEquals(
                List.of(
                        "config.json",
                        "model-00001-of-00003.safetensors",
                        "model-00002-of-00003.safetensors",
                        "model-00003-of-00003.safetensors",
                        "model.safetensors.index.json",
                        "params.json",
                        "tokenizer.json",
                        "tokenizer.model.v3",
                        "tokenizer_config.json"),
                FileSelector.checkpoint().select(codestral));
    }

    @Test
    void checkpointFallsBackToConsolidatedThenPytorchBin() {
        assertEquals(
                List.of("consolidated.safetensors", "params.json"),
                FileSelector.checkpoint()
                        .select(List.of("consolidated.safetensors", "params.json", "golden.json")));
        assertEquals(
                List.of("config.json", "pytorch_model.bin"),
                FileSelector.checkpoint()
                        .select(List.of("config.json", "pytorch_model.bin", "README.md")));
        assertEquals(
                List.of("config.json", "model.safetensors"),
                FileSelector.checkpoint()
                        .select(
                                List.of(
                                        "config.json",
                                        "model.safetensors",
                                        "pytorch_model.bin",
                                        "original/model.safetensors")));
    }

    @Test
    void checkpointSelectsNothingWithoutWeights() {
        assertTrue(
                FileSelector.checkpoint()
                        .select(List.of("config.json", "model.safetensors.index.json"))
                        .isEmpty());
    }

    @Test
    void globsFollowFnmatch() {
        List<String> files = List.of("config.json", "sub/a.json", "model.bin", "onnx/model.onnx");
        assertEquals(
                List.of("config.json", "sub/a.json"), FileSelector.globs("*.json").select(files));
        assertEquals(List.of("onnx/model.onnx"), FileSelector.globs("onnx/").select(files));
        assertEquals(List.of("model.bin"), FileSelector.globs("mode?.[ab]in").select(files));
        assertEquals(files, FileSelector.all().select(files));
    }
}
