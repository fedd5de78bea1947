package io.github.mambadjl.jmh;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.config.ModelConfigs;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.CpuTensorOps;
import io.github.mambadjl.nativeops.DType;
import io.github.mambadjl.nativeops.NativeTensor;
import io.github.mambadjl.nativeops.TensorDType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The whole causal LM at the mamba-130m shape (d_model 768, 24 layers, vocabulary 50280, d_state
 * 16, expand 2, tied embeddings), random float32 weights: prefill of 512 tokens and one decoding
 * step with the cache, on the {@code Mamba} engine (native kernels) and on the PyTorch engine (the
 * same blocks with the NDArray reference kernels), next to {@link #copyFloor}, a parallel copy
 * sized beyond the caches ({@link CopySize}) whose bandwidth turns the bytes of the weights into
 * the floor of a decoding step (every weight is read once per token; the LM head reads the whole
 * embedding table).
 *
 * <p>The random checkpoint is written once (HF layout, {@code config.json} + {@code
 * model.safetensors}) under {@code java.io.tmpdir} and reused by later runs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CpuModelBenchmark {

    static final int PREFILL = 512;
    static final int DECODE_PROMPT = 16;

    static final String CONFIG =
            "{\"model_type\": \"mamba\", \"hidden_size\": 768, \"num_hidden_layers\": 24,"
                    + " \"vocab_size\": 50280, \"state_size\": 16, \"expand\": 2,"
                    + " \"intermediate_size\": 1536, \"conv_kernel\": 4, \"time_step_rank\": 48,"
                    + " \"layer_norm_epsilon\": 1e-5, \"tie_word_embeddings\": true,"
                    + " \"use_bias\": false, \"use_conv_bias\": true, \"eos_token_id\": 0,"
                    + " \"bos_token_id\": 0, \"pad_token_id\": 0}";

    /**
     * Returns the directory of the random mamba-130m-shaped checkpoint, writing it on first use.
     *
     * @return the checkpoint directory
     * @throws IOException if it cannot be written
     */
    static synchronized Path checkpoint() throws IOException {
        Path dir = Paths.get(System.getProperty("java.io.tmpdir"), "mamba-djl-130m-random");
        Path weights = dir.resolve("model.safetensors");
        if (Files.isRegularFile(weights)) {
            return dir;
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), CONFIG, StandardCharsets.UTF_8);
        Engine torch = Engine.getEngine("PyTorch");
        torch.setRandomSeed(130);
        try (NDManager manager = torch.newBaseManager()) {
            CausalLM lm = CausalLM.fromConfig(ModelConfigs.read(dir.resolve("config.json")));
            lm.initialize(manager, DataType.FLOAT32, new Shape(1, 8));
            Path partial = dir.resolve("model.safetensors.partial");
            lm.saveSafetensors(partial);
            Files.move(partial, weights);
        }
        return dir;
    }

    /** A loaded model on one engine, a prompt of 512 tokens and a cache after 16 tokens. */
    @State(Scope.Benchmark)
    public static class LoadedModel {

        /** The engine. */
        @Param({"Mamba", "PyTorch"})
        public String engine;

        /** The dtype of the weights and activations: float32 (the issue's), bfloat16 or float16. */
        @Param({"float32"})
        public String dtype = "float32";

        Model model;
        CausalLM lm;
        NDManager manager;
        ParameterStore ps;
        NDArray prefillIds;
        NDArray nextToken;
        InferenceCache cache;

        /**
         * Loads the model and prefills the decoding prompt.
         *
         * @throws Exception if the model cannot be loaded
         */
        @Setup(Level.Trial)
        public void load() throws Exception {
            Path dir = checkpoint();
            model = Model.newInstance("mamba-130m-random", Device.cpu(), engine);
            if ("Mamba".equals(engine)) {
                model.load(dir, null, Map.of("dtype", dtype));
                lm = (CausalLM) model.getBlock();
            } else {
                try (Checkpoint ckpt = Checkpoint.open(dir)) {
                    lm = CausalLM.fromConfig(ckpt.config());
                    lm.loadWeights(
                            ckpt,
                            model.getNDManager(),
                            DataType.valueOf(dtype.toUpperCase(Locale.ROOT)));
                }
                model.setBlock(lm);
            }
            manager = model.getNDManager().newSubManager();
            ps = new ParameterStore(manager, false);
            Random random = new Random(512);
            long[] ids = new long[PREFILL];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(50280);
            }
            prefillIds = manager.create(ids, new Shape(1, PREFILL));
            nextToken = manager.create(new long[] {42}, new Shape(1, 1));
            cache = lm.newCache(manager, 1);
            try (NDManager step = manager.newSubManager()) {
                lm.forward(ps, prefillIds.get(":, 0:{}", DECODE_PROMPT), null, cache, false, false);
            }
        }

        /** Closes the model. */
        @TearDown(Level.Trial)
        public void close() {
            manager.close();
            model.close();
        }

        /**
         * Returns the bytes of all weights (each read once per decoding step).
         *
         * @return the bytes
         */
        long weightBytes() {
            long bytes = 0;
            for (Parameter p : lm.namedParameters().values()) {
                NDArray a = p.getArray();
                bytes += a.getShape().size() * a.getDataType().getNumOfBytes();
            }
            return bytes;
        }
    }

    /**
     * Prefill: logits for a 512-token prompt, no cache.
     *
     * @param s the loaded model
     * @return the last logit, so that the work is not eliminated
     */
    @Benchmark
    public float prefill512(LoadedModel s) {
        return prefill(s, 0);
    }

    /**
     * Prefill as generation runs it: a 512-token prompt with logits for its last position only.
     *
     * @param s the loaded model
     * @return the last logit, so that the work is not eliminated
     */
    @Benchmark
    public float prefill512LastLogits(LoadedModel s) {
        return prefill(s, 1);
    }

    private static float prefill(LoadedModel s, int logitsToKeep) {
        try (NDManager step = s.manager.newSubManager()) {
            NDArray ids = s.prefillIds.duplicate();
            ids.attach(step);
            NDArray logits =
                    s.lm.forward(s.ps, ids, null, null, false, false, logitsToKeep).logits();
            return logits.get("0, -1, -1").toType(DataType.FLOAT32, false).toFloatArray()[0];
        }
    }

    /**
     * One decoding step with the cache (the state after 16 tokens; every step replaces it, the cost
     * does not depend on the position).
     *
     * @param s the loaded model
     * @return the first logit
     */
    @Benchmark
    public float decodeStep(LoadedModel s) {
        try (NDManager step = s.manager.newSubManager()) {
            NDArray token = s.nextToken.duplicate();
            token.attach(step);
            NDArray logits = s.lm.forward(s.ps, token, null, s.cache, false, false).logits();
            return logits.get("0, 0, 0").toType(DataType.FLOAT32, false).toFloatArray()[0];
        }
    }

    /** Two direct buffers of {@link CopySize#bytes()} for the copy floor. */
    @State(Scope.Benchmark)
    public static class CopyBuffers {

        long bytes;
        ByteBuffer src;
        ByteBuffer dst;

        /** Allocates and fills the buffers, and prints their size (for the bandwidth). */
        @Setup(Level.Trial)
        public void allocate() {
            bytes = CopySize.bytes();
            src = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
            dst = ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder());
            for (int i = 0; i < bytes; i += 4096) {
                src.put(i, (byte) i);
                dst.put(i, (byte) 1);
            }
            System.out.printf(
                    "%ncopy of %d bytes (largest cache %d bytes): bandwidth = %d / time%n",
                    bytes, CopySize.largestCache(), 2 * bytes);
        }
    }

    /**
     * The memory floor: a parallel copy of {@link CopySize#bytes()} with {@code mops_cpu_memcpy}
     * (1.2 GB read and 1.2 GB written on a machine with a 300 MiB L3); bandwidth = 2 x bytes /
     * time.
     *
     * @param b the buffers
     */
    @Benchmark
    public void copyFloor(CopyBuffers b) {
        CpuKernels.copy(
                NativeTensor.of(b.dst, DType.FLOAT32, b.bytes / 4),
                NativeTensor.of(b.src, DType.FLOAT32, b.bytes / 4),
                b.bytes);
    }

    /**
     * One float32 matrix as large as all the weights of the model (516 541 440 bytes = 168 145 x
     * 768), for the product of one row with it: the weight reads of a decoding step without its 96
     * other products, its kernels and its per-operation costs.
     */
    @State(Scope.Benchmark)
    public static class WholeWeights {

        static final long WEIGHT_BYTES = 516_541_440L;
        static final long K = 768;
        static final long ROWS = WEIGHT_BYTES / 4 / K;

        long weight;
        long row;
        long out;

        /** Allocates and fills the matrix, the row and the output. */
        @Setup(Level.Trial)
        public void allocate() {
            weight = CpuTensorOps.allocate(ROWS * K * 4, false);
            row = CpuTensorOps.allocate(K * 4, false);
            out = CpuTensorOps.allocate(ROWS * 4, false);
            CpuTensorOps.fill(TensorDType.FLOAT32, weight, ROWS * K, 0.001);
            CpuTensorOps.fill(TensorDType.FLOAT32, row, K, 1.0);
        }

        /** Frees the memory. */
        @TearDown(Level.Trial)
        public void free() {
            CpuTensorOps.free(weight);
            CpuTensorOps.free(row);
            CpuTensorOps.free(out);
        }
    }

    /**
     * The reads of a decoding step in one product: a row times a 168 145 x 768 float32 matrix read
     * through its transpose, as the model's linears are (the GEMV path of {@code mops_cpu_matmul}).
     *
     * @param w the matrix
     */
    @Benchmark
    public void gemvWholeWeights(WholeWeights w) {
        CpuTensorOps.matmul(
                TensorDType.FLOAT32,
                1,
                1,
                WholeWeights.ROWS,
                WholeWeights.K,
                w.row,
                new long[] {0, WholeWeights.K, 1},
                w.weight,
                new long[] {0, 1, WholeWeights.K},
                w.out);
    }

    /**
     * Prints the bytes of the weights (for NOTES.md), writing the checkpoint if needed.
     *
     * @param args none
     * @throws Exception if the model cannot be loaded
     */
    public static void main(String[] args) throws Exception {
        LoadedModel s = new LoadedModel();
        s.engine = "Mamba";
        s.load();
        try {
            System.out.println("weight bytes " + s.weightBytes());
        } finally {
            s.close();
        }
    }
}
