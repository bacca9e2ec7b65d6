#!/usr/bin/env python3
"""PyTorch side of the ipg engine benchmarks: the same decoder run by eager PyTorch on the CPU.

Loads a Hugging Face checkpoint directory (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
Qwen3ForCausalLM or GPT2LMHeadModel; F32, F16 or BF16 safetensors, single file or sharded) by
memory-mapping its safetensors (no copy for F32 and BF16 weights), and measures

    prefill     tokens/s for one prompt of --prompt-len tokens (KV cache filled)
    decode      tokens/s for batch 1 and batch 8 over --decode-steps greedy steps after a prompt
                of --decode-prompt-len tokens (fixed token ids, KV cache; prefill not timed)
    fwd_bwd     tokens/s of a teacher-forced forward plus backward to one site activation
                (requires_grad only on that activation, loss = sum of log-probs of tokens 1..T-1)
                at T = 256 and 1024
    rss         peak resident set size (getrusage) after each phase

and prints one JSON object on stdout (progress goes to stderr).

Numerics. F32 and F16 checkpoints compute in float32 (F16 weights are converted once). BF16
checkpoints keep their weights in torch.bfloat16; with --bf16-compute bf16 (default) activations
are bfloat16 too, with RMSNorm/LayerNorm, RoPE and softmax in float32 as Hugging Face does; with
--bf16-compute upcast every matmul converts its bf16 weight to float32 on the fly. Inference
phases run under torch.inference_mode(); the attention is explicit matmul + softmax (PyTorch 1.13
has no fused attention on the CPU). Prefill and decode report the best of --repeats runs. The loss of fwd_bwd is computed over --loss-chunk positions at
a time under activation checkpointing, so T x V logits never exist at once (0 = all at once).
"""

import argparse
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

LLAMA_LIKE = ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM")
GPT2 = "GPT2LMHeadModel"


class InputError(Exception):
    """A problem with the checkpoint or the arguments (one line on stderr, exit status 2)."""


def log(msg):
    print(f"[torch-bench] {msg}", file=sys.stderr, flush=True)


def peak_rss_mb():
    """Peak RSS of this process in MB: VmHWM, which belongs to this address space. (getrusage's
    ru_maxrss is kept across fork and exec, so a child of a large JVM would report the JVM's.)"""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # not Linux: KiB on Linux, bytes on macOS


# =============================================================================================
# Checkpoint: memory-mapped safetensors
#   u64 LE header length | JSON header {name: {dtype, shape, data_offsets}} | data
# =============================================================================================

def map_safetensors(path):
    """name -> torch tensor over a copy-on-write mapping of the file (F16 copied to float32)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        if header_len > size - 8:
            raise InputError(f"{path} is truncated: header of {header_len} bytes, file has {size}")
        header = json.loads(f.read(header_len))
    data_start = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape = info["dtype"], tuple(info["shape"])
        begin, end = info["data_offsets"]
        np_dtype = {"F32": np.float32, "F16": np.float16, "BF16": np.int16}.get(dtype)
        if np_dtype is None:
            raise InputError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        count = (end - begin) // np.dtype(np_dtype).itemsize
        if count != int(np.prod(shape)) or data_start + end > size:
            raise InputError(f"{path}: tensor {name} has a bad size or lies beyond the end of the file")
        arr = np.memmap(path, dtype=np_dtype, mode="c", offset=data_start + begin, shape=(count,))
        if arr.ctypes.data % arr.itemsize:
            arr = np.array(arr)  # unaligned data: copy rather than hand torch a misaligned pointer
        t = torch.from_numpy(arr).view(shape)
        if dtype == "BF16":
            t = t.view(torch.bfloat16)
        elif dtype == "F16":
            t = t.float()
        tensors[name] = t
    return tensors


def load_tensors(model_dir):
    single = os.path.join(model_dir, "model.safetensors")
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(single):
        return map_safetensors(single)
    if os.path.exists(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        tensors = {}
        for shard in shards:
            tensors.update(map_safetensors(os.path.join(model_dir, shard)))
        return tensors
    raise InputError(f"{model_dir} has neither model.safetensors nor model.safetensors.index.json")


# =============================================================================================
# Configuration
# =============================================================================================

def read_config(model_dir):
    path = os.path.join(model_dir, "config.json")
    if not os.path.exists(path):
        raise InputError(f"{model_dir} has no config.json")
    with open(path) as f:
        cfg = json.load(f)
    arch = next((a for a in cfg.get("architectures") or [] if a in LLAMA_LIKE or a == GPT2), None)
    if arch is None:
        raise InputError(f"{path}: architectures {cfg.get('architectures')} not supported")
    c = {"arch": arch, "vocab": cfg["vocab_size"]}
    if arch == GPT2:
        d, heads = cfg["n_embd"], cfg["n_head"]
        c.update(d=d, layers=cfg["n_layer"], heads=heads, kv_heads=heads, head_dim=d // heads,
                 ff=cfg.get("n_inner") or 4 * d, eps=cfg.get("layer_norm_epsilon", 1e-5),
                 act=cfg.get("activation_function", "gelu_new"), tie=True,
                 max_pos=cfg.get("n_positions", 1024),
                 attn_scale_by_layer=cfg.get("scale_attn_by_inverse_layer_idx", False))
        return c
    d, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    head_dim = cfg.get("head_dim") or (128 if arch == "Qwen3ForCausalLM" else d // heads)
    rope = cfg.get("rope_parameters") or {}
    scaling = cfg.get("rope_scaling") or (rope if rope else None)
    if scaling is not None and scaling.get("rope_type", scaling.get("type", "default")) == "default":
        scaling = None
    bias = bool(cfg.get("attention_bias", False))
    c.update(d=d, layers=cfg["num_hidden_layers"], heads=heads,
             kv_heads=cfg.get("num_key_value_heads") or heads, head_dim=head_dim,
             ff=cfg["intermediate_size"], eps=cfg.get("rms_norm_eps", 1e-6), act=cfg.get("hidden_act", "silu"),
             tie=bool(cfg.get("tie_word_embeddings", False)),
             theta=float(cfg.get("rope_theta", rope.get("rope_theta", 10000.0))), scaling=scaling,
             qkv_bias=arch == "Qwen2ForCausalLM" or (bias and arch != "MistralForCausalLM"),
             o_bias=bias and arch in ("LlamaForCausalLM", "Qwen3ForCausalLM"),
             mlp_bias=bool(cfg.get("mlp_bias", False)), qk_norm=arch == "Qwen3ForCausalLM",
             max_pos=1 << 30)
    return c


def rope_inv_freq(c):
    """(head_dim/2,) float64 inverse frequencies, with "linear" or "llama3" scaling."""
    hd = c["head_dim"]
    inv = 1.0 / c["theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    s = c["scaling"]
    if s is None:
        return inv
    kind = s.get("rope_type", s.get("type"))
    if kind == "linear":
        return inv / s["factor"]
    if kind != "llama3":
        raise InputError(f"rope type {kind!r} not supported")
    old, lo, hi, factor = s["original_max_position_embeddings"], s["low_freq_factor"], s["high_freq_factor"], s["factor"]
    wavelen = 2 * math.pi / inv
    smooth = (old / wavelen - lo) / (hi - lo)
    out = torch.where(wavelen > old / lo, inv / factor, (1 - smooth) * inv / factor + smooth * inv)
    return torch.where(wavelen < old / hi, inv, out)


# =============================================================================================
# The model: plain tensor ops on (B, T, d) activations, KV cache per layer
# =============================================================================================

def silu(x):
    return F.silu(x)


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


ACTS = {"silu": silu, "swish": silu, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh,
        "gelu": F.gelu, "relu": F.relu}


class KVCache:
    """Per layer k, v of shape (B, Hkv, max_len, hd); `length` positions are filled."""

    def __init__(self, c, batch, max_len, dtype):
        shape = (batch, c["kv_heads"], max_len, c["head_dim"])
        self.k = [torch.zeros(shape, dtype=dtype) for _ in range(c["layers"])]
        self.v = [torch.zeros(shape, dtype=dtype) for _ in range(c["layers"])]
        self.length = 0


class Model:
    def __init__(self, c, tensors, bf16_compute):
        self.c = c
        self.t = tensors
        self.prefix = ""
        if c["arch"] == GPT2 and "wte.weight" not in tensors and "transformer.wte.weight" in tensors:
            self.prefix = "transformer."
        dtypes = {v.dtype for v in tensors.values()}
        self.weight_dtype = torch.bfloat16 if torch.bfloat16 in dtypes else torch.float32
        self.upcast = self.weight_dtype == torch.bfloat16 and bf16_compute == "upcast"
        self.dtype = torch.bfloat16 if (self.weight_dtype == torch.bfloat16 and not self.upcast) else torch.float32
        self.act = ACTS[c["act"]]
        if c["arch"] != GPT2:
            self.inv_freq = rope_inv_freq(c)

    def w(self, name):
        full = self.prefix + name
        if full not in self.t:
            raise InputError(f"checkpoint has no tensor {full}")
        return self.t[full]

    def opt(self, name, flag):
        return self.w(name) if flag else None

    # --- ops ---------------------------------------------------------------------------------

    def linear(self, x, w, b=None):
        """x (..., in), w (out, in) -> (..., out)."""
        if self.upcast:
            return F.linear(x, w.float(), None if b is None else b.float())
        return F.linear(x, w, b)

    def conv1d(self, x, w, b):
        """GPT-2 Conv1D: w stored (in, out)."""
        if self.upcast:
            w, b = w.float(), b.float()
        return torch.addmm(b, x.reshape(-1, x.shape[-1]), w).view(*x.shape[:-1], w.shape[1])

    def rms_norm(self, x, w):
        """In float32, result in the activation dtype times the weight (HF's order)."""
        xf = x.float()
        y = (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.c["eps"])).to(self.dtype)
        return y * (w.float() if self.upcast else w)

    def layer_norm(self, x, w, b):
        if self.upcast:
            w, b = w.float(), b.float()
        return F.layer_norm(x.float(), (x.shape[-1],), w.float(), b.float(), self.c["eps"]).to(self.dtype)

    def rope(self, x, positions):
        """x (B, H, T, hd) rotated at `positions` (T,), rotate_half layout, computed in float32."""
        angles = torch.outer(positions.double(), self.inv_freq)                # (T, hd/2)
        angles = torch.cat([angles, angles], -1)
        cos, sin = angles.cos().float(), angles.sin().float()
        xf = x.float()
        half = xf.shape[-1] // 2
        rotated = torch.cat([-xf[..., half:], xf[..., :half]], -1)
        return (xf * cos + rotated * sin).to(self.dtype)

    def attention(self, q, k, v, start, scale):
        """q (B, H, T, hd), k/v (B, Hkv, S, hd) with S = start + T -> z (B, T, H*hd)."""
        B, H, T, hd = q.shape
        Hkv, S = k.shape[1], k.shape[2]
        g = H // Hkv
        q = q.reshape(B, Hkv, g * T, hd)                                        # heads of a group share k, v
        scores = torch.matmul(q, k.transpose(-1, -2)).float() * scale           # (B, Hkv, g*T, S)
        if T > 1:
            i = torch.arange(T).repeat(g)[:, None] + start
            j = torch.arange(S)[None, :]
            scores = scores.masked_fill(j > i, float("-inf"))
        probs = torch.softmax(scores, -1).to(v.dtype)
        z = torch.matmul(probs, v).view(B, H, T, hd)                            # (B, H, T, hd)
        return z.transpose(1, 2).reshape(B, T, H * hd)

    # --- blocks ------------------------------------------------------------------------------

    def llama_block(self, layer, x, cache, start, site):
        c, p = self.c, f"model.layers.{layer}."
        B, T, _ = x.shape
        H, Hkv, hd = c["heads"], c["kv_heads"], c["head_dim"]
        x = site(f"blocks.{layer}.hook_resid_pre", x)
        a = self.rms_norm(x, self.w(p + "input_layernorm.weight"))
        q = self.linear(a, self.w(p + "self_attn.q_proj.weight"), self.opt(p + "self_attn.q_proj.bias", c["qkv_bias"]))
        k = self.linear(a, self.w(p + "self_attn.k_proj.weight"), self.opt(p + "self_attn.k_proj.bias", c["qkv_bias"]))
        v = self.linear(a, self.w(p + "self_attn.v_proj.weight"), self.opt(p + "self_attn.v_proj.bias", c["qkv_bias"]))
        q = q.view(B, T, H, hd)
        k = k.view(B, T, Hkv, hd)
        if c["qk_norm"]:
            q = self.rms_norm(q, self.w(p + "self_attn.q_norm.weight"))
            k = self.rms_norm(k, self.w(p + "self_attn.k_norm.weight"))
        positions = torch.arange(start, start + T)
        q = self.rope(q.transpose(1, 2), positions)                             # (B, H, T, hd)
        k = self.rope(k.transpose(1, 2), positions)                             # (B, Hkv, T, hd)
        v = v.view(B, T, Hkv, hd).transpose(1, 2)
        k, v = self.cache_append(cache, layer, k, v, start)
        z = site(f"blocks.{layer}.attn.hook_z", self.attention(q, k, v, start, hd ** -0.5))
        x = site(f"blocks.{layer}.hook_resid_mid",
                 x + self.linear(z, self.w(p + "self_attn.o_proj.weight"), self.opt(p + "self_attn.o_proj.bias", c["o_bias"])))
        m = self.rms_norm(x, self.w(p + "post_attention_layernorm.weight"))
        mb = c["mlp_bias"]
        gate = self.linear(m, self.w(p + "mlp.gate_proj.weight"), self.opt(p + "mlp.gate_proj.bias", mb))
        up = self.linear(m, self.w(p + "mlp.up_proj.weight"), self.opt(p + "mlp.up_proj.bias", mb))
        hidden = site(f"blocks.{layer}.mlp.hook_post", self.act(gate) * up)
        out = self.linear(hidden, self.w(p + "mlp.down_proj.weight"), self.opt(p + "mlp.down_proj.bias", mb))
        return site(f"blocks.{layer}.hook_resid_post", x + out)

    def gpt2_block(self, layer, x, cache, start, site):
        c, p = self.c, f"h.{layer}."
        B, T, d = x.shape
        H, hd = c["heads"], c["head_dim"]
        x = site(f"blocks.{layer}.hook_resid_pre", x)
        a = self.layer_norm(x, self.w(p + "ln_1.weight"), self.w(p + "ln_1.bias"))
        qkv = self.conv1d(a, self.w(p + "attn.c_attn.weight"), self.w(p + "attn.c_attn.bias"))
        q, k, v = (t.reshape(B, T, H, hd).transpose(1, 2) for t in qkv.split(d, -1))
        k, v = self.cache_append(cache, layer, k, v, start)
        scale = hd ** -0.5 / ((layer + 1) if c["attn_scale_by_layer"] else 1)
        z = site(f"blocks.{layer}.attn.hook_z", self.attention(q, k, v, start, scale))
        x = site(f"blocks.{layer}.hook_resid_mid",
                 x + self.conv1d(z, self.w(p + "attn.c_proj.weight"), self.w(p + "attn.c_proj.bias")))
        m = self.layer_norm(x, self.w(p + "ln_2.weight"), self.w(p + "ln_2.bias"))
        hidden = site(f"blocks.{layer}.mlp.hook_post",
                      self.act(self.conv1d(m, self.w(p + "mlp.c_fc.weight"), self.w(p + "mlp.c_fc.bias"))))
        out = self.conv1d(hidden, self.w(p + "mlp.c_proj.weight"), self.w(p + "mlp.c_proj.bias"))
        return site(f"blocks.{layer}.hook_resid_post", x + out)

    @staticmethod
    def cache_append(cache, layer, k, v, start):
        """Writes k, v (B, Hkv, T, hd) at [start, start+T) and returns the filled prefix."""
        if cache is None:
            return k, v
        T = k.shape[2]
        cache.k[layer][:, :, start:start + T] = k
        cache.v[layer][:, :, start:start + T] = v
        return cache.k[layer][:, :, :start + T], cache.v[layer][:, :, :start + T]

    # --- whole model -------------------------------------------------------------------------

    def hidden(self, tokens, cache=None, start=0, site=lambda name, h: h):
        """tokens (B, T) at positions start.. -> final normed hidden states (B, T, d)."""
        c = self.c
        T = tokens.shape[1]
        if start + T > c["max_pos"]:
            raise InputError(f"{start + T} positions exceed the model's {c['max_pos']}")
        if c["arch"] == GPT2:
            x = self.w("wte.weight")[tokens].to(self.dtype) + self.w("wpe.weight")[start:start + T].to(self.dtype)
            for layer in range(c["layers"]):
                x = self.gpt2_block(layer, x, cache, start, site)
            x = self.layer_norm(x, self.w("ln_f.weight"), self.w("ln_f.bias"))
        else:
            x = self.w("model.embed_tokens.weight")[tokens].to(self.dtype)
            for layer in range(c["layers"]):
                x = self.llama_block(layer, x, cache, start, site)
            x = self.rms_norm(x, self.w("model.norm.weight"))
        if cache is not None:
            cache.length = start + T
        return x

    def unembedding(self):
        if self.c["arch"] == GPT2:
            return self.w("wte.weight")
        if self.c["tie"] or (self.prefix + "lm_head.weight") not in self.t:
            return self.w("model.embed_tokens.weight")
        return self.w("lm_head.weight")

    def logits(self, h):
        """h (..., d) -> logits (..., V) in float32."""
        return self.linear(h, self.unembedding()).float()


# =============================================================================================
# Measurements
# =============================================================================================

def prompt_tokens(batch, length, vocab):
    """Fixed, distinct token ids (B, T)."""
    i = torch.arange(length)[None, :]
    b = torch.arange(batch)[:, None]
    return (7 + 31 * i + 1009 * b) % vocab


def bench_prefill(model, length, repeats):
    tokens = prompt_tokens(1, length, model.c["vocab"])
    best = float("inf")
    with torch.inference_mode():
        for _ in range(repeats):
            cache = KVCache(model.c, 1, length, model.dtype)
            t0 = time.perf_counter()
            h = model.hidden(tokens, cache)
            model.logits(h[:, -1])
            best = min(best, time.perf_counter() - t0)
    return length / best, best


def bench_decode(model, batch, prompt_len, steps):
    """Greedy decode of `steps` tokens for `batch` sequences after a prefilled prompt."""
    tokens = prompt_tokens(batch, prompt_len, model.c["vocab"])
    with torch.inference_mode():
        cache = KVCache(model.c, batch, prompt_len + steps, model.dtype)
        h = model.hidden(tokens, cache)
        next_tok = model.logits(h[:, -1]).argmax(-1)                           # (B,)
        t0 = time.perf_counter()
        for _ in range(steps):
            h = model.hidden(next_tok[:, None], cache, start=cache.length)
            next_tok = model.logits(h[:, -1]).argmax(-1)
        elapsed = time.perf_counter() - t0
    return batch * steps / elapsed, elapsed


def chunk_log_prob(model, h, targets):
    """sum of log softmax(h W^T)[target] over the rows of h (n, d)."""
    logp = torch.log_softmax(model.logits(h), -1)
    return logp.gather(-1, targets[:, None]).sum()


def bench_fwd_bwd(model, length, site_name, loss_chunk):
    """Forward of (1, T) tokens, loss = sum_{t>=1} log p(x_t | x_<t), backward to the site."""
    tokens = prompt_tokens(1, length, model.c["vocab"])
    holder = {}

    def site(name, h):
        if name == site_name:
            h = h.detach().requires_grad_(True)
            holder["leaf"] = h
        return h

    t0 = time.perf_counter()
    with torch.enable_grad():
        h = model.hidden(tokens, site=site)[0, :-1]                            # (T-1, d) predicts x_1..
        targets = tokens[0, 1:]
        if "leaf" not in holder:
            raise InputError(f"unknown site {site_name}")
        if loss_chunk <= 0:
            loss = chunk_log_prob(model, h, targets)
        else:
            loss = 0.0
            for s in range(0, h.shape[0], loss_chunk):
                loss = loss + checkpoint(chunk_log_prob, model, h[s:s + loss_chunk], targets[s:s + loss_chunk],
                                         use_reentrant=False)
        (grad,) = torch.autograd.grad(loss, holder["leaf"])
    elapsed = time.perf_counter() - t0
    if not torch.isfinite(grad).all():
        raise RuntimeError("non-finite gradient")
    return length / elapsed, elapsed, float(loss)


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch CPU benchmark of a Hugging Face decoder checkpoint")
    ap.add_argument("--model", required=True, help="checkpoint directory")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt-len", type=int, default=128, help="prefill prompt length")
    ap.add_argument("--decode-prompt-len", type=int, default=32, help="prompt length before decoding")
    ap.add_argument("--decode-steps", type=int, default=32)
    ap.add_argument("--batches", default="1,8", help="decode batch sizes")
    ap.add_argument("--grad-lens", default="256,1024", help="sequence lengths of forward+backward")
    ap.add_argument("--site", default="hook_resid_post",
                    help="site kind for forward+backward: hook_resid_pre/mid/post, mlp.hook_post, attn.hook_z")
    ap.add_argument("--site-layer", type=int, default=None, help="layer of the site (default: middle)")
    ap.add_argument("--loss-chunk", type=int, default=128, help="positions per checkpointed loss chunk (0: none)")
    ap.add_argument("--repeats", type=int, default=2, help="prefill and decode repetitions (the best is reported)")
    ap.add_argument("--bf16-compute", choices=["bf16", "upcast"], default="bf16",
                    help="BF16 checkpoints: compute in bfloat16, or upcast each weight to float32 per matmul")
    ap.add_argument("--phases", default="prefill,decode,fwd_bwd")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    phases = set(args.phases.split(","))
    try:
        t0 = time.perf_counter()
        c = read_config(args.model)
        model = Model(c, load_tensors(args.model), args.bf16_compute)
        load_s = time.perf_counter() - t0
        params = sum(t.numel() for t in model.t.values())
        result = {
            "engine": "pytorch", "torch_version": torch.__version__, "threads": torch.get_num_threads(),
            "model": os.path.abspath(args.model), "arch": c["arch"], "parameters": params,
            "weights_dtype": str(model.weight_dtype).replace("torch.", ""),
            "compute_dtype": str(model.dtype).replace("torch.", ""),
            "bf16_compute": args.bf16_compute if model.weight_dtype == torch.bfloat16 else None,
            "load_seconds": round(load_s, 3), "rss_mb": {"after_load": round(peak_rss_mb(), 1)},
        }
        log(f"{c['arch']} {params / 1e6:.1f}M parameters, {result['weights_dtype']} weights, "
            f"{result['compute_dtype']} compute, {result['threads']} threads")

        # warm-up: first calls allocate and pick kernels
        with torch.inference_mode():
            model.logits(model.hidden(prompt_tokens(1, 8, c["vocab"]))[:, -1])

        if "prefill" in phases:
            tps, sec = bench_prefill(model, args.prompt_len, args.repeats)
            result["prefill"] = {"prompt_len": args.prompt_len, "tokens_per_s": round(tps, 2), "seconds": round(sec, 4)}
            result["rss_mb"]["after_prefill"] = round(peak_rss_mb(), 1)
            log(f"prefill {args.prompt_len}: {tps:.1f} tokens/s")
        if "decode" in phases:
            result["decode"] = {"prompt_len": args.decode_prompt_len, "steps": args.decode_steps}
            for batch in (int(b) for b in args.batches.split(",") if b):
                tps = max(bench_decode(model, batch, args.decode_prompt_len, args.decode_steps)[0]
                          for _ in range(args.repeats))
                result["decode"][f"batch{batch}_tokens_per_s"] = round(tps, 2)
                log(f"decode batch {batch}: {tps:.1f} tokens/s")
            result["rss_mb"]["after_decode"] = round(peak_rss_mb(), 1)
        if "fwd_bwd" in phases:
            layer = args.site_layer if args.site_layer is not None else c["layers"] // 2
            site = f"blocks.{layer}.{args.site}"
            # subnormal floats (tiny softmax gradients of the LM head) slow CPU arithmetic by an
            # order of magnitude; ipg flushes them, so the reference does too (fairest comparison)
            torch.set_flush_denormal(True)
            result["fwd_bwd"] = {"site": site, "loss_chunk": args.loss_chunk, "flush_denormal": True}
            bench_fwd_bwd(model, 16, site, args.loss_chunk)  # warm-up of the autograd path
            for length in (int(n) for n in args.grad_lens.split(",") if n):
                if length > c["max_pos"]:
                    log(f"fwd_bwd {length}: skipped, longer than n_positions {c['max_pos']}")
                    result["fwd_bwd"][f"T{length}_tokens_per_s"] = None
                    continue
                try:
                    tps, sec, loss = bench_fwd_bwd(model, length, site, args.loss_chunk)
                except RuntimeError as e:  # e.g. the allocator cannot get the memory at this length
                    log(f"fwd+bwd T={length}: failed: {e}")
                    result["fwd_bwd"][f"T{length}_tokens_per_s"] = None
                    result["fwd_bwd"][f"T{length}_error"] = str(e).splitlines()[0]
                    break
                result["fwd_bwd"][f"T{length}_tokens_per_s"] = round(tps, 2)
                result["fwd_bwd"][f"T{length}_seconds"] = round(sec, 3)
                result["rss_mb"][f"after_fwd_bwd_T{length}"] = round(peak_rss_mb(), 1)
                log(f"fwd+bwd T={length}: {tps:.1f} tokens/s (loss {loss:.3f})")
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    except InputError as e:
        print(f"torch_model_bench: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
