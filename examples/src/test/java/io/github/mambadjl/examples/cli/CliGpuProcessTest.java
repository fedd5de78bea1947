package io.github.mambadjl.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The command line on a GPU (JUnit tag {@code gpu}: run on the GPU machine). */
@Tag("gpu")
class CliGpuProcessTest {

    @Test
    void gpuWritesWhatTheCpuWritesInFloat32() throws Exception {
        CliProcess.Result gpu =
                CliProcess.run(
                        "generate",
                        "--device",
                        "gpu",
                        "--dtype",
                        "float32",
                        "--greedy",
                        "--max-new-tokens",
                        "20",
                        "And God said");
        CliProcess.Result cpu =
                CliProcess.run(
                        "generate",
                        "--dtype",
                        "float32",
                        "--greedy",
                        "--max-new-tokens",
                        "20",
                        "And God said");
        assertEquals(0, gpu.exit(), gpu.err());
        assertEquals(0, cpu.exit(), cpu.err());
        assertEquals(cpu.out(), gpu.out());
    }
}
