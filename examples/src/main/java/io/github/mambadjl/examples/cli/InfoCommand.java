package io.github.mambadjl.examples.cli;

import ai.djl.engine.Engine;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.config.BambaConfig;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.CudaKernels;
import io.github.mambadjl.nativeops.NativeLibraries;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code mamba-djl info}: what a checkpoint is (family, sizes, dtype, parameters, files) and which
 * native libraries and engines this machine has.
 */
final class InfoCommand {

    static final Set<String> VALUE_OPTIONS = Set.of("model");
    static final Set<String> FLAGS = Set.of("verbose", "help");

    static final String USAGE =
            String.join(
                    "\n",
                    "usage: mamba-djl info [--model M]",
                    "",
                    "Describes a checkpoint (default: the embedded model) and the native libraries.",
                    "  --model M    a checkpoint directory, djl://io.github.mambadjl/NAME or a Hub id");

    private InfoCommand() {}

    /**
     * Runs the command.
     *
     * @param args the parsed options
     * @param out where the description goes
     * @return the exit status
     * @throws UsageException for positional arguments
     * @throws CliException if the model cannot be found or read
     */
    static int run(CliArguments args, PrintStream out) throws UsageException, CliException {
        if (!args.positionals().isEmpty()) {
            throw new UsageException(
                    "info takes no argument besides --model; got '"
                            + args.positionals().get(0)
                            + "'");
        }
        String spec = args.value("model");
        ModelDirectory dir = ModelDirectory.resolve(spec);
        if (dir == null) {
            try (LoadedModel model =
                    LoadedModel.load(
                            new ModelOptions(spec, ModelOptions.DEFAULT_ENGINE, false, null))) {
                describe(spec, model.zoo().getModelPath(), out);
            }
        } else {
            try {
                describe(spec, dir.path(), out);
            } finally {
                if (dir.temporary()) {
                    try {
                        EmbeddedModel.delete(dir.path());
                    } catch (IOException e) {
                        dir.path().toFile().deleteOnExit();
                    }
                }
            }
        }
        describeNative(out);
        return 0;
    }

    private static void describe(String spec, Path dir, PrintStream out) throws CliException {
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            ModelConfig c = ckpt.config();
            out.println(
                    "model:       " + (spec == null ? "embedded (King James Bible, bytes)" : spec));
            out.println("directory:   " + dir);
            out.println("layout:      " + ckpt.layout());
            out.println("family:      " + c.family());
            out.println("layers:      " + c.numHiddenLayers());
            out.println("hidden size: " + c.hiddenSize());
            out.println(
                    "vocabulary:  "
                            + c.vocabSize()
                            + (c.paddedVocabSize() != c.vocabSize()
                                    ? " (embedding padded to " + c.paddedVocabSize() + ")"
                                    : ""));
            out.println("mixer:       " + mixer(c));
            out.println("tied head:   " + ckpt.tiedEmbeddings());
            out.println("dtype:       " + ckpt.weightType());
            long params = 0;
            for (String name : ckpt.names()) {
                if (ckpt.tiedEmbeddings() && name.equals("lm_head.weight")) {
                    continue;
                }
                params += ckpt.tensor(name).numel();
            }
            out.printf(Locale.ROOT, "parameters:  %,d (%s)%n", params, humanCount(params));
            out.println("files:");
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.sorted().toList()) {
                    if (Files.isRegularFile(f)) {
                        out.printf(
                                Locale.ROOT,
                                "  %-36s %12s%n",
                                f.getFileName(),
                                humanBytes(Files.size(f)));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new CliException(
                    "cannot read the checkpoint in " + dir + ": " + Errors.describe(e), e);
        }
    }

    private static String mixer(ModelConfig config) {
        if (config instanceof MambaConfig c) {
            return String.format(
                    Locale.ROOT,
                    "selective scan, inner %d, state %d, conv %d, dt rank %d",
                    c.intermediateSize(),
                    c.stateSize(),
                    c.convKernel(),
                    c.timeStepRank());
        }
        if (config instanceof Mamba2Config c) {
            return String.format(
                    Locale.ROOT,
                    "SSD, %d heads x %d, state %d, groups %d, conv %d, chunk %d",
                    c.numHeads(),
                    c.headDim(),
                    c.stateSize(),
                    c.nGroups(),
                    c.convKernel(),
                    c.chunkSize());
        }
        BambaConfig c = (BambaConfig) config;
        return String.format(
                Locale.ROOT,
                "SSD, %d heads x %d, state %d; attention at layers %s (%d heads, %d KV heads); MLP %d",
                c.mambaNHeads(),
                c.mambaDHead(),
                c.mambaDState(),
                c.attnLayerIndices(),
                c.numAttentionHeads(),
                c.numKeyValueHeads(),
                c.intermediateSize());
    }

    private static void describeNative(PrintStream out) {
        String cpu;
        try {
            cpu = "loaded (" + CpuKernels.buildInfo() + ")";
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            cpu = "not loaded: " + Errors.describe(e);
        }
        out.println("native CPU:  " + cpu);
        String reason = NativeLibraries.cudaUnavailableReason();
        String cuda;
        if (reason.isEmpty()) {
            int gpus = CudaKernels.isAvailable() ? CudaKernels.deviceCount() : 0;
            cuda = "loaded, " + gpus + " GPU" + (gpus == 1 ? "" : "s");
        } else {
            cuda = "not loaded: " + Errors.oneLine(reason);
        }
        out.println("native CUDA: " + cuda);
        StringBuilder engines = new StringBuilder();
        for (String name : List.of("Mamba", "PyTorch")) {
            if (engines.length() > 0) {
                engines.append(", ");
            }
            engines.append(name).append(Engine.hasEngine(name) ? "" : " (absent)");
        }
        out.println("engines:     " + engines);
    }

    private static String humanCount(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1f M", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f k", n / 1e3);
    }

    private static String humanBytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.2f MiB", n / (double) (1L << 20));
        }
        if (n >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        return n + " B";
    }
}
