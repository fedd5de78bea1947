package io.github.mambadjl.jmh;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.sun.jna.NativeLibrary;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.config.BambaConfig;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.engine.MambaNDManager;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.generate.RecordedDecodingStep;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.CudaStream;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.DType;
import io.github.mambadjl.nativeops.DeviceBuffer;
import io.github.mambadjl.nativeops.NativeOpException;
import io.github.mambadjl.nativeops.NativeTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The whole-model GPU benchmark of issue 8: random-weight models of the real shapes (mamba-2.8b,
 * mamba2-2.7b, Mamba-Codestral-7B, Bamba-9B; {@link ModelShapes}) built directly in device memory
 * in bfloat16 ({@link RandomWeights}), run on the {@code Mamba} engine through the same calls as
 * the api {@code Generator}: {@link CausalLM#forward} with an {@link InferenceCache}, the last
 * position's argmax on the device and the chosen tokens copied to the host (greedy).
 *
 * <p>It measures, after warm-up, with the host clock around each step and a synchronisation at the
 * end of it (the device-to-host copy of the tokens, or a stream synchronisation): batch-1 decode
 * ms/token of each model, prefill of 8192 tokens (mamba-2.8b, codestral-7b), mamba2-2.7b decode at
 * batch 64, a 1 GiB device-to-device copy (the bandwidth that turns the bytes of the weights into
 * the floor of a decoding step), Codestral's device memory while decoding and at batch 100, the
 * per-layer cost of a step (the same shape with 1 layer) and the cost of one engine operation seen
 * from Java. The results go to a JSON file, rewritten after every model so that a run cut short
 * keeps what it measured.
 *
 * <p>A plain {@code main} rather than JMH: each figure needs its own set-up of several GB of device
 * memory, one model at a time, and per-step samples split at the synchronisation point; JMH's forks
 * and iteration model would rebuild or hold the models and hide the split.
 *
 * <pre>
 * java -cp ... io.github.mambadjl.jmh.GpuModelBenchmark [--device gpu|cpu] [--shapes real|tiny]
 *     [--out results.json] [--models mamba-2.8b,...] [--steps 30] [--profile [--prefill]]
 * </pre>
 *
 * <p>{@code --shapes tiny --device cpu} runs every measurement at toy sizes on the CPU, to check
 * the harness without a GPU. {@code --profile} instead runs, for each model at 2 layers, a few
 * warm-up steps and then one decoding step between {@code cuProfilerStart} and {@code
 * cuProfilerStop}, for Nsight Compute's {@code --profile-from-start off}: the kernels of one step,
 * with their times; with {@code --prefill}, the prefill of an 8192-token prompt (last logits)
 * instead of the decoding step.
 */
public final class GpuModelBenchmark {

    static final int PROMPT = 16;
    static final long GIB = 1L << 30;

    private final Options opts;
    private final Device device;
    private final JsonObject results = new JsonObject();
    private final JsonObject models = new JsonObject();

    private GpuModelBenchmark(Options opts) {
        this.opts = opts;
        this.device = opts.gpu ? Device.gpu() : Device.cpu();
    }

    /** The command-line options. */
    record Options(
            boolean gpu,
            boolean tiny,
            Path out,
            List<String> models,
            int warmup,
            int steps,
            boolean profile,
            boolean profilePrefill) {

        static Options parse(String[] args) {
            boolean gpu = true;
            boolean tiny = false;
            Path out = Paths.get("gpu-model-benchmark.json");
            List<String> models = ModelShapes.NAMES;
            int steps = 30;
            boolean profile = false;
            boolean profilePrefill = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--device" -> gpu = value(args, ++i, a).equals("gpu");
                    case "--shapes" -> tiny = value(args, ++i, a).equals("tiny");
                    case "--out" -> out = Paths.get(value(args, ++i, a));
                    case "--models" -> models = List.of(value(args, ++i, a).split(","));
                    case "--steps" -> steps = Integer.parseInt(value(args, ++i, a));
                    case "--profile" -> profile = true;
                    case "--prefill" -> profilePrefill = true;
                    default ->
                            throw new IllegalArgumentException(
                                    "unknown argument " + a + "; see GpuModelBenchmark's Javadoc");
                }
            }
            return new Options(gpu, tiny, out, models, 100, steps, profile, profilePrefill);
        }

        private static String value(String[] args, int i, String name) {
            if (i >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            return args[i];
        }

        int prefillLength() {
            return tiny ? 64 : 8192;
        }

        int throughputBatch() {
            return tiny ? 4 : 64;
        }

        int concurrentBatch() {
            return tiny ? 5 : 100;
        }
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class comment
     * @throws IOException if the results cannot be written
     */
    public static void main(String[] args) throws IOException {
        new GpuModelBenchmark(Options.parse(args)).run();
    }

    private void run() throws IOException {
        results.addProperty("harness", "GpuModelBenchmark");
        results.addProperty("date", Instant.now().toString());
        results.addProperty("device", device.toString());
        results.addProperty("shapes", opts.tiny ? "tiny" : "real");
        results.addProperty("dtype", dtype().toString().toLowerCase());
        results.addProperty(
                "timing",
                "host clock (System.nanoTime) around each step, which ends with a synchronisation:"
                        + " the device-to-host copy of the last logits (decode) or a stream"
                        + " synchronisation (prefill, copy)");
        results.add("models", models);
        if (opts.profile) {
            profile();
            return;
        }
        results.add("copy", copyBandwidth());
        results.add("engine_op", engineOp());
        write();
        for (String name : opts.models) {
            JsonObject m = new JsonObject();
            models.add(name, m);
            benchmark(name, m);
            write();
            if (!name.equals("codestral-7b") && !name.equals("bamba-9b")) {
                m.add("one_layer", oneLayer(name));
                write();
            }
        }
        results.add("copy_end", copyBandwidth());
        summarize();
        write();
        System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(results));
    }

    private DataType dtype() {
        return opts.gpu ? DataType.BFLOAT16 : DataType.FLOAT32;
    }

    /** A model on the device, with its weights. */
    private final class Loaded implements AutoCloseable {
        final ModelConfig config;
        final NDManager manager;
        final CausalLM lm;
        final ParameterStore ps;
        final long weightBytes;
        final long readBytes;
        final double buildSeconds;

        Loaded(String name, int layers) {
            long t0 = System.nanoTime();
            config = ModelShapes.config(name, opts.tiny, layers);
            manager = Engine.getEngine("Mamba").newBaseManager(device);
            lm = CausalLM.fromConfig(config);
            weightBytes = RandomWeights.fill(lm, manager, dtype(), name.hashCode());
            ps = new ParameterStore(manager, false);
            // a decoding step reads every weight once, except an untied input embedding, of
            // which it gathers one row per token
            long table =
                    (long) config.paddedVocabSize() * config.hiddenSize() * dtype().getNumOfBytes();
            readBytes = config.tieWordEmbeddings() ? weightBytes : weightBytes - table;
            sync();
            buildSeconds = (System.nanoTime() - t0) / 1e9;
        }

        @Override
        public void close() {
            manager.close();
            sync();
        }
    }

    private void benchmark(String name, JsonObject m) {
        if (opts.gpu) {
            CudaTensorOps.trimPool(0, 0);
            m.add("memory_before", memory());
        }
        try (Loaded model = new Loaded(name, 0)) {
            m.addProperty("layers", model.config.numHiddenLayers());
            m.addProperty("weight_bytes", model.weightBytes);
            m.addProperty("read_bytes_per_token", model.readBytes);
            m.addProperty("build_s", model.buildSeconds);
            m.addProperty("state_bytes_per_sequence", stateBytes(model.config, PROMPT));
            if (opts.gpu) {
                CudaTensorOps.trimPool(0, 0);
                m.add("memory_after_build", memory());
                CudaTensorOps.highWater(0, true);
            }
            m.add("decode_b1", decode(model, 1, opts.warmup, opts.steps));
            m.add("decode_b1_recorded", decodeRecorded(model, 1, opts.warmup, opts.steps, 8));
            m.add("decode_b1_sampled", decodeSampled(model, 1, opts.warmup, opts.steps));
            if (opts.gpu) {
                // the pool keeps what it reserved (release threshold unlimited): its reservation
                // now bounds the peak of the decoding steps from above
                m.add("memory_after_decode_b1", memory());
                // the most in use during the decoding steps (ordinary and recorded, with the
                // recorded run's copy of the cache for its check): engine pool + graph memory
                long[] high = CudaTensorOps.highWater(0, false);
                m.addProperty("decode_b1_pool_used_high_bytes", high[0]);
                m.addProperty("decode_b1_graph_used_high_bytes", high[1]);
            }
            if (name.equals("mamba-2.8b") || name.equals("codestral-7b")) {
                int length = opts.prefillLength();
                m.add("prefill", prefill(model, length, length, 1, 3));
                m.add("prefill_chunked", prefill(model, length, length / 4, 1, 3));
            }
            if (name.equals("mamba2-2.7b")) {
                m.add(
                        "decode_b" + opts.throughputBatch(),
                        decode(model, opts.throughputBatch(), 30, 10));
                m.add(
                        "decode_b" + opts.throughputBatch() + "_recorded",
                        decodeRecorded(model, opts.throughputBatch(), 30, 10, 0));
                m.add(
                        "decode_b" + opts.throughputBatch() + "_sampled",
                        decodeSampled(model, opts.throughputBatch(), 30, 10));
            }
            if (name.equals("codestral-7b")) {
                if (opts.gpu) {
                    CudaTensorOps.trimPool(0, 0);
                }
                int batch = opts.concurrentBatch();
                m.add("decode_b" + batch, decode(model, batch, 10, 5));
                m.add("decode_b" + batch + "_recorded", decodeRecorded(model, batch, 10, 5, 0));
                if (opts.gpu) {
                    m.add("memory_after_decode_b" + batch, memory());
                }
            }
        }
    }

    private JsonObject oneLayer(String name) {
        JsonObject m = new JsonObject();
        try (Loaded model = new Loaded(name, 1)) {
            m.addProperty("weight_bytes", model.weightBytes);
            m.add("decode_b1", decode(model, 1, opts.warmup, opts.steps));
            m.add("decode_b1_recorded", decodeRecorded(model, 1, opts.warmup, opts.steps, 0));
        }
        return m;
    }

    /**
     * Decoding steps after a prompt of {@link #PROMPT} tokens, the way the Generator runs them: the
     * next ids uploaded, {@code forward} with the cache, the argmax of the last logits on the
     * device, the tokens to the host. Per step: {@code enqueue} = until forward returns, {@code
     * device} = until the stream is idle, {@code total} = with the tokens chosen and on the host.
     */
    private JsonObject decode(Loaded model, int batch, int warmup, int steps) {
        long[] tokens = new long[batch];
        StepTimes times = new StepTimes(steps);
        long inUseBefore = opts.gpu ? MambaNDManager.deviceBytesInUse(0) : 0;
        long stateBytes;
        long growth;
        try (InferenceCache cache = model.lm.newCache(model.manager, batch)) {
            greedyStep(model, cache, randomPrompt(model, batch), PROMPT, tokens);
            sync();
            stateBytes = opts.gpu ? MambaNDManager.deviceBytesInUse(0) - inUseBefore : -1;
            long inUseAfterPrompt = bytesInUse();
            for (int i = -warmup; i < steps; i++) {
                long t0 = System.nanoTime();
                long t1;
                long t2;
                try (NDManager step = model.manager.newSubManager()) {
                    NDArray ids = step.create(tokens, new Shape(batch, 1));
                    NDArray logits =
                            model.lm.forward(model.ps, ids, null, cache, false, false).logits();
                    t1 = System.nanoTime();
                    sync();
                    t2 = System.nanoTime();
                    greedy(logits, tokens);
                }
                long t3 = System.nanoTime();
                if (i == -1) {
                    inUseAfterPrompt = bytesInUse();
                }
                times.put(i, t0, t1, t2, t3);
            }
            growth = (bytesInUse() - inUseAfterPrompt) / steps;
        }
        JsonObject r = new JsonObject();
        r.addProperty("batch", batch);
        r.addProperty("arrays_bytes_growth_per_step", growth);
        r.addProperty("prompt", PROMPT);
        r.addProperty("warmup_steps", warmup);
        times.addTo(r, batch);
        if (stateBytes >= 0) {
            r.addProperty("cache_bytes_after_prompt", stateBytes);
        }
        System.out.printf(
                "decode %s batch %d: %s%n", model.config.family(), batch, times.summary());
        return r;
    }

    /**
     * Decoding steps replayed from a recorded step ({@link RecordedDecodingStep}, as the
     * Generator's greedy decoding runs them): after the prompt and one ordinary step, the step is
     * recorded, then each step writes the ids, replays and reads the chosen tokens. With {@code
     * check > 0}, the first {@code check} recorded steps are compared with ordinary steps from a
     * copy of the cache (same tokens expected: the same kernels run in the same order).
     */
    private JsonObject decodeRecorded(Loaded model, int batch, int warmup, int steps, int check) {
        long[] tokens = new long[batch];
        StepTimes times = new StepTimes(steps);
        JsonObject r = new JsonObject();
        long growth;
        try (InferenceCache cache = model.lm.newCache(model.manager, batch)) {
            greedyStep(model, cache, randomPrompt(model, batch), PROMPT, tokens);
            greedyStep(model, cache, tokens, 1, tokens);
            long[][] expected = new long[check][];
            if (check > 0) {
                try (InferenceCache copy = cache.snapshot()) {
                    long[] t = tokens.clone();
                    for (int i = 0; i < check; i++) {
                        greedyStep(model, copy, t, 1, t);
                        expected[i] = t.clone();
                    }
                }
            }
            long r0 = System.nanoTime();
            RecordedDecodingStep recorded =
                    RecordedDecodingStep.record(model.lm, model.ps, cache, tokens);
            if (recorded == null) {
                r.addProperty("recorded", false);
                return r;
            }
            try (recorded) {
                tokens = recorded.chosen();
                r.addProperty("record_ms", (System.nanoTime() - r0) / 1e6);
                boolean same = check == 0 || Arrays.equals(expected[0], tokens);
                long inUseAfterRecording = bytesInUse();
                for (int i = 1 - warmup; i < steps; i++) {
                    long t0 = System.nanoTime();
                    recorded.next(tokens);
                    long t1 = System.nanoTime();
                    sync();
                    long t2 = System.nanoTime();
                    tokens = recorded.chosen();
                    long t3 = System.nanoTime();
                    int k = i + warmup;
                    if (k < check) {
                        same &= Arrays.equals(expected[k], tokens);
                    }
                    times.put(i, t0, t1, t2, t3);
                }
                growth = (bytesInUse() - inUseAfterRecording) / (steps + warmup - 1);
                if (check > 0) {
                    r.addProperty("tokens_equal_ordinary_steps", same);
                    r.addProperty("checked_steps", check);
                }
            }
        }
        r.addProperty("recorded", true);
        r.addProperty("batch", batch);
        r.addProperty("arrays_bytes_growth_per_step", growth);
        times.addTo(r, batch);
        System.out.printf(
                "decode %s batch %d recorded: %s%s%n",
                model.config.family(),
                batch,
                times.summary(),
                r.has("tokens_equal_ordinary_steps")
                        ? ", tokens equal: " + r.get("tokens_equal_ordinary_steps")
                        : "");
        return r;
    }

    /**
     * Sampled generation as a user runs it: {@link Generator} with temperature 0.8 and top-p 0.9
     * (no top-k: the sampler ranks the whole vocabulary), the tokens chosen by the engine and the
     * steps recorded after the first; per step the time of {@code GenerationSession.next()} (it
     * returns with the tokens on the host). No stop tokens, so every row runs every step.
     */
    private JsonObject decodeSampled(Loaded model, int batch, int warmup, int steps) {
        long[] prompt = randomPrompt(model, batch);
        long[][] prompts = new long[batch][];
        for (int b = 0; b < batch; b++) {
            prompts[b] = Arrays.copyOfRange(prompt, b * PROMPT, (b + 1) * PROMPT);
        }
        GenerationConfig config =
                GenerationConfig.builder()
                        .optMaxNewTokens(warmup + steps + 1)
                        .optSample(0.8f)
                        .optTopP(0.9f)
                        .optSeed(42)
                        .build();
        StepTimes times = new StepTimes(steps);
        JsonObject r = new JsonObject();
        try (GenerationSession session =
                new Generator(model.lm, model.manager).start(prompts, config)) {
            session.next();
            for (int i = -warmup; i < steps; i++) {
                long t0 = System.nanoTime();
                session.next();
                long t1 = System.nanoTime();
                times.put(i, t0, t1, t1, t1);
            }
            r.addProperty("recorded", session.isRecorded());
        }
        r.addProperty("batch", batch);
        r.addProperty("temperature", 0.8);
        r.addProperty("top_p", 0.9);
        times.addTo(r, batch);
        System.out.printf(
                "decode %s batch %d sampled (generator): %s, recorded %s%n",
                model.config.family(), batch, times.summary(), r.get("recorded"));
        return r;
    }

    /** The random prompt of a decoding run, {@link #PROMPT} ids per row (seeded by the batch). */
    private static long[] randomPrompt(Loaded model, int batch) {
        Random rnd = new Random(batch);
        int vocab = model.config.vocabSize();
        long[] prompt = new long[batch * PROMPT];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = rnd.nextInt(vocab);
        }
        return prompt;
    }

    /**
     * One untimed forward of {@code length} ids per row through the cache, then the greedy choice
     * into {@code tokens} (which may be the ids themselves).
     */
    private static void greedyStep(
            Loaded model, InferenceCache cache, long[] ids, int length, long[] tokens) {
        try (NDManager step = model.manager.newSubManager()) {
            NDArray input = step.create(ids, new Shape(tokens.length, length));
            greedy(model.lm.forward(model.ps, input, null, cache, false, false).logits(), tokens);
        }
    }

    /**
     * The times of the measured decoding steps, in ms: until the step's work was queued ({@code
     * enqueue}), until the device was idle ({@code device}) and with the tokens on the host ({@code
     * total}).
     */
    private static final class StepTimes {

        private final double[] enqueue;
        private final double[] device;
        private final double[] total;

        StepTimes(int steps) {
            enqueue = new double[steps];
            device = new double[steps];
            total = new double[steps];
        }

        /**
         * Keeps step {@code i}'s times from its four clock readings (warm-up steps, i < 0, not).
         */
        void put(int i, long start, long queued, long idle, long done) {
            if (i >= 0) {
                enqueue[i] = (queued - start) / 1e6;
                device[i] = (idle - start) / 1e6;
                total[i] = (done - start) / 1e6;
            }
        }

        void addTo(JsonObject r, int batch) {
            r.add("total_ms", stats(total));
            r.add("device_ms", stats(device));
            r.add("enqueue_ms", stats(enqueue));
            r.addProperty("tokens_per_s", batch * 1000.0 / median(total));
        }

        String summary() {
            return String.format(
                    "%.3f ms/step (device %.3f, enqueue %.3f)",
                    median(total), median(device), median(enqueue));
        }
    }

    /** The bytes of the engine's arrays on the benchmark's device. */
    private long bytesInUse() {
        return opts.gpu ? MambaNDManager.deviceBytesInUse(0) : MambaNDManager.hostBytesInUse();
    }

    /**
     * The Generator's greedy choice: the argmax of every row's last position on the device, the
     * tokens to the host.
     */
    private static void greedy(NDArray logits, long[] tokens) {
        long[] chosen =
                logits.get(":, -1, :").argMax(-1).toType(DataType.INT64, false).toLongArray();
        System.arraycopy(chosen, 0, tokens, 0, tokens.length);
    }

    /**
     * Forward of {@code [1, length]} random ids into a fresh cache, in pieces of {@code chunk}
     * tokens (the states handed from piece to piece by the cache, each piece's intermediates freed
     * before the next), then a synchronisation. A piece that runs out of device memory is recorded
     * as such, not thrown: the engine stays usable.
     */
    private JsonObject prefill(Loaded model, int length, int chunk, int warmup, int reps) {
        Random rnd = new Random(length);
        long[] ids = new long[length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(model.config.vocabSize());
        }
        JsonObject r = new JsonObject();
        r.addProperty("length", length);
        r.addProperty("chunk", chunk);
        r.addProperty("logits", "last position only (as generation's prefill)");
        double[] times = new double[reps];
        long peakReserved = 0;
        try {
            for (int i = -warmup; i < reps; i++) {
                try (NDManager seq = model.manager.newSubManager();
                        InferenceCache cache = model.lm.newCache(seq, 1)) {
                    NDArray input = seq.create(ids, new Shape(1, length));
                    sync();
                    long t0 = System.nanoTime();
                    for (int from = 0; from < length; from += chunk) {
                        try (NDManager piece = seq.newSubManager()) {
                            NDArray part =
                                    input.get(":, {}:{}", from, Math.min(length, from + chunk));
                            part.attach(piece);
                            model.lm.forward(model.ps, part, null, cache, false, false, 1);
                            sync();
                        }
                    }
                    long t1 = System.nanoTime();
                    if (i >= 0) {
                        times[i] = (t1 - t0) / 1e6;
                    }
                }
                if (opts.gpu) {
                    peakReserved =
                            Math.max(peakReserved, CudaTensorOps.poolStats(0).reservedBytes());
                }
            }
        } catch (NativeOpException e) {
            r.addProperty("error", e.getMessage());
            System.out.printf("prefill %d in pieces of %d: %s%n", length, chunk, e.getMessage());
            sync();
            if (opts.gpu) {
                r.addProperty("pool_reserved_bytes", CudaTensorOps.poolStats(0).reservedBytes());
                CudaTensorOps.trimPool(0, 0);
            }
            return r;
        }
        r.add("ms", stats(times));
        r.addProperty("tokens_per_s", length * 1000.0 / median(times));
        if (opts.gpu) {
            r.addProperty("pool_reserved_bytes", peakReserved);
            CudaTensorOps.trimPool(0, 0);
        }
        System.out.printf(
                "prefill %s %d in pieces of %d: %.2f ms%n",
                model.config.family(), length, chunk, median(times));
        return r;
    }

    /**
     * Bytes of the cache of one sequence: per SSM layer the conv state ({@code convDim × (conv −
     * 1)}) and the SSM state, float32; per attention layer keys and values of {@code positions}.
     */
    static long stateBytes(ModelConfig config, long positions) {
        long perSsm;
        int ssmLayers = config.numHiddenLayers();
        long attention = 0;
        if (config instanceof MambaConfig c) {
            perSsm =
                    (long) c.intermediateSize() * (c.convKernel() - 1)
                            + (long) c.intermediateSize() * c.stateSize();
        } else if (config instanceof Mamba2Config c) {
            long convDim = c.intermediateSize() + 2L * c.nGroups() * c.stateSize();
            perSsm =
                    convDim * (c.convKernel() - 1)
                            + (long) c.numHeads() * c.headDim() * c.stateSize();
        } else {
            BambaConfig c = (BambaConfig) config;
            long inner = (long) c.mambaNHeads() * c.mambaDHead();
            long convDim = inner + 2L * c.mambaNGroups() * c.mambaDState();
            perSsm = convDim * (c.mambaDConv() - 1) + inner * c.mambaDState();
            ssmLayers -= c.attnLayerIndices().size();
            long headDim = c.hiddenSize() / c.numAttentionHeads();
            // keys and values in the model's dtype (bfloat16 on the GPU): counted as 2 bytes
            attention =
                    c.attnLayerIndices().size()
                            * 2L
                            * c.numKeyValueHeads()
                            * headDim
                            * positions
                            * 2;
        }
        return ssmLayers * perSsm * 4 + attention;
    }

    /** The engine's pool and the device's memory, in bytes. */
    private static JsonObject memory() {
        CudaTensorOps.PoolStats s = CudaTensorOps.poolStats(0);
        JsonObject r = new JsonObject();
        r.addProperty("arrays_bytes", MambaNDManager.deviceBytesInUse(0));
        r.addProperty("pool_used_bytes", s.usedBytes());
        r.addProperty("pool_reserved_bytes", s.reservedBytes());
        r.addProperty("device_used_bytes", s.totalBytes() - s.freeBytes());
        r.addProperty("device_total_bytes", s.totalBytes());
        return r;
    }

    /** The median of 20 copies of 1 GiB device to device (GPU) or 64 MiB host (CPU). */
    private JsonObject copyBandwidth() {
        int reps = 20;
        double[] times = new double[reps];
        long bytes;
        if (opts.gpu) {
            bytes = GIB;
            try (CudaStream stream = CudaStream.create();
                    DeviceBuffer src = DeviceBuffer.allocate(stream, bytes);
                    DeviceBuffer dst = DeviceBuffer.allocate(stream, bytes)) {
                // never on zeros: fill the source with one random block
                ByteBuffer host = ByteBuffer.allocateDirect(1 << 24).order(ByteOrder.nativeOrder());
                Random rnd = new Random(1);
                while (host.hasRemaining()) {
                    host.put((byte) rnd.nextInt());
                }
                for (long off = 0; off < bytes; off += host.capacity()) {
                    host.clear();
                    src.copyFrom(host, off);
                    stream.synchronize();
                }
                timeInto(
                        times,
                        3,
                        () -> {
                            dst.copyFromDevice(src, bytes);
                            stream.synchronize();
                        });
            }
        } else {
            bytes = 64L << 20;
            ByteBuffer src = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
            ByteBuffer dst = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
            for (int i = 0; i < bytes; i += 4096) {
                src.put(i, (byte) i);
                dst.put(i, (byte) 1);
            }
            NativeTensor s = NativeTensor.of(src, DType.FLOAT32, bytes / 4);
            NativeTensor d = NativeTensor.of(dst, DType.FLOAT32, bytes / 4);
            timeInto(times, 3, () -> CpuKernels.copy(d, s, bytes));
        }
        double ms = median(times);
        JsonObject r = new JsonObject();
        r.addProperty("bytes_copied", bytes);
        r.addProperty("bytes_moved", 2 * bytes);
        r.add("ms", stats(times));
        r.addProperty("bandwidth_gb_per_s", 2 * bytes / (ms * 1e6));
        System.out.printf(
                "copy: %.3f ms for %d bytes: %.1f GB/s%n", ms, bytes, 2 * bytes / (ms * 1e6));
        return r;
    }

    /**
     * One small engine operation ({@code add} of two {@code [1, 2560]} arrays) seen from Java: 2000
     * queued back to back then one synchronisation (the cost of issuing an operation), and 200 each
     * followed by a synchronisation (issue + launch + completion).
     */
    private JsonObject engineOp() {
        JsonObject r = new JsonObject();
        try (NDManager m = Engine.getEngine("Mamba").newBaseManager(device)) {
            NDArray x = m.randomNormal(0, 1, new Shape(1, 2560), dtype());
            for (int i = 0; i < 200; i++) {
                x.add(x).close();
            }
            sync();
            int n = 2000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                x.add(x).close();
            }
            sync();
            long t1 = System.nanoTime();
            int k = 200;
            for (int i = 0; i < k; i++) {
                x.add(x).close();
                sync();
            }
            long t2 = System.nanoTime();
            r.addProperty("queued_us_per_op", (t1 - t0) / 1e3 / n);
            r.addProperty("synchronised_us_per_op", (t2 - t1) / 1e3 / k);
        }
        System.out.println("engine op: " + r);
        return r;
    }

    /** Floors and ratios from the raw figures, for the NOTES table. */
    private void summarize() {
        JsonObject copy = results.getAsJsonObject("copy");
        double bw = copy.get("bandwidth_gb_per_s").getAsDouble();
        JsonObject summary = new JsonObject();
        summary.addProperty("copy_bandwidth_gb_per_s", bw);
        for (String name : models.keySet()) {
            JsonObject m = models.getAsJsonObject(name);
            JsonObject s = new JsonObject();
            long weights = m.get("weight_bytes").getAsLong();
            double floor = m.get("read_bytes_per_token").getAsLong() / (bw * 1e6);
            s.addProperty("weight_bytes", weights);
            s.addProperty("floor_ms", floor);
            double decode =
                    m.getAsJsonObject("decode_b1")
                            .getAsJsonObject("total_ms")
                            .get("median")
                            .getAsDouble();
            s.addProperty("decode_b1_ms", decode);
            s.addProperty("decode_b1_over_floor", decode / floor);
            if (m.has("decode_b1_recorded")
                    && m.getAsJsonObject("decode_b1_recorded").has("total_ms")) {
                double recorded =
                        m.getAsJsonObject("decode_b1_recorded")
                                .getAsJsonObject("total_ms")
                                .get("median")
                                .getAsDouble();
                s.addProperty("decode_b1_recorded_ms", recorded);
                s.addProperty("decode_b1_recorded_over_floor", recorded / floor);
            }
            for (String p : new String[] {"prefill", "prefill_chunked"}) {
                if (m.has(p) && m.getAsJsonObject(p).has("ms")) {
                    s.addProperty(
                            p + "_ms",
                            m.getAsJsonObject(p).getAsJsonObject("ms").get("median").getAsDouble());
                }
            }
            String b = "decode_b" + opts.throughputBatch();
            if (name.equals("mamba2-2.7b") && m.has(b)) {
                double tps = m.getAsJsonObject(b).get("tokens_per_s").getAsDouble();
                double tps1 = m.getAsJsonObject("decode_b1").get("tokens_per_s").getAsDouble();
                s.addProperty(b + "_tokens_per_s", tps);
                s.addProperty(b + "_over_b1", tps / tps1);
            }
            if (m.has("one_layer")) {
                double one =
                        m.getAsJsonObject("one_layer")
                                .getAsJsonObject("decode_b1")
                                .getAsJsonObject("total_ms")
                                .get("median")
                                .getAsDouble();
                int layers = m.get("layers").getAsInt();
                double perLayer = (decode - one) / (layers - 1);
                s.addProperty("decode_per_layer_ms", perLayer);
                s.addProperty("decode_outside_layers_ms", one - perLayer);
                JsonObject oneLayer = m.getAsJsonObject("one_layer");
                if (s.has("decode_b1_recorded_ms")
                        && oneLayer.has("decode_b1_recorded")
                        && oneLayer.getAsJsonObject("decode_b1_recorded").has("total_ms")) {
                    double oneRecorded =
                            oneLayer.getAsJsonObject("decode_b1_recorded")
                                    .getAsJsonObject("total_ms")
                                    .get("median")
                                    .getAsDouble();
                    double recordedPerLayer =
                            (s.get("decode_b1_recorded_ms").getAsDouble() - oneRecorded)
                                    / (layers - 1);
                    s.addProperty("decode_recorded_per_layer_ms", recordedPerLayer);
                    s.addProperty(
                            "decode_recorded_outside_layers_ms", oneRecorded - recordedPerLayer);
                }
            }
            if (opts.gpu && m.has("memory_after_decode_b1")) {
                JsonObject before = m.getAsJsonObject("memory_before");
                JsonObject after = m.getAsJsonObject("memory_after_decode_b1");
                long reservedPeak =
                        after.get("pool_reserved_bytes").getAsLong()
                                - before.get("pool_reserved_bytes").getAsLong();
                long deviceDelta =
                        after.get("device_used_bytes").getAsLong()
                                - before.get("device_used_bytes").getAsLong();
                s.addProperty("decode_b1_pool_peak_over_weights_bytes", reservedPeak - weights);
                if (m.has("decode_b1_pool_used_high_bytes")) {
                    s.addProperty(
                            "decode_b1_peak_in_use_over_weights_bytes",
                            m.get("decode_b1_pool_used_high_bytes").getAsLong()
                                    + m.get("decode_b1_graph_used_high_bytes").getAsLong()
                                    - weights);
                }
                s.addProperty("decode_b1_device_used_over_weights_bytes", deviceDelta - weights);
                long state = m.get("state_bytes_per_sequence").getAsLong();
                long total = after.get("device_total_bytes").getAsLong();
                long free = total - after.get("device_used_bytes").getAsLong();
                s.addProperty("sequences_fitting_in_free_memory", free / state);
            }
            summary.add(name, s);
        }
        results.add("summary", summary);
    }

    /**
     * Runs each model at 2 layers: warm-up steps, then one step (or, with {@code --prefill}, one
     * prefill of {@link Options#prefillLength()} tokens) inside the profiler's range.
     */
    private void profile() throws IOException {
        NativeLibrary cuda = opts.gpu ? NativeLibrary.getInstance("cuda") : null;
        for (String name : opts.models) {
            try (Loaded model = new Loaded(name, 2)) {
                JsonObject m = new JsonObject();
                models.add(name, m);
                m.add("decode_b1_2layers", decode(model, 1, opts.warmup, 3));
                try (InferenceCache cache = model.lm.newCache(model.manager, 1);
                        NDManager step = model.manager.newSubManager()) {
                    NDArray prompt = step.create(new long[PROMPT], new Shape(1, PROMPT));
                    model.lm.forward(model.ps, prompt, null, cache, false, false);
                    int length = opts.profilePrefill() ? opts.prefillLength() : 1;
                    NDArray ids = step.create(new long[length], new Shape(1, length));
                    if (opts.profilePrefill()) {
                        cache.reset();
                        // once outside the range: the GEMM and GEMV choices are made on first use
                        model.lm.forward(model.ps, ids, null, cache, false, false, 1);
                        cache.reset();
                    }
                    sync();
                    if (cuda != null) {
                        cuda.getFunction("cuProfilerStart").invokeInt(new Object[0]);
                    }
                    long[] tokens = new long[1];
                    greedy(
                            model.lm.forward(model.ps, ids, null, cache, false, false, 1).logits(),
                            tokens);
                    sync();
                    if (cuda != null) {
                        cuda.getFunction("cuProfilerStop").invokeInt(new Object[0]);
                    }
                }
            }
            write();
        }
    }

    private void sync() {
        if (opts.gpu) {
            CudaTensorOps.synchronize(CudaTensorOps.stream(0));
        }
    }

    private static void timeInto(double[] times, int warmup, Runnable op) {
        for (int i = -warmup; i < times.length; i++) {
            long t0 = System.nanoTime();
            op.run();
            long t1 = System.nanoTime();
            if (i >= 0) {
                times[i] = (t1 - t0) / 1e6;
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static JsonObject stats(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        JsonObject r = new JsonObject();
        r.addProperty("median", median(v));
        r.addProperty("min", s[0]);
        r.addProperty("max", s[s.length - 1]);
        JsonArray all = new JsonArray();
        for (double x : v) {
            all.add(Math.round(x * 1e4) / 1e4);
        }
        r.add("samples", all);
        return r;
    }

    private void write() throws IOException {
        Path parent = opts.out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(
                opts.out,
                new GsonBuilder().setPrettyPrinting().create().toJson(results),
                StandardCharsets.UTF_8);
    }
}
