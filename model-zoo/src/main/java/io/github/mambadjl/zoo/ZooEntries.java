package io.github.mambadjl.zoo;

import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.config.ModelFamily;
import java.util.List;

/** The published checkpoints of the zoo. */
final class ZooEntries {

    static final List<ZooEntry> ALL =
            List.of(
                    original("state-spaces/mamba-130m", ModelFamily.MAMBA, "130M"),
                    original("state-spaces/mamba-370m", ModelFamily.MAMBA, "370M"),
                    original("state-spaces/mamba-790m", ModelFamily.MAMBA, "790M"),
                    original("state-spaces/mamba-1.4b", ModelFamily.MAMBA, "1.4B"),
                    original("state-spaces/mamba-2.8b", ModelFamily.MAMBA, "2.8B"),
                    original("state-spaces/mamba-2.8b-slimpj", ModelFamily.MAMBA, "2.8B"),
                    hf("state-spaces/mamba-130m-hf", ModelFamily.MAMBA, "130M"),
                    hf("state-spaces/mamba-370m-hf", ModelFamily.MAMBA, "370M"),
                    hf("state-spaces/mamba-790m-hf", ModelFamily.MAMBA, "790M"),
                    hf("state-spaces/mamba-1.4b-hf", ModelFamily.MAMBA, "1.4B"),
                    hf("state-spaces/mamba-2.8b-hf", ModelFamily.MAMBA, "2.8B"),
                    original("state-spaces/mamba2-130m", ModelFamily.MAMBA2, "130M"),
                    original("state-spaces/mamba2-370m", ModelFamily.MAMBA2, "370M"),
                    original("state-spaces/mamba2-780m", ModelFamily.MAMBA2, "780M"),
                    original("state-spaces/mamba2-1.3b", ModelFamily.MAMBA2, "1.3B"),
                    original("state-spaces/mamba2-2.7b", ModelFamily.MAMBA2, "2.7B"),
                    new ZooEntry(
                            "mistralai/Mamba-Codestral-7B-v0.1",
                            ModelFamily.MAMBA2,
                            "7.3B",
                            RepoLayout.MISTRAL,
                            DataType.BFLOAT16,
                            true),
                    new ZooEntry(
                            "ibm-fms/Bamba-9B",
                            ModelFamily.BAMBA,
                            "9.8B",
                            RepoLayout.HF,
                            DataType.BFLOAT16,
                            false),
                    new ZooEntry(
                            "ibm-ai-platform/Bamba-9B-v2",
                            ModelFamily.BAMBA,
                            "9.8B",
                            RepoLayout.HF,
                            DataType.BFLOAT16,
                            false));

    private ZooEntries() {}

    private static ZooEntry original(String repo, ModelFamily family, String size) {
        return new ZooEntry(repo, family, size, RepoLayout.STATE_SPACES, DataType.FLOAT32, false);
    }

    private static ZooEntry hf(String repo, ModelFamily family, String size) {
        return new ZooEntry(repo, family, size, RepoLayout.HF, DataType.FLOAT32, false);
    }
}
