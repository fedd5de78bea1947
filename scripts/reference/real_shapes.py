"""Random-weight checkpoints of the real model shapes, with transformers' outputs as references.

Runs on the GPU machine (torch + transformers there; no Hub, so no pretrained weights). For each
shape it builds the transformers model with random weights (the library's own initialisation,
then every norm weight, D and dt_bias jittered so that a loader that ignores one of them does not
match), writes it as an HF safetensors checkpoint (sharded above 4 GB, so the sharded reader is
exercised), and writes `reference.safetensors` beside it:

- input_ids      int64   [1, L]        random prompt
- logits         float32 [1, L, V]     transformers' float32 forward (TF32 off)
- generated_ids  int64   [1, L + N]    greedy continuation through transformers' cache
- margins        float32 [N]           top-1 minus top-2 logit at each greedy step
- logits64       float32 [1, L, V]     the same forward with the model converted to float64: the
                                       yardstick of float32 rounding (random deep models amplify
                                       it, more with depth; RealShapesTest uses this distance)

The gated RMSNorm of Mamba2/Bamba is made per group, as mamba_ssm computes it (see
fixtures/golden/README.md); Codestral has 8 groups, so the difference is real there.

Usage: python3 scripts/reference/real_shapes.py OUT_DIR [name ...]
"""

import json
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import (
    BambaConfig,
    BambaForCausalLM,
    Mamba2Config,
    Mamba2ForCausalLM,
    MambaConfig,
    MambaForCausalLM,
)

PROMPT = 64
NEW_TOKENS = 32


def shapes():
    """The real shapes: name -> (model class, config)."""
    return {
        "mamba-130m": (
            MambaForCausalLM,
            MambaConfig(vocab_size=50280, hidden_size=768, num_hidden_layers=24,
                        state_size=16, expand=2, conv_kernel=4, tie_word_embeddings=True),
        ),
        "mamba-2.8b": (
            MambaForCausalLM,
            MambaConfig(vocab_size=50280, hidden_size=2560, num_hidden_layers=64,
                        state_size=16, expand=2, conv_kernel=4, tie_word_embeddings=True),
        ),
        "mamba2-130m": (
            Mamba2ForCausalLM,
            Mamba2Config(vocab_size=50288, hidden_size=768, num_hidden_layers=24,
                         state_size=128, expand=2, head_dim=64, num_heads=24, n_groups=1,
                         conv_kernel=4, chunk_size=256, tie_word_embeddings=True),
        ),
        "mamba2-2.7b": (
            Mamba2ForCausalLM,
            Mamba2Config(vocab_size=50288, hidden_size=2560, num_hidden_layers=64,
                         state_size=128, expand=2, head_dim=64, num_heads=80, n_groups=1,
                         conv_kernel=4, chunk_size=256, tie_word_embeddings=True),
        ),
        "codestral-7b": (
            Mamba2ForCausalLM,
            Mamba2Config(vocab_size=32768, hidden_size=4096, num_hidden_layers=64,
                         state_size=128, expand=2, head_dim=64, num_heads=128, n_groups=8,
                         conv_kernel=4, chunk_size=256, tie_word_embeddings=False),
        ),
        "bamba-9b-4layers": (
            BambaForCausalLM,
            BambaConfig(vocab_size=128256, hidden_size=4096, num_hidden_layers=4,
                        intermediate_size=14336, num_attention_heads=32, num_key_value_heads=8,
                        attn_layer_indices=[2], mamba_n_heads=128, mamba_d_head=64,
                        mamba_n_groups=1, mamba_d_state=128, mamba_d_conv=4, mamba_expand=2,
                        mamba_chunk_size=256, tie_word_embeddings=False),
        ),
    }


def grouped_gated_norm(group_size):
    """The gated RMSNorm of mamba_ssm: y * silu(z), normalised per group of channels."""

    def forward(self, hidden_states, gate=None):
        dtype = hidden_states.dtype
        h = hidden_states.to(torch.float32)
        if gate is not None:
            h = h * F.silu(gate.to(torch.float32))
        lead = h.shape[:-1]
        g = h.reshape(*lead, -1, group_size)
        g = g * torch.rsqrt(g.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * g.reshape(*lead, -1).to(dtype)

    return forward


def make_norms_per_group(model):
    patched = 0
    for module in model.modules():
        norm = getattr(module, "norm", None)
        if norm is not None and type(norm).__name__.endswith("RMSNormGated"):
            n_groups = getattr(module, "n_groups", None)
            if n_groups is None:
                raise RuntimeError(f"{type(module).__name__}: no n_groups to make its norm per group")
            group = norm.weight.numel() // n_groups
            norm.forward = grouped_gated_norm(group).__get__(norm)
            patched += 1
    return patched


@torch.no_grad()
def jitter(model, generator):
    for name, p in model.named_parameters():
        if name.endswith("norm.weight") or name.endswith(".D") or name.endswith("dt_bias"):
            noise = torch.randn(p.shape, generator=generator, device="cpu").to(p.device)
            p.add_(0.1 * noise * p.abs().clamp(min=0.1))


@torch.no_grad()
def greedy(model, input_ids):
    out = model.generate(input_ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                         do_sample=False, output_logits=True, return_dict_in_generate=True,
                         pad_token_id=0)
    margins = []
    for step_logits in out.logits:
        top2 = torch.topk(step_logits[0].float(), 2).values
        margins.append(float(top2[0] - top2[1]))
    return out.sequences, torch.tensor(margins, dtype=torch.float32)


@torch.no_grad()
def float64_logits(model, input_ids):
    """The same model in float64 (converted in place, tensor by tensor, so that Codestral's float32
    and float64 copies are never whole on the GPU at once): the yardstick of float32 rounding."""
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            t.data = t.data.double()
    return model(input_ids).logits.double()


def main():
    out_dir = sys.argv[1]
    wanted = sys.argv[2:] or list(shapes())
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    summary = {}
    for name in wanted:
        cls, config = shapes()[name]
        config.eos_token_id = None
        start = time.time()
        torch.manual_seed(1234)
        with torch.device("cuda"):
            model = cls(config).to(torch.float32).eval()
        jitter(model, torch.Generator().manual_seed(99))
        patched = make_norms_per_group(model)
        directory = f"{out_dir}/{name}"
        model.save_pretrained(directory, safe_serialization=True, max_shard_size="4GB")
        ids = torch.randint(0, config.vocab_size, (1, PROMPT),
                            generator=torch.Generator().manual_seed(7)).cuda()
        with torch.no_grad():
            logits = model(ids).logits.float()
        sequences, margins = greedy(model, ids)
        logits64 = float64_logits(model, ids)
        save_file({"input_ids": ids.cpu().contiguous(),
                   "logits": logits.cpu().contiguous(),
                   "logits64": logits64.float().cpu().contiguous(),
                   "generated_ids": sequences.cpu().contiguous(),
                   "margins": margins.contiguous()},
                  f"{directory}/reference.safetensors")
        params = sum(p.numel() for p in model.parameters())
        summary[name] = {"parameters": params, "gated_norms_per_group": patched,
                         "max_abs_logit": float(logits.abs().max()),
                         "min_margin": float(margins.min()),
                         "float32_vs_float64": float((logits.double() - logits64).abs().max()),
                         "seconds": time.time() - start}
        print(name, json.dumps(summary[name]), flush=True)
        del model
        torch.cuda.empty_cache()
    with open(f"{out_dir}/summary.json", "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
