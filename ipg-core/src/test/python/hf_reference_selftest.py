#!/usr/bin/env python3
"""Checks of hf_reference.py against computations that share none of its code paths.

Run: python3 hf_reference_selftest.py  (exit status 0 when every check passes).

    - safetensors: BF16/F16 decoding against torch's own conversion; sharded checkpoints.
    - every family: the full-sequence forward equals a token-by-token decoder with a KV cache,
      written here with scalar loops, RoPE as complex multiplication and its own inverse
      frequencies (llama3 scaling included);
    - llama3 inverse frequencies against values worked out by hand;
    - GPT-2 with zeroed attention against a numpy computation of embeddings -> MLP -> ln_f -> wte;
    - gradients and scale gradients against central finite differences;
    - the command line end to end (output dtypes, shapes, loss consistent with the logits).
"""

import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_reference as ref  # noqa: E402

FAILURES = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"  {detail}"))
    if not ok:
        FAILURES.append(name)


def close(name, actual, expected, tol):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    err = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    check(name, actual.shape == expected.shape and err <= tol,
          f"shape {actual.shape} vs {expected.shape}, max abs err {err:.3e} > {tol:.1e}")


# ---------------------------------------------------------------------------------------------
# Fixture writer: small random checkpoints in Hugging Face layout
# ---------------------------------------------------------------------------------------------

def f32_to_bf16_bits(a):
    """Round-to-nearest-even float32 -> bfloat16 bits (uint16)."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def write_raw_safetensors(path, tensors, dtype="F32"):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.asarray(arr, dtype=np.float32)
        if dtype == "BF16":
            blob = f32_to_bf16_bits(arr).tobytes()
        elif dtype == "F16":
            blob = arr.astype(np.float16).tobytes()
        else:
            blob = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def llama_like_config(arch, **over):
    cfg = {"architectures": [arch], "vocab_size": 37, "hidden_size": 16, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
           "tie_word_embeddings": False, "max_position_embeddings": 128}
    cfg.update(over)
    return cfg


def gpt2_config(**over):
    cfg = {"architectures": ["GPT2LMHeadModel"], "vocab_size": 37, "n_embd": 16, "n_layer": 2,
           "n_head": 4, "n_positions": 32, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    cfg.update(over)
    return cfg


def random_tensors(cfg, rng, zero_attention=False):
    """Random weights with the HF names and shapes implied by cfg."""
    def r(*shape, scale=0.3):
        return rng.standard_normal(shape).astype(np.float32) * scale

    def norm(n):
        return (1.0 + 0.2 * rng.standard_normal(n)).astype(np.float32)

    t = {}
    if cfg["architectures"][0] == "GPT2LMHeadModel":
        d, ff = cfg["n_embd"], cfg.get("n_inner") or 4 * cfg["n_embd"]
        t["wte.weight"] = r(cfg["vocab_size"], d, scale=1.0)
        t["wpe.weight"] = r(cfg["n_positions"], d, scale=0.5)
        for i in range(cfg["n_layer"]):
            p = f"h.{i}."
            t[p + "ln_1.weight"], t[p + "ln_1.bias"] = norm(d), r(d, scale=0.1)
            t[p + "attn.c_attn.weight"], t[p + "attn.c_attn.bias"] = r(d, 3 * d), r(3 * d, scale=0.1)
            t[p + "attn.c_proj.weight"], t[p + "attn.c_proj.bias"] = r(d, d), r(d, scale=0.1)
            if zero_attention:
                for n in ("attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias"):
                    t[p + n] = np.zeros_like(t[p + n])
            t[p + "ln_2.weight"], t[p + "ln_2.bias"] = norm(d), r(d, scale=0.1)
            t[p + "mlp.c_fc.weight"], t[p + "mlp.c_fc.bias"] = r(d, ff), r(ff, scale=0.1)
            t[p + "mlp.c_proj.weight"], t[p + "mlp.c_proj.bias"] = r(ff, d), r(d, scale=0.1)
        t["ln_f.weight"], t["ln_f.bias"] = norm(d), r(d, scale=0.1)
        return t
    arch = cfg["architectures"][0]
    d, ff, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or (128 if arch == "Qwen3ForCausalLM" else d // H)
    qkv_bias = arch == "Qwen2ForCausalLM" or (arch in ("LlamaForCausalLM", "Qwen3ForCausalLM")
                                              and cfg.get("attention_bias", False))
    o_bias = arch in ("LlamaForCausalLM", "Qwen3ForCausalLM") and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    t["model.embed_tokens.weight"] = r(V, d, scale=1.0)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = norm(d)
        t[p + "post_attention_layernorm.weight"] = norm(d)
        for n, rows in (("q", H * hd), ("k", Hkv * hd), ("v", Hkv * hd)):
            t[p + f"self_attn.{n}_proj.weight"] = r(rows, d)
            if qkv_bias:
                t[p + f"self_attn.{n}_proj.bias"] = r(rows, scale=0.2)
        t[p + "self_attn.o_proj.weight"] = r(d, H * hd)
        if o_bias:
            t[p + "self_attn.o_proj.bias"] = r(d, scale=0.2)
        if arch == "Qwen3ForCausalLM":
            t[p + "self_attn.q_norm.weight"] = norm(hd)
            t[p + "self_attn.k_norm.weight"] = norm(hd)
        t[p + "mlp.gate_proj.weight"] = r(ff, d)
        t[p + "mlp.up_proj.weight"] = r(ff, d)
        t[p + "mlp.down_proj.weight"] = r(d, ff)
        if mlp_bias:
            for n, rows in (("gate", ff), ("up", ff), ("down", d)):
                t[p + f"mlp.{n}_proj.bias"] = r(rows, scale=0.2)
    t["model.norm.weight"] = norm(d)
    if not cfg.get("tie_word_embeddings", False):
        t["lm_head.weight"] = r(V, d)
    return t


def write_checkpoint(directory, cfg, tensors, dtype="F32", shards=1, prefix=""):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f)
    tensors = {prefix + k: v for k, v in tensors.items()}
    if shards == 1:
        write_raw_safetensors(os.path.join(directory, "model.safetensors"), tensors, dtype)
        return
    names = list(tensors)
    weight_map = {}
    for s in range(shards):
        shard = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: tensors[n] for n in names[s::shards]}
        write_raw_safetensors(os.path.join(directory, shard), part, dtype)
        weight_map.update({n: shard for n in part})
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)


# ---------------------------------------------------------------------------------------------
# An independent token-by-token decoder (scalar loops, complex RoPE, explicit KV cache)
# ---------------------------------------------------------------------------------------------

def scalar_inv_freq(cfg):
    """Inverse frequencies from the formulas, one float at a time."""
    hd = cfg.head_dim
    out = []
    for i in range(hd // 2):
        f = cfg.rope_theta ** (-(2.0 * i) / hd)
        s = cfg.rope_scaling
        if s is not None:
            kind = s.get("rope_type", s.get("type"))
            if kind == "linear":
                f = f / s["factor"]
            else:
                wavelen = 2 * math.pi / f
                old = s["original_max_position_embeddings"]
                if wavelen < old / s["high_freq_factor"]:
                    pass
                elif wavelen > old / s["low_freq_factor"]:
                    f = f / s["factor"]
                else:
                    smooth = (old / wavelen - s["low_freq_factor"]) / (s["high_freq_factor"] - s["low_freq_factor"])
                    f = (1 - smooth) * f / s["factor"] + smooth * f
        out.append(f)
    return out


def np_weights(model):
    w = model.weights
    return lambda name: np.asarray(w.tensors[w.prefix + name], dtype=np.float64)


def np_rms(x, g, eps):
    return x / math.sqrt(float(np.mean(x * x)) + eps) * g


def np_ln(x, g, b, eps):
    mu = float(np.mean(x))
    var = float(np.mean((x - mu) ** 2))
    return (x - mu) / math.sqrt(var + eps) * g + b


def np_act(name, x):
    if name == "silu":
        return x / (1 + np.exp(-x))
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    raise ValueError(name)


def rope_complex(vec, pos, inv_freq):
    """vec (hd,) rotated as complex numbers z_i = vec[i] + 1j vec[i + hd/2], z_i *= exp(1j pos f_i)."""
    half = len(vec) // 2
    z = (vec[:half] + 1j * vec[half:]) * np.exp(1j * pos * np.array(inv_freq))
    return np.concatenate([z.real, z.imag])


def decode_incrementally(model, tokens):
    """Logits (T, V) computed one token at a time with a KV cache."""
    cfg, W = model.cfg, np_weights(model)
    H, Hkv, hd = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim
    gpt2 = cfg.arch == ref.GPT2
    inv_freq = None if gpt2 else scalar_inv_freq(cfg)
    cache = [([], []) for _ in range(cfg.num_layers)]   # per layer: list of k (Hkv, hd), v (Hkv, hd)
    out = []
    for pos, tok in enumerate(tokens):
        if gpt2:
            x = W("wte.weight")[tok] + W("wpe.weight")[pos]
        else:
            x = W("model.embed_tokens.weight")[tok].copy()
        for layer in range(cfg.num_layers):
            if gpt2:
                p = f"h.{layer}."
                a = np_ln(x, W(p + "ln_1.weight"), W(p + "ln_1.bias"), cfg.norm_eps)
                qkv = a @ W(p + "attn.c_attn.weight") + W(p + "attn.c_attn.bias")
                d = cfg.hidden_size
                q, k, v = qkv[:d].reshape(H, hd), qkv[d:2 * d].reshape(H, hd), qkv[2 * d:].reshape(H, hd)
            else:
                p = f"model.layers.{layer}.self_attn."
                a = np_rms(x, W(f"model.layers.{layer}.input_layernorm.weight"), cfg.norm_eps)

                def proj(n, rows, bias):
                    y = W(p + n + "_proj.weight") @ a
                    return (y + W(p + n + "_proj.bias")) if bias else y
                q = proj("q", H * hd, cfg.qkv_bias).reshape(H, hd)
                k = proj("k", Hkv * hd, cfg.qkv_bias).reshape(Hkv, hd)
                v = proj("v", Hkv * hd, cfg.qkv_bias).reshape(Hkv, hd)
                if cfg.qk_norm:
                    q = np.stack([np_rms(q[h], W(p + "q_norm.weight"), cfg.norm_eps) for h in range(H)])
                    k = np.stack([np_rms(k[h], W(p + "k_norm.weight"), cfg.norm_eps) for h in range(Hkv)])
                q = np.stack([rope_complex(q[h], pos, inv_freq) for h in range(H)])
                k = np.stack([rope_complex(k[h], pos, inv_freq) for h in range(Hkv)])
            cache[layer][0].append(k)
            cache[layer][1].append(v)
            z = np.zeros((H, hd))
            for h in range(H):
                kv = h // (H // Hkv)
                scale = 1 / math.sqrt(hd)
                if gpt2 and cfg.scale_attn_by_inverse_layer_idx:
                    scale /= layer + 1
                first = 0
                if cfg.sliding_window is not None:
                    first = max(0, pos - cfg.sliding_window + 1)
                scores = np.array([q[h] @ cache[layer][0][j][kv] * scale for j in range(first, pos + 1)])
                probs = np.exp(scores - scores.max())
                probs /= probs.sum()
                z[h] = sum(probs[j - first] * cache[layer][1][j][kv] for j in range(first, pos + 1))
            z = z.reshape(-1)
            if gpt2:
                x = x + z @ W(p + "attn.c_proj.weight") + W(p + "attn.c_proj.bias")
                m = np_ln(x, W(p + "ln_2.weight"), W(p + "ln_2.bias"), cfg.norm_eps)
                hidden = np_act(cfg.activation, m @ W(p + "mlp.c_fc.weight") + W(p + "mlp.c_fc.bias"))
                x = x + hidden @ W(p + "mlp.c_proj.weight") + W(p + "mlp.c_proj.bias")
            else:
                o = W(p + "o_proj.weight") @ z
                x = x + (o + W(p + "o_proj.bias") if cfg.o_bias else o)
                lp = f"model.layers.{layer}."
                m = np_rms(x, W(lp + "post_attention_layernorm.weight"), cfg.norm_eps)

                def mlp(n, inp):
                    y = W(lp + f"mlp.{n}_proj.weight") @ inp
                    return y + W(lp + f"mlp.{n}_proj.bias") if cfg.mlp_bias else y
                hidden = np_act(cfg.activation, mlp("gate", m)) * mlp("up", m)
                x = x + mlp("down", hidden)
        if gpt2:
            x = np_ln(x, W("ln_f.weight"), W("ln_f.bias"), cfg.norm_eps)
            out.append(W("wte.weight") @ x)
        else:
            x = np_rms(x, W("model.norm.weight"), cfg.norm_eps)
            tied = cfg.tie_word_embeddings or not model.weights.has("lm_head.weight")
            out.append(W("model.embed_tokens.weight" if tied else "lm_head.weight") @ x)
    return np.stack(out)


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

FAMILIES = {
    "llama": lambda: llama_like_config("LlamaForCausalLM"),
    "llama-bias-tied": lambda: llama_like_config("LlamaForCausalLM", attention_bias=True, mlp_bias=True,
                                                 tie_word_embeddings=True),
    "llama3-rope": lambda: llama_like_config(
        "LlamaForCausalLM", head_dim=8, rope_theta=10000.0,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 1024}),
    "mistral-head-dim": lambda: llama_like_config("MistralForCausalLM", head_dim=6, sliding_window=5),
    "qwen2": lambda: llama_like_config("Qwen2ForCausalLM", tie_word_embeddings=True, rope_theta=1e6),
    "qwen3": lambda: llama_like_config("Qwen3ForCausalLM", head_dim=12, num_key_value_heads=1),
    "gpt2": lambda: gpt2_config(),
    "gpt2-inverse-layer-scale": lambda: gpt2_config(scale_attn_by_inverse_layer_idx=True, n_inner=20),
}


def check_families(tmp, rng):
    tokens = [3, 17, 0, 36, 5, 5, 21, 9]
    for name, make in FAMILIES.items():
        cfg = make()
        d = os.path.join(tmp, name)
        write_checkpoint(d, cfg, random_tensors(cfg, rng),
                         shards=2 if name == "qwen2" else 1,
                         prefix="transformer." if name == "gpt2" else "")
        model = ref.Model(d)
        logits = model.forward(tokens, ref.Hooks()).numpy()
        close(f"{name}: full forward == token-by-token KV-cache decoder", logits,
              decode_incrementally(model, tokens), 1e-10)
        check(f"{name}: every checkpoint tensor is used", not model.unused_tensors(), model.unused_tensors())
        check(f"{name}: logits are not degenerate", float(np.std(logits)) > 0.1, float(np.std(logits)))


def check_llama3_by_hand():
    # theta = 10000, head_dim = 8: inv_freq = 1, 0.1, 0.01, 0.001; wavelen = 2 pi / inv_freq
    # = 6.28, 62.8, 628.3, 6283. old_ctx = 1024, low_freq_factor 1, high 4, factor 8:
    # low_freq_wavelen = 1024, high_freq_wavelen = 256.
    #   6.28, 62.8 < 256  -> unchanged: 1, 0.1
    #   6283 > 1024       -> 0.001 / 8 = 0.000125
    #   628.3 in between  -> s = (1024 / 628.3185 - 1) / 3 = 0.2099155...
    #                        (1 - s) 0.01 / 8 + s 0.01 = 0.00308676...
    cfg = ref.parse_config(FAMILIES["llama3-rope"]())
    s = (1024 * 0.01 / (2 * math.pi) - 1) / 3
    expected = [1.0, 0.1, (1 - s) * 0.01 / 8 + s * 0.01, 0.000125]
    close("llama3 inverse frequencies match the hand computation", ref.rope_inv_freq(cfg).numpy(), expected, 1e-15)
    close("llama3 medium frequency is 0.00308676...", expected[2], 0.0030867610, 1e-10)
    lin = ref.parse_config(llama_like_config("LlamaForCausalLM", head_dim=4,
                                             rope_scaling={"type": "linear", "factor": 4.0}))
    close("linear rope scaling divides by factor", ref.rope_inv_freq(lin).numpy(), [0.25, 0.0025], 1e-15)


def check_rope_rotate_half():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 3, 8))                                   # (T, H, hd)
    inv = [1.0, 0.3, 0.05, 0.002]
    cos, sin = ref.rope_cos_sin(torch.tensor(inv, dtype=torch.float64), 5, torch.float64)
    got = ref.apply_rope(torch.from_numpy(x), cos, sin).numpy()
    want = np.array([[rope_complex(x[t, h], t, inv) for h in range(3)] for t in range(5)])
    close("RoPE rotate_half equals complex rotation of (x_i, x_{i+hd/2})", got, want, 1e-14)


def check_gpt2_zero_attention(tmp, rng):
    cfg = gpt2_config()
    tensors = random_tensors(cfg, rng, zero_attention=True)
    d = os.path.join(tmp, "gpt2-zero-attn")
    write_checkpoint(d, cfg, tensors)
    tokens = [1, 2, 30, 4]
    logits = ref.Model(d).forward(tokens, ref.Hooks()).numpy()
    t = {k: v.astype(np.float64) for k, v in tensors.items()}

    def ln(x, g, b):
        mu = x.mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5) * g + b

    x = t["wte.weight"][tokens] + t["wpe.weight"][:4]
    for i in range(cfg["n_layer"]):
        p = f"h.{i}."
        u = ln(x, t[p + "ln_2.weight"], t[p + "ln_2.bias"]) @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"]
        g = 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u ** 3)))
        x = x + g @ t[p + "mlp.c_proj.weight"] + t[p + "mlp.c_proj.bias"]
    want = ln(x, t["ln_f.weight"], t["ln_f.bias"]) @ t["wte.weight"].T
    close("GPT-2 with zeroed attention equals the MLP-only hand computation", logits, want, 1e-11)


def check_safetensors(tmp, rng):
    a = rng.standard_normal((3, 5)).astype(np.float32)
    for dt, torch_dt in (("BF16", torch.bfloat16), ("F16", torch.float16)):
        p = os.path.join(tmp, f"t-{dt}.safetensors")
        write_raw_safetensors(p, {"a": a}, dt)
        got = ref.read_safetensors(p)["a"]
        want = torch.from_numpy(a).to(torch_dt).to(torch.float32).numpy()
        close(f"{dt} decoding matches torch's {torch_dt}", got, want, 0.0)
    p = os.path.join(tmp, "roundtrip.safetensors")
    ref.write_safetensors(p, {"x": a.astype(np.float64), "y": a})
    back = ref.read_safetensors(p)
    close("F64/F32 write-read round trip", back["x"], a, 0.0)
    check("F64 written as F64", back["x"].dtype == np.float64 and back["y"].dtype == np.float32)
    # a BF16 checkpoint behaves like the F32 checkpoint of its rounded values
    cfg = llama_like_config("Qwen3ForCausalLM", head_dim=8)
    tensors = random_tensors(cfg, rng)
    write_checkpoint(os.path.join(tmp, "q3-bf16"), cfg, tensors, dtype="BF16")
    rounded = {k: torch.from_numpy(v).to(torch.bfloat16).float().numpy() for k, v in tensors.items()}
    write_checkpoint(os.path.join(tmp, "q3-rounded"), cfg, rounded)
    toks = [1, 2, 3]
    close("BF16 checkpoint == F32 checkpoint of the bf16-rounded weights",
          ref.Model(os.path.join(tmp, "q3-bf16")).forward(toks, ref.Hooks()).numpy(),
          ref.Model(os.path.join(tmp, "q3-rounded")).forward(toks, ref.Hooks()).numpy(), 0.0)


class PerturbHooks(ref.Hooks):
    """Adds eps * direction (T, d) to one site, on top of the normal hook behaviour."""

    def __init__(self, site, delta, **kw):
        super().__init__(**kw)
        self.site, self.delta = site, delta

    def __call__(self, name, h):
        h = super().__call__(name, h)
        return h + self.delta if name == self.site else h


def check_gradients(tmp):
    rng = np.random.default_rng(7)
    tokens = [4, 8, 15, 16, 23, 2]
    start = 2
    for family, site in (("qwen3", "blocks.0.hook_resid_mid"), ("llama3-rope", "blocks.1.attn.hook_z"),
                         ("gpt2", "blocks.0.mlp.hook_post"), ("mistral-head-dim", "blocks.1.hook_resid_pre")):
        model = ref.Model(os.path.join(tmp, family))
        hooks = ref.Hooks(grad_site=site)
        with torch.enable_grad():
            loss = ref.sum_log_probs(model.forward(tokens, hooks), tokens, start)
            (grad,) = torch.autograd.grad(loss, hooks.leaf)
        h = hooks.leaf.detach()
        direction = torch.from_numpy(rng.standard_normal(tuple(h.shape)))
        eps = 1e-5

        def loss_with(delta=None, scale=None):
            hk = PerturbHooks(site, delta if delta is not None else torch.zeros_like(h),
                              scales={site: scale} if scale is not None else None)
            return float(ref.sum_log_probs(model.forward(tokens, hk), tokens, start))

        fd = (loss_with(eps * direction) - loss_with(-eps * direction)) / (2 * eps)
        close(f"{family} {site}: <grad, v> equals central difference", float((grad * direction).sum()), fd, 1e-7)
        scale_grad = (h * grad).sum(0)
        for i in (0, h.shape[1] - 1):
            e = torch.zeros(h.shape[1], dtype=torch.float64)
            e[i] = eps
            fd_i = (loss_with(scale=1 + e) - loss_with(scale=1 - e)) / (2 * eps)
            close(f"{family} {site}: scale_grad[{i}] equals d loss / d alpha_{i}", float(scale_grad[i]), fd_i, 1e-7)
        check(f"{family} {site}: gradient is nonzero", float(grad.abs().max()) > 1e-6)
        # positions before start-1 still matter through attention, positions >= T-1 never do
        check(f"{family} {site}: last position has zero gradient", float(grad[-1].abs().max()) == 0.0)


def check_cli(tmp):
    d = os.path.join(tmp, "qwen3")
    out = os.path.join(tmp, "out.safetensors")
    tokens = [5, 6, 7, 8, 9]
    sites = ["blocks.0.hook_resid_pre", "blocks.1.attn.hook_z", "blocks.1.mlp.hook_post", "blocks.1.hook_resid_post"]
    rc = ref.main(["--model", d, "--tokens", ",".join(map(str, tokens)), "--out", out,
                   "--sites", ",".join(sites), "--grad-site", "blocks.1.hook_resid_mid", "--from", "2"])
    check("CLI exits 0", rc == 0)
    res = ref.read_safetensors(out)
    cfg = ref.Model(d).cfg
    check("CLI writes F32 by default", all(v.dtype == np.float32 for v in res.values()))
    shapes = {"logits": (5, cfg.vocab_size), "blocks.0.hook_resid_pre": (5, 16), "blocks.1.attn.hook_z": (5, 4 * 12),
              "blocks.1.mlp.hook_post": (5, 24), "blocks.1.hook_resid_post": (5, 16),
              "blocks.1.hook_resid_mid": (5, 16), "grad": (5, 16), "scale_grad": (16,), "loss": (1,)}
    check("CLI writes the expected tensors and shapes",
          {k: v.shape for k, v in res.items()} == shapes, {k: v.shape for k, v in res.items()})
    lp = torch.log_softmax(torch.from_numpy(res["logits"].astype(np.float64)), -1).numpy()
    close("CLI loss equals sum of log-probs read off the written logits",
          res["loss"][0], sum(lp[t - 1, tokens[t]] for t in range(2, 5)), 1e-5)
    close("CLI scale_grad equals sum_t h_t * grad_t",
          res["scale_grad"], (res["blocks.1.hook_resid_mid"].astype(np.float64) * res["grad"]).sum(0), 1e-5)
    close("CLI embeddings at resid_pre 0", res["blocks.0.hook_resid_pre"],
          ref.read_safetensors(os.path.join(d, "model.safetensors"))["model.embed_tokens.weight"][tokens], 0.0)
    # zero scale on mlp.hook_post == the same model with down_proj zeroed in layer 1
    sp = os.path.join(tmp, "zero.safetensors")
    ref.write_safetensors(sp, {"scale": np.zeros(24, dtype=np.float32)})
    out2 = os.path.join(tmp, "out2.safetensors")
    ref.main(["--model", d, "--tokens", "5,6,7,8,9", "--out", out2, "--out-dtype", "f64",
              "--scale", f"blocks.1.mlp.hook_post:{sp}"])
    t = ref.read_safetensors(os.path.join(d, "model.safetensors"))
    t["model.layers.1.mlp.down_proj.weight"] = np.zeros_like(t["model.layers.1.mlp.down_proj.weight"])
    with open(os.path.join(d, "config.json")) as f:
        cfg_json = json.load(f)
    write_checkpoint(os.path.join(tmp, "qwen3-nodown"), cfg_json, t)
    want = ref.Model(os.path.join(tmp, "qwen3-nodown")).forward(tokens, ref.Hooks()).numpy()
    got = ref.read_safetensors(out2)["logits"]
    check("--out-dtype f64 writes F64", got.dtype == np.float64)
    close("--scale 0 at mlp.hook_post equals zeroing down_proj", got, want, 1e-12)
    # float32 compute stays close to float64
    out3 = os.path.join(tmp, "out3.safetensors")
    ref.main(["--model", d, "--tokens", "5,6,7,8,9", "--out", out3, "--dtype", "float32"])
    close("--dtype float32 is within 1e-4 of float64", ref.read_safetensors(out3)["logits"], res["logits"], 1e-4)
    rc = ref.main(["--model", d, "--tokens", "5,6", "--out", out3, "--sites", "blocks.9.hook_resid_post"])
    check("unknown site exits 2", rc == 2)
    rc = ref.main(["--model", os.path.join(tmp, "nope"), "--tokens", "1", "--out", out3])
    check("missing model dir exits 2", rc == 2)


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(1234)
    with tempfile.TemporaryDirectory() as tmp:
        check_safetensors(tmp, rng)
        check_rope_rotate_half()
        check_llama3_by_hand()
        check_families(tmp, rng)
        check_gpt2_zero_attention(tmp, rng)
        check_gradients(tmp)
        check_cli(tmp)
    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
