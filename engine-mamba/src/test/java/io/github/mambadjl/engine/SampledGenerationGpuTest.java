package io.github.mambadjl.engine;

import ai.djl.Device;
import org.junit.jupiter.api.Tag;

/**
 * {@link SampledGenerationTest} on the GPU: the engine's sampling runs in the recorded decoding
 * step (for Bamba, in the recorded pieces between its attention layers).
 */
@Tag("gpu")
class SampledGenerationGpuTest extends SampledGenerationTest {

    @Override
    Device device() {
        return Device.gpu();
    }

    @Override
    boolean recordsSampledSteps() {
        return true;
    }
}
