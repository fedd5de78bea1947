package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import io.github.mambadjl.checkpoint.CheckpointException;
import io.github.mambadjl.nativeops.CudaKernels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine is found through ServiceLoader and behaves as DJL expects. */
class MambaEngineTest {

    @Test
    void registeredUnderItsName() {
        assertTrue(Engine.getAllEngines().contains("Mamba"));
        Engine engine = Engine.getEngine("Mamba");
        assertInstanceOf(MambaEngine.class, engine);
        assertEquals("Mamba", engine.getEngineName());
        assertEquals("0.1.0", engine.getVersion());
        assertEquals(Device.cpu(), engine.defaultDevice());
    }

    @Test
    void doesNotDisplacePyTorchAsTheDefault() {
        // DJL makes the engine of the lowest rank the default.
        assertTrue(Engine.getEngine("Mamba").getRank() > Engine.getEngine("PyTorch").getRank());
    }

    @Test
    void pyTorchIsTheAlternativeEngine() {
        assertEquals("PyTorch", Engine.getEngine("Mamba").getAlternativeEngine().getEngineName());
    }

    @Test
    void cudaCapabilityFollowsTheCudaLibrary() {
        assertEquals(
                CudaKernels.isAvailable(),
                Engine.getEngine("Mamba").hasCapability(StandardCapabilities.CUDA));
    }

    @Test
    void managersAndModels(@TempDir Path dir) throws Exception {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager()) {
            assertInstanceOf(MambaNDManager.class, manager);
            assertEquals(Device.cpu(), manager.getDevice());
        }
        try (Model model = Model.newInstance("m", Device.cpu(), "Mamba")) {
            assertInstanceOf(MambaModel.class, model);
            assertInstanceOf(MambaNDManager.class, model.getNDManager());
            Files.createDirectories(dir);
            CheckpointException e = assertThrows(CheckpointException.class, () -> model.load(dir));
            assertTrue(e.getMessage().contains("config.json"), e.getMessage());
            assertTrue(e.getMessage().contains("setBlock"), e.getMessage());
        }
    }
}
