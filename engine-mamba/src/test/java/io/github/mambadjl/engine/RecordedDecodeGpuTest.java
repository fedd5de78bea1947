package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.kernel.RecordedStep;
import io.github.mambadjl.kernel.StepRecorder;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Greedy decoding from recorded CUDA graphs: the same tokens as transformers' goldens and as the
 * steps run one operation at a time, for every family (Bamba's attention layers run between the
 * recordings of the layers around them); padded batches decode as before; a step that cannot be
 * recorded is refused with nothing run, nothing leaked and the device still usable; other threads
 * keep using the device while a step is recorded.
 */
@Tag("gpu")
class RecordedDecodeGpuTest {

    private static final Path FIXTURES = Paths.get(System.getProperty("mambadjl.fixtures"));

    @ParameterizedTest
    @MethodSource("io.github.mambadjl.engine.Goldens#models")
    void recordedGreedyStepsGiveTheGoldenAndTheOrdinaryTokens(String model) throws Exception {
        Path goldens =
                FIXTURES.resolve(model.equals("mamba-tiny-ssm") ? "mamba-tiny" : model)
                        .resolve("golden.safetensors");
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.gpu());
                Checkpoint checkpoint = Checkpoint.open(FIXTURES.resolve(model));
                SafetensorsFile golden = SafetensorsFile.open(goldens)) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            TensorData input = golden.tensor("input_ids");
            long[] expected = longs(golden.tensor("generated_ids"));
            long[] prompt = Arrays.copyOf(longs(input), (int) input.shape()[1]);
            Generator generator = new Generator(lm, manager);
            long[] recorded;
            long[] ordinary;
            // no stop token: all 24 steps run, 22 of them from the recording
            try (GenerationSession session =
                    generator.start(new long[][] {prompt}, config(24, true))) {
                session.finish(null);
                assertTrue(session.isRecorded(), model + ": the steps were recorded");
                recorded = session.result().sequences()[0];
            }
            try (GenerationSession session =
                    generator.start(new long[][] {prompt}, config(24, false))) {
                session.finish(null);
                assertFalse(session.isRecorded());
                ordinary = session.result().sequences()[0];
            }
            assertArrayEquals(ordinary, recorded, model + ": recorded and ordinary steps");
            int known = Math.min(expected.length, recorded.length);
            assertArrayEquals(
                    Arrays.copyOf(expected, known),
                    Arrays.copyOf(recorded, known),
                    model + ": transformers' greedy tokens");
            // a batch of two unpadded prompts: recorded and ordinary steps agree row by row
            long[] other = prompt.clone();
            other[0] = (other[0] + 1) % lm.config().vocabSize();
            long[][] batch = {prompt, other};
            long[][] batchRecorded;
            try (GenerationSession session = generator.start(batch, config(24, true))) {
                session.finish(null);
                assertTrue(session.isRecorded());
                batchRecorded = session.result().sequences();
            }
            try (GenerationSession session = generator.start(batch, config(24, false))) {
                session.finish(null);
                assertArrayEquals(session.result().sequences()[0], batchRecorded[0], "row 0");
                assertArrayEquals(session.result().sequences()[1], batchRecorded[1], "row 1");
            }
        }
    }

    @Test
    void paddedBatchesDecodeWithoutRecording() throws Exception {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.gpu());
                Checkpoint mamba2 = Checkpoint.open(FIXTURES.resolve("mamba2-tiny"))) {
            CausalLM lm = CausalLM.fromConfig(mamba2.config());
            lm.loadWeights(mamba2, manager, DataType.FLOAT32);
            try (GenerationSession session =
                    new Generator(lm, manager)
                            .start(new long[][] {{1, 2, 3, 4}, {5, 6}}, config(12, true))) {
                session.finish(null);
                assertFalse(session.isRecorded(), "a padded batch keeps a mask");
            }
        }
    }

    @Test
    void aRecordedStepReadsItsInputsAgainAtEveryReplay() {
        StepRecorder recorder;
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            NDArray x = manager.create(new float[] {1, 2, 3});
            recorder = StepRecorder.of(x);
            assertNotNull(recorder, "the Mamba engine records steps on a GPU");
            try (RecordedStep step =
                    recorder.record(
                            Device.gpu(),
                            () -> {
                                NDArray y = x.mul(2).add(1);
                                return new NDList(y);
                            })) {
                NDArray out = step.outputs().get(0);
                assertArrayEquals(new float[] {3, 5, 7}, out.toFloatArray(), "the first run");
                x.set(new float[] {10, 20, 30});
                step.replay();
                assertArrayEquals(new float[] {21, 41, 61}, out.toFloatArray(), "a replay");
                out.close();
            }
        }
    }

    @Test
    void aStepThatCannotBeRecordedIsRefusedWithNothingRunOrLeaked() {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            NDArray x = manager.create(new float[] {1, 2, 3});
            StepRecorder recorder = StepRecorder.of(x);
            long before = MambaNDManager.deviceBytesInUse(0);
            IllegalStateException transfer =
                    assertThrows(
                            IllegalStateException.class,
                            () ->
                                    recorder.record(
                                            Device.gpu(),
                                            () -> {
                                                NDArray y = x.add(1);
                                                y.toFloatArray();
                                                return new NDList(y);
                                            }));
            assertTrue(
                    transfer.getMessage().contains("host"),
                    "names the host transfer: " + transfer.getMessage());
            NDArray made = manager.create(new float[] {4, 5, 6});
            long withMade = MambaNDManager.deviceBytesInUse(0);
            IllegalStateException freed =
                    assertThrows(
                            IllegalStateException.class,
                            () ->
                                    recorder.record(
                                            Device.gpu(),
                                            () -> {
                                                NDArray y = made.add(1);
                                                made.close();
                                                return new NDList(y);
                                            }));
            assertTrue(freed.getMessage().contains("freed"), freed.getMessage());
            assertTrue(made.isReleased());
            assertEquals(
                    withMade - 3 * 4,
                    MambaNDManager.deviceBytesInUse(0),
                    "the array freed during the refused recording is freed after it");
            assertArrayEquals(
                    new float[] {2, 3, 4}, x.add(1).toFloatArray(), "the device still computes");
            assertEquals(
                    before,
                    MambaNDManager.deviceBytesInUse(0) - 3 * 4,
                    "nothing of the refused recordings stays allocated (one new result)");
        }
    }

    @Test
    void otherThreadsKeepUsingTheDeviceWhileAStepIsRecorded() throws Exception {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            NDArray x = manager.create(new float[] {1, 2, 3});
            StepRecorder recorder = StepRecorder.of(x);
            CountDownLatch recording = new CountDownLatch(1);
            CountDownLatch otherDone = new CountDownLatch(1);
            ExecutorService other = Executors.newSingleThreadExecutor();
            try {
                Future<float[]> result =
                        other.submit(
                                () -> {
                                    await(recording);
                                    try (NDManager m = manager.newSubManager()) {
                                        // a transfer to the host: refused if it were recorded
                                        return m.create(new float[] {5, 6, 7})
                                                .mul(2)
                                                .toFloatArray();
                                    } finally {
                                        otherDone.countDown();
                                    }
                                });
                try (RecordedStep step =
                        recorder.record(
                                Device.gpu(),
                                () -> {
                                    recording.countDown();
                                    await(otherDone);
                                    return new NDList(x.add(1));
                                })) {
                    assertArrayEquals(
                            new float[] {10, 12, 14},
                            result.get(60, TimeUnit.SECONDS),
                            "the other thread's work ran while the step was recorded");
                    NDArray out = step.outputs().get(0);
                    assertArrayEquals(new float[] {2, 3, 4}, out.toFloatArray(), "the first run");
                    x.set(new float[] {7, 8, 9});
                    step.replay();
                    assertArrayEquals(
                            new float[] {8, 9, 10},
                            out.toFloatArray(),
                            "a replay runs the step alone, not the other thread's work");
                    out.close();
                }
            } finally {
                other.shutdownNow();
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("timed out waiting for the other thread");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static GenerationConfig config(int tokens, boolean record) {
        return GenerationConfig.builder().optMaxNewTokens(tokens).optRecordSteps(record).build();
    }

    private static long[] longs(TensorData t) {
        long[] out = new long[(int) t.numel()];
        t.data().asLongBuffer().get(out);
        return out;
    }
}
