#!/usr/bin/env python3
"""Independent float64 reference forward (and backward) pass of Hugging Face decoder checkpoints.

This file is the numerical specification the Java engine is tested against. It re-implements,
op by op, the equations of the Hugging Face `transformers` modeling files for

    LlamaForCausalLM    (RMSNorm, SwiGLU, RoPE incl. "linear" and "llama3" scaling, GQA,
                         attention_bias / mlp_bias flags)
    MistralForCausalLM  (as Llama; head_dim may be given explicitly; sliding_window)
    Qwen2ForCausalLM    (as Llama, with biases on q/k/v but not on o)
    Qwen3ForCausalLM    (as Llama, plus per-head RMSNorm q_norm/k_norm before RoPE;
                         head_dim independent of hidden_size, 128 when absent as in HF)
    GPT2LMHeadModel     (LayerNorm, learned positions, fused Conv1D c_attn with [in, out]
                         weights, gelu_new MLP, lm_head tied to wte)

It reads checkpoints itself (safetensors parsed with numpy, no `transformers` or `safetensors`
package) and depends on torch (for autograd) and numpy only.

Usage
-----
    hf_reference.py --model DIR --tokens 1,2,3 --out OUT.safetensors
                    [--sites blocks.0.hook_resid_post,blocks.1.mlp.hook_post]
                    [--grad-site blocks.1.hook_resid_mid --from 1]
                    [--scale blocks.1.mlp.hook_post:SCALE.safetensors]
                    [--dtype float64|float32|bfloat16] [--out-dtype f32|f64]

Output tensors (one safetensors file, F32 unless --out-dtype f64):
    logits      [T, V]
    <site>      [T, d_site] for each requested site (the value that flows on, i.e. after --scale)
    loss        [1]         only with --grad-site: L = sum_{t=K}^{T-1} log softmax(logits[t-1])[x_t]
    grad        [T, d_site] only with --grad-site: dL/dh at the site
    scale_grad  [d_site]    only with --grad-site: sum_t h_t * grad_t = dL/dalpha at alpha = 1
                            for h -> alpha * h (per component, baseline 0)
    (with --grad-site the site's own activation is written as well, under its name)

Site names (TransformerLens):
    blocks.L.hook_resid_pre   input of block L                          [T, hidden]
    blocks.L.hook_resid_mid   after the attention residual add          [T, hidden]
    blocks.L.hook_resid_post  output of block L                         [T, hidden]
    blocks.L.attn.hook_z      per-head attention outputs before o_proj  [T, heads * head_dim]
    blocks.L.mlp.hook_post    MLP hidden activation                     [T, intermediate]
                              (act(gate) * up for gated MLPs, act(c_fc) for GPT-2)
    hook_embed                token embeddings W_E[x_t]                 [T, hidden]
    hook_pos_embed            learned position embeddings (GPT-2 only)  [T, hidden]
    blocks.L.attn.hook_q      query projection, before q-norm and RoPE  [T, heads * head_dim]
    blocks.L.attn.hook_k      key projection, before k-norm and RoPE    [T, kv_heads * head_dim]
    blocks.L.attn.hook_v      value projection                          [T, kv_heads * head_dim]
    blocks.L.attn.hook_pattern attention probabilities (record only)    [heads, T, T]
    blocks.L.attn.hook_z.heads hook_z viewed per head; --scale takes    [T, heads, head_dim]
                              one factor per head, scale_grad is per head
    blocks.L.hook_attn_out    attention output z Wo + bo                [T, hidden]
    blocks.L.hook_mlp_out     MLP output                                [T, hidden]
    ln_final.hook_normalized  final norm output (weight, bias applied)  [T, hidden]

Exit status 0 on success; 2 with one line on stderr for bad input.
"""

import argparse
import json
import math
import os
import struct
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch


class InputError(Exception):
    """A problem with the user's files or arguments (reported as one line, exit status 2)."""


# =============================================================================================
# safetensors I/O
#   file = u64 little-endian header length N | N bytes of JSON header | raw data
#   header: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
#            "__metadata__": {...}}  (offsets relative to the start of the data section)
# =============================================================================================

_NUMPY_DTYPES = {
    "F64": np.float64,
    "F32": np.float32,
    "F16": np.float16,
    "I64": np.int64,
    "I32": np.int32,
    "I16": np.int16,
    "I8": np.int8,
    "U8": np.uint8,
    "BOOL": np.bool_,
}


def _bf16_to_f32(raw: np.ndarray) -> np.ndarray:
    """bfloat16 bits (as uint16) -> float32: the bf16 bits are the high half of a float32."""
    return (raw.astype(np.uint32) << 16).view(np.float32)


def read_safetensors(path: str) -> Dict[str, np.ndarray]:
    """Reads every tensor of one safetensors file into numpy arrays (BF16 becomes float32)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if size < 8:
            raise InputError(f"{path} is not a safetensors file: only {size} bytes")
        (header_len,) = struct.unpack("<Q", f.read(8))  # uint64 little-endian header length
        if header_len > size - 8:
            raise InputError(f"{path} is truncated: header of {header_len} bytes, file has {size}")
        header = json.loads(f.read(header_len).decode("utf-8"))
        data_start = 8 + header_len
    mapped = np.memmap(path, dtype=np.uint8, mode="r")
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape = info["dtype"], tuple(info["shape"])
        begin, end = info["data_offsets"]
        if data_start + end > size:
            raise InputError(f"{path} is truncated: tensor {name} ends at {data_start + end}, file has {size}")
        raw = mapped[data_start + begin: data_start + end]
        if dtype == "BF16":
            arr = _bf16_to_f32(raw.view(np.uint16))
        elif dtype in _NUMPY_DTYPES:
            arr = raw.view(_NUMPY_DTYPES[dtype])
        else:
            raise InputError(f"{path}: tensor {name} has unsupported dtype {dtype}")
        count = int(np.prod(shape)) if shape else 1
        if arr.size != count:
            raise InputError(f"{path}: tensor {name} has {arr.size} elements, shape {list(shape)} needs {count}")
        tensors[name] = np.array(arr.reshape(shape))  # copy out of the mapping
    return tensors


def write_safetensors(path: str, tensors: Dict[str, np.ndarray]) -> None:
    """Writes float32/float64/int64 numpy arrays as a safetensors file (atomically: temp + rename)."""
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in codes:
            raise ValueError(f"cannot write dtype {arr.dtype} for {name}")
        blob = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": codes[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # pad so the data section is 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def load_checkpoint_tensors(model_dir: str) -> Dict[str, np.ndarray]:
    """All tensors of model.safetensors, or of the shards listed in model.safetensors.index.json."""
    single = os.path.join(model_dir, "model.safetensors")
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(single):
        return read_safetensors(single)
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            tensors.update(read_safetensors(os.path.join(model_dir, shard)))
        missing = [n for n in weight_map if n not in tensors]
        if missing:
            raise InputError(f"{index} lists {missing[0]} but no shard holds it")
        return tensors
    raise InputError(f"{model_dir} has neither model.safetensors nor model.safetensors.index.json")


# =============================================================================================
# Configuration (config.json), normalized over the families
# =============================================================================================

LLAMA_LIKE = ("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM")
GPT2 = "GPT2LMHeadModel"


@dataclass
class Config:
    arch: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    norm_eps: float
    activation: str
    tie_word_embeddings: bool
    # Llama-like only
    rope_theta: float = 10000.0
    rope_scaling: Optional[dict] = None
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False
    sliding_window: Optional[int] = None
    # GPT-2 only
    max_positions: int = 0
    scale_attn_weights: bool = True
    scale_attn_by_inverse_layer_idx: bool = False


def parse_config(cfg: dict, path: str = "config.json") -> Config:
    archs = cfg.get("architectures") or []
    arch = next((a for a in archs if a in LLAMA_LIKE or a == GPT2), None)
    if arch is None:
        raise InputError(f"{path}: architectures {archs} not supported "
                         f"(expected one of {list(LLAMA_LIKE) + [GPT2]})")
    if arch == GPT2:
        d = cfg["n_embd"]
        heads = cfg["n_head"]
        return Config(
            arch=arch, vocab_size=cfg["vocab_size"], hidden_size=d, num_layers=cfg["n_layer"],
            num_heads=heads, num_kv_heads=heads, head_dim=d // heads,
            intermediate_size=cfg.get("n_inner") or 4 * d,
            norm_eps=cfg.get("layer_norm_epsilon", 1e-5),
            activation=cfg.get("activation_function", "gelu_new"),
            tie_word_embeddings=True,  # GPT2LMHeadModel always ties lm_head to wte
            max_positions=cfg.get("n_positions", 1024),
            scale_attn_weights=cfg.get("scale_attn_weights", True),
            scale_attn_by_inverse_layer_idx=cfg.get("scale_attn_by_inverse_layer_idx", False))

    d = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads") or heads
    head_dim = cfg.get("head_dim")
    if head_dim is None:  # Qwen3Config defaults head_dim to 128; the others to hidden / heads
        head_dim = 128 if arch == "Qwen3ForCausalLM" else d // heads
    # newer configs nest rope settings in "rope_parameters"; older ones use rope_theta/rope_scaling
    rope_params = cfg.get("rope_parameters") or {}
    rope_theta = cfg.get("rope_theta", rope_params.get("rope_theta", 10000.0))
    rope_scaling = cfg.get("rope_scaling") or (rope_params if rope_params else None)
    if rope_scaling is not None:
        kind = rope_scaling.get("rope_type", rope_scaling.get("type", "default"))
        if kind not in ("default", "linear", "llama3"):
            raise InputError(f"{path}: rope type {kind!r} not supported (default, linear, llama3)")
        if kind == "default":
            rope_scaling = None
    attention_bias = bool(cfg.get("attention_bias", False))
    if arch == "Qwen2ForCausalLM":
        qkv_bias, o_bias = True, False  # Qwen2Attention: bias on q/k/v, never on o_proj
    elif arch == "MistralForCausalLM":
        qkv_bias = o_bias = False
    else:
        qkv_bias = o_bias = attention_bias
    sliding = None
    if arch == "MistralForCausalLM":
        sliding = cfg.get("sliding_window")
    elif arch in ("Qwen2ForCausalLM", "Qwen3ForCausalLM") and cfg.get("use_sliding_window", False):
        raise InputError(f"{path}: use_sliding_window=true is not supported for {arch}")
    return Config(
        arch=arch, vocab_size=cfg["vocab_size"], hidden_size=d, num_layers=cfg["num_hidden_layers"],
        num_heads=heads, num_kv_heads=kv_heads, head_dim=head_dim,
        intermediate_size=cfg["intermediate_size"], norm_eps=cfg.get("rms_norm_eps", 1e-6),
        activation=cfg.get("hidden_act", "silu"),
        tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)),
        rope_theta=float(rope_theta), rope_scaling=rope_scaling,
        qkv_bias=qkv_bias, o_bias=o_bias, mlp_bias=bool(cfg.get("mlp_bias", False)),
        qk_norm=(arch == "Qwen3ForCausalLM"), sliding_window=sliding)


# =============================================================================================
# Ops. x is (T, d) unless stated otherwise; all in the compute dtype (float64 by default).
# =============================================================================================

def rms_norm(x, weight, eps):
    """x (..., d), weight (d,) -> x / sqrt(mean(x^2) + eps) * weight."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def layer_norm(x, weight, bias, eps):
    """x (..., d) -> (x - mean) / sqrt(var + eps) * weight + bias, var biased (divide by d)."""
    mean = x.mean(-1, keepdim=True)
    var = (x - mean).pow(2).mean(-1, keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps) * weight + bias


def linear(x, weight, bias=None):
    """nn.Linear: x (T, in), weight (out, in), bias (out,) -> (T, out) = x W^T + b."""
    y = x @ weight.t()
    return y if bias is None else y + bias


def conv1d(x, weight, bias):
    """GPT-2 Conv1D: x (T, in), weight stored (in, out), bias (out,) -> (T, out) = x W + b."""
    return x @ weight + bias


def silu(x):
    return x * torch.sigmoid(x)


def gelu_tanh(x):
    """gelu_new / gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def gelu_erf(x):
    """gelu: 0.5 x (1 + erf(x / sqrt 2))."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


ACTIVATIONS: Dict[str, Callable] = {
    "silu": silu, "swish": silu,
    "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "gelu_fast": gelu_tanh,
    "gelu": gelu_erf,
    "relu": torch.relu,
}


def rope_inv_freq(cfg: Config) -> torch.Tensor:
    """Inverse frequencies (head_dim/2,) in float64: theta^(-2i/head_dim), then optional scaling.

    "linear": inv_freq / factor.
    "llama3" (Llama 3.1): with wavelen = 2 pi / inv_freq,
        wavelen < old_ctx / high_freq_factor  -> unchanged (high frequencies)
        wavelen > old_ctx / low_freq_factor   -> inv_freq / factor (low frequencies)
        otherwise, with s = (old_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor):
                                              -> (1 - s) inv_freq / factor + s inv_freq
    """
    dim = cfg.head_dim
    exponents = torch.arange(0, dim, 2, dtype=torch.float64) / dim
    inv_freq = 1.0 / (cfg.rope_theta ** exponents)
    scaling = cfg.rope_scaling
    if scaling is None:
        return inv_freq
    kind = scaling.get("rope_type", scaling.get("type"))
    factor = float(scaling["factor"])
    if kind == "linear":
        return inv_freq / factor
    low_freq_factor = float(scaling["low_freq_factor"])
    high_freq_factor = float(scaling["high_freq_factor"])
    old_ctx = float(scaling["original_max_position_embeddings"])
    low_freq_wavelen = old_ctx / low_freq_factor
    high_freq_wavelen = old_ctx / high_freq_factor
    wavelen = 2.0 * math.pi / inv_freq
    smooth = (old_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    medium = (1.0 - smooth) * inv_freq / factor + smooth * inv_freq
    out = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, medium)
    return torch.where(wavelen < high_freq_wavelen, inv_freq, out)


def rope_cos_sin(inv_freq, num_positions, dtype):
    """cos, sin (T, head_dim) for positions 0..T-1; angle[t, i] = t * inv_freq[i mod head_dim/2]."""
    positions = torch.arange(num_positions, dtype=torch.float64)
    angles = torch.outer(positions, inv_freq)          # (T, head_dim/2)
    angles = torch.cat([angles, angles], dim=-1)       # (T, head_dim)
    return angles.cos().to(dtype), angles.sin().to(dtype)


def rotate_half(x):
    """(..., 2m) -> concat(-x[..., m:], x[..., :m]): pairs dimension i with i + m."""
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    """x (T, H, hd), cos/sin (T, hd) -> x cos + rotate_half(x) sin (HF's rotate_half layout)."""
    return x * cos[:, None, :] + rotate_half(x) * sin[:, None, :]


def causal_attention(q, k, v, scale, sliding_window=None, pattern_hook=None):
    """Causal softmax attention with grouped KV heads.

    q (T, H, hd), k and v (T, Hkv, hd) -> z (T, H, hd). Query head h reads KV head h // (H / Hkv)
    (HF's repeat_kv). Position i attends to j <= i (and i - j < sliding_window when given).
    """
    T, H, hd = q.shape
    group = H // k.shape[1]
    k = k.repeat_interleave(group, dim=1)                       # (T, H, hd)
    v = v.repeat_interleave(group, dim=1)                       # (T, H, hd)
    scores = torch.einsum("ihd,jhd->hij", q, k) * scale         # (H, T, T)
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    allowed = j <= i
    if sliding_window is not None:
        allowed = allowed & (i - j < sliding_window)
    scores = scores.masked_fill(~allowed, float("-inf"))
    probs = torch.softmax(scores, dim=-1)                       # (H, T, T)
    if pattern_hook is not None:
        probs = pattern_hook(probs)
    return torch.einsum("hij,jhd->ihd", probs, v)               # (T, H, hd)


# =============================================================================================
# Hook sites: record, scale, or replace an activation by a gradient leaf
# =============================================================================================

class Hooks:
    """Applied at every site as `h = hooks(name, h)`.

    scales:    site -> (d,) vector multiplied into the activation at every position
    grad_site: the site whose (post-scale) activation becomes a leaf tensor with requires_grad
    record:    sites whose (post-scale) activation is kept in `values`
    """

    def __init__(self, record=(), scales=None, grad_site=None):
        self.record = set(record)
        self.scales = dict(scales or {})
        self.grad_site = grad_site
        self.values: Dict[str, torch.Tensor] = {}
        self.leaf: Optional[torch.Tensor] = None
        self.seen: List[str] = []

    def __call__(self, name: str, h: torch.Tensor) -> torch.Tensor:
        self.seen.append(name)
        if name in self.scales:
            scale = self.scales[name]
            if name.endswith(".attn.hook_pattern"):
                raise InputError(f"{name} is record only")
            if name.endswith(".attn.hook_z.heads"):  # h (T, H, hd): one factor per head
                if scale.shape != (h.shape[1],):
                    raise InputError(f"scale for {name} has shape {list(scale.shape)}, the model has {h.shape[1]} heads")
                h = h * scale.to(h.dtype)[None, :, None]
            else:
                if scale.shape != (h.shape[-1],):
                    raise InputError(f"scale for {name} has shape {list(scale.shape)}, site width is {h.shape[-1]}")
                h = h * scale.to(h.dtype)
        if name == self.grad_site:
            h = h.detach().clone().requires_grad_(True)
            self.leaf = h
        if name in self.record or name == self.grad_site:
            self.values[name] = h
        return h


# =============================================================================================
# Blocks and models
# =============================================================================================

class Weights:
    """Tensor lookup by HF name, converted to the compute dtype; remembers which names were used."""

    def __init__(self, tensors: Dict[str, np.ndarray], dtype, prefix=""):
        self.tensors, self.dtype, self.prefix = tensors, dtype, prefix
        self.used = set()

    def has(self, name):
        return (self.prefix + name) in self.tensors

    def __call__(self, name, shape=None):
        full = self.prefix + name
        if full not in self.tensors:
            raise InputError(f"checkpoint has no tensor {full}")
        arr = self.tensors[full]
        if shape is not None and tuple(arr.shape) != tuple(shape):
            raise InputError(f"tensor {full} has shape {list(arr.shape)}, config implies {list(shape)}")
        self.used.add(full)
        return torch.from_numpy(np.asarray(arr, dtype=np.float64)).to(self.dtype)

    def optional(self, name, flag, shape):
        return self(name, shape) if flag else None


def llama_block(layer, x, cfg: Config, w: Weights, cos, sin, hooks: Hooks):
    """One Llama/Mistral/Qwen2/Qwen3 decoder layer (pre-norm, RMSNorm, RoPE, GQA, gated MLP).

    x (T, d) -> (T, d).
    """
    p = f"model.layers.{layer}."
    T, d = x.shape
    H, Hkv, hd, ff = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim, cfg.intermediate_size
    x = hooks(f"blocks.{layer}.hook_resid_pre", x)

    # --- attention ---
    a = rms_norm(x, w(p + "input_layernorm.weight", (d,)), cfg.norm_eps)                # (T, d)
    q = linear(a, w(p + "self_attn.q_proj.weight", (H * hd, d)),
               w.optional(p + "self_attn.q_proj.bias", cfg.qkv_bias, (H * hd,))).view(T, H, hd)
    k = linear(a, w(p + "self_attn.k_proj.weight", (Hkv * hd, d)),
               w.optional(p + "self_attn.k_proj.bias", cfg.qkv_bias, (Hkv * hd,))).view(T, Hkv, hd)
    v = linear(a, w(p + "self_attn.v_proj.weight", (Hkv * hd, d)),
               w.optional(p + "self_attn.v_proj.bias", cfg.qkv_bias, (Hkv * hd,))).view(T, Hkv, hd)
    # TransformerLens hook_q / hook_k: the projections, before q/k-norm and RoPE
    q = hooks(f"blocks.{layer}.attn.hook_q", q.reshape(T, H * hd)).view(T, H, hd)
    k = hooks(f"blocks.{layer}.attn.hook_k", k.reshape(T, Hkv * hd)).view(T, Hkv, hd)
    v = hooks(f"blocks.{layer}.attn.hook_v", v.reshape(T, Hkv * hd)).view(T, Hkv, hd)
    if cfg.qk_norm:  # Qwen3: RMSNorm over head_dim of every head, before RoPE
        q = rms_norm(q, w(p + "self_attn.q_norm.weight", (hd,)), cfg.norm_eps)
        k = rms_norm(k, w(p + "self_attn.k_norm.weight", (hd,)), cfg.norm_eps)
    q = apply_rope(q, cos, sin)
    k = apply_rope(k, cos, sin)
    z = causal_attention(q, k, v, hd ** -0.5, cfg.sliding_window,
                         lambda pr: hooks(f"blocks.{layer}.attn.hook_pattern", pr))   # (T, H, hd)
    z = hooks(f"blocks.{layer}.attn.hook_z", z.reshape(T, H * hd))                     # (T, H*hd)
    z = hooks(f"blocks.{layer}.attn.hook_z.heads", z.view(T, H, hd)).reshape(T, H * hd)
    attn_out = linear(z, w(p + "self_attn.o_proj.weight", (d, H * hd)),
                      w.optional(p + "self_attn.o_proj.bias", cfg.o_bias, (d,)))       # (T, d)
    attn_out = hooks(f"blocks.{layer}.hook_attn_out", attn_out)
    x = hooks(f"blocks.{layer}.hook_resid_mid", x + attn_out)

    # --- gated MLP: down(act(gate(m)) * up(m)) ---
    m = rms_norm(x, w(p + "post_attention_layernorm.weight", (d,)), cfg.norm_eps)     # (T, d)
    gate = linear(m, w(p + "mlp.gate_proj.weight", (ff, d)),
                  w.optional(p + "mlp.gate_proj.bias", cfg.mlp_bias, (ff,)))          # (T, ff)
    up = linear(m, w(p + "mlp.up_proj.weight", (ff, d)),
                w.optional(p + "mlp.up_proj.bias", cfg.mlp_bias, (ff,)))              # (T, ff)
    hidden = hooks(f"blocks.{layer}.mlp.hook_post", ACTIVATIONS[cfg.activation](gate) * up)
    mlp_out = linear(hidden, w(p + "mlp.down_proj.weight", (d, ff)),
                     w.optional(p + "mlp.down_proj.bias", cfg.mlp_bias, (d,)))        # (T, d)
    mlp_out = hooks(f"blocks.{layer}.hook_mlp_out", mlp_out)
    return hooks(f"blocks.{layer}.hook_resid_post", x + mlp_out)


def llama_forward(tokens, cfg: Config, w: Weights, hooks: Hooks):
    """tokens (T,) -> logits (T, V)."""
    T, d = len(tokens), cfg.hidden_size
    embed = w("model.embed_tokens.weight", (cfg.vocab_size, d))                        # (V, d)
    x = hooks("hook_embed", embed[torch.tensor(tokens)])                               # (T, d)
    cos, sin = rope_cos_sin(rope_inv_freq(cfg), T, w.dtype)                            # (T, hd)
    for layer in range(cfg.num_layers):
        x = llama_block(layer, x, cfg, w, cos, sin, hooks)
    x = hooks("ln_final.hook_normalized", rms_norm(x, w("model.norm.weight", (d,)), cfg.norm_eps))
    if cfg.tie_word_embeddings or not w.has("lm_head.weight"):
        unembed = embed
    else:
        unembed = w("lm_head.weight", (cfg.vocab_size, d))
    return x @ unembed.t()                                                             # (T, V)


def gpt2_block(layer, x, cfg: Config, w: Weights, hooks: Hooks):
    """One GPT-2 block (pre-LayerNorm, fused Conv1D qkv, learned positions elsewhere, GELU MLP).

    x (T, d) -> (T, d).
    """
    p = f"h.{layer}."
    T, d = x.shape
    H, hd, ff = cfg.num_heads, cfg.head_dim, cfg.intermediate_size
    eps = cfg.norm_eps
    x = hooks(f"blocks.{layer}.hook_resid_pre", x)

    # --- attention ---
    a = layer_norm(x, w(p + "ln_1.weight", (d,)), w(p + "ln_1.bias", (d,)), eps)      # (T, d)
    qkv = conv1d(a, w(p + "attn.c_attn.weight", (d, 3 * d)), w(p + "attn.c_attn.bias", (3 * d,)))
    q, k, v = (hooks(f"blocks.{layer}.attn.hook_{n}", t).reshape(T, H, hd)
               for n, t in zip("qkv", qkv.split(d, dim=-1)))                           # (T, H, hd)
    scale = hd ** -0.5 if cfg.scale_attn_weights else 1.0
    if cfg.scale_attn_by_inverse_layer_idx:
        scale /= float(layer + 1)
    z = causal_attention(q, k, v, scale, None, lambda pr: hooks(f"blocks.{layer}.attn.hook_pattern", pr))
    z = hooks(f"blocks.{layer}.attn.hook_z", z.reshape(T, d))
    z = hooks(f"blocks.{layer}.attn.hook_z.heads", z.view(T, H, hd)).reshape(T, d)
    attn_out = conv1d(z, w(p + "attn.c_proj.weight", (d, d)), w(p + "attn.c_proj.bias", (d,)))
    attn_out = hooks(f"blocks.{layer}.hook_attn_out", attn_out)
    x = hooks(f"blocks.{layer}.hook_resid_mid", x + attn_out)

    # --- MLP: c_proj(act(c_fc(m))) ---
    m = layer_norm(x, w(p + "ln_2.weight", (d,)), w(p + "ln_2.bias", (d,)), eps)      # (T, d)
    pre = conv1d(m, w(p + "mlp.c_fc.weight", (d, ff)), w(p + "mlp.c_fc.bias", (ff,)))  # (T, ff)
    hidden = hooks(f"blocks.{layer}.mlp.hook_post", ACTIVATIONS[cfg.activation](pre))
    mlp_out = conv1d(hidden, w(p + "mlp.c_proj.weight", (ff, d)), w(p + "mlp.c_proj.bias", (d,)))
    mlp_out = hooks(f"blocks.{layer}.hook_mlp_out", mlp_out)
    return hooks(f"blocks.{layer}.hook_resid_post", x + mlp_out)


def gpt2_forward(tokens, cfg: Config, w: Weights, hooks: Hooks):
    """tokens (T,) -> logits (T, V). Token + learned position embeddings; lm_head = wte."""
    T, d = len(tokens), cfg.hidden_size
    if T > cfg.max_positions:
        raise InputError(f"{T} tokens exceed n_positions {cfg.max_positions}")
    wte = w("wte.weight", (cfg.vocab_size, d))                                         # (V, d)
    wpe = w("wpe.weight", (cfg.max_positions, d))                                      # (P, d)
    x = hooks("hook_embed", wte[torch.tensor(tokens)]) + hooks("hook_pos_embed", wpe[:T])  # (T, d)
    for layer in range(cfg.num_layers):
        x = gpt2_block(layer, x, cfg, w, hooks)
    x = hooks("ln_final.hook_normalized", layer_norm(x, w("ln_f.weight", (d,)), w("ln_f.bias", (d,)), cfg.norm_eps))
    return x @ wte.t()                                                                 # (T, V)


class Model:
    """A checkpoint directory: config plus tensors, run in one compute dtype."""

    def __init__(self, model_dir: str, dtype=torch.float64):
        cfg_path = os.path.join(model_dir, "config.json")
        if not os.path.exists(cfg_path):
            raise InputError(f"{model_dir} has no config.json")
        with open(cfg_path) as f:
            self.cfg = parse_config(json.load(f), cfg_path)
        tensors = load_checkpoint_tensors(model_dir)
        prefix = ""
        if self.cfg.arch == GPT2 and "wte.weight" not in tensors and "transformer.wte.weight" in tensors:
            prefix = "transformer."  # GPT2LMHeadModel saves its GPT2Model under "transformer."
        self.weights = Weights(tensors, dtype, prefix)
        self.dtype = dtype
        if self.cfg.arch != GPT2 and not self.cfg.tie_word_embeddings and "lm_head.weight" not in tensors:
            print("hf_reference: warning: tie_word_embeddings is false but lm_head.weight is absent;"
                  " using model.embed_tokens.weight as lm_head", file=sys.stderr)

    def site_names(self) -> List[str]:
        names = ["hook_embed", "ln_final.hook_normalized"] + (["hook_pos_embed"] if self.cfg.arch == GPT2 else [])
        for layer in range(self.cfg.num_layers):
            b = f"blocks.{layer}."
            names += [b + "hook_resid_pre", b + "attn.hook_z", b + "hook_resid_mid",
                      b + "mlp.hook_post", b + "hook_resid_post",
                      b + "attn.hook_q", b + "attn.hook_k", b + "attn.hook_v", b + "attn.hook_pattern",
                      b + "attn.hook_z.heads", b + "hook_attn_out", b + "hook_mlp_out"]
        return names

    def forward(self, tokens: List[int], hooks: Hooks) -> torch.Tensor:
        """tokens (T,) -> logits (T, V) in the compute dtype."""
        bad = [t for t in tokens if not 0 <= t < self.cfg.vocab_size]
        if bad:
            raise InputError(f"token id {bad[0]} is outside the vocabulary [0, {self.cfg.vocab_size})")
        if self.cfg.arch == GPT2:
            return gpt2_forward(tokens, self.cfg, self.weights, hooks)
        return llama_forward(tokens, self.cfg, self.weights, hooks)

    def unused_tensors(self) -> List[str]:
        ignorable = (".attn.bias", ".attn.masked_bias", "rotary_emb.inv_freq")  # buffers, not weights
        return sorted(n for n in self.weights.tensors
                      if n not in self.weights.used and not n.endswith(ignorable)
                      and not (n == "lm_head.weight" and self.cfg.tie_word_embeddings))


def sum_log_probs(logits, tokens, start):
    """L = sum_{t=start}^{T-1} log softmax(logits[t-1])[tokens[t]]; logits (T, V)."""
    targets = torch.tensor(tokens[start:])
    log_probs = torch.log_softmax(logits[start - 1:-1], dim=-1)                        # (T-start, V)
    return log_probs.gather(1, targets[:, None]).sum()


# =============================================================================================
# Command line
# =============================================================================================

def run(args) -> Dict[str, np.ndarray]:
    dtype = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    model = Model(args.model, dtype)
    tokens = [int(t) for t in args.tokens.split(",") if t.strip()]
    if not tokens:
        raise InputError("--tokens is empty")
    sites = [s for s in (args.sites or "").split(",") if s]
    scales = {}
    for spec in args.scale or []:
        site, sep, path = spec.rpartition(":")
        if not sep or not site:
            raise InputError(f"--scale {spec}: expected SITE:FILE")
        file_tensors = read_safetensors(path)
        if "scale" not in file_tensors:
            raise InputError(f"{path} has no tensor named scale")
        scales[site] = torch.from_numpy(file_tensors["scale"].astype(np.float64).reshape(-1))
    if args.grad_site is not None:
        if args.from_pos is None or not 1 <= args.from_pos < len(tokens):
            raise InputError(f"--from must be in [1, {len(tokens) - 1}] with --grad-site")
    known = set(model.site_names())
    for s in sites + list(scales) + ([args.grad_site] if args.grad_site else []):
        if s not in known:
            raise InputError(f"unknown site {s} (e.g. blocks.0.hook_resid_post, blocks.0.mlp.hook_post)")
    if args.grad_site is not None and args.grad_site.endswith(".attn.hook_pattern"):
        raise InputError(f"{args.grad_site} is record only")

    hooks = Hooks(record=sites, scales=scales, grad_site=args.grad_site)
    out = {}
    with torch.set_grad_enabled(args.grad_site is not None):
        logits = model.forward(tokens, hooks)
        if args.grad_site is not None:
            loss = sum_log_probs(logits, tokens, args.from_pos)
            (grad,) = torch.autograd.grad(loss, hooks.leaf)                              # (T, d_site)
            h = hooks.leaf.detach()
            out["loss"] = loss.detach().reshape(1)
            out["grad"] = grad
            # (d_site,); per head for hook_z.heads: the sum over positions and head_dim
            out["scale_grad"] = (h * grad).sum((0, 2)) if h.dim() == 3 else (h * grad).sum(0)
    for name in model.unused_tensors():
        print(f"hf_reference: warning: tensor {name} is not used by {model.cfg.arch}", file=sys.stderr)
    out["logits"] = logits.detach()
    for name, value in hooks.values.items():
        out[name] = value.detach()
    np_dtype = np.float64 if args.out_dtype == "f64" else np.float32
    return {name: t.to(torch.float64).numpy().astype(np_dtype) for name, t in out.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="checkpoint directory (config.json + safetensors)")
    parser.add_argument("--tokens", required=True, help="comma-separated token ids")
    parser.add_argument("--out", required=True, help="output safetensors file")
    parser.add_argument("--sites", default="", help="comma-separated hook sites to write")
    parser.add_argument("--grad-site", default=None, help="site to differentiate the log-likelihood at")
    parser.add_argument("--from", dest="from_pos", type=int, default=None,
                        help="first scored position K >= 1 of the log-likelihood (with --grad-site)")
    parser.add_argument("--scale", action="append", metavar="SITE:FILE",
                        help="multiply SITE by the (d,) tensor 'scale' of FILE at every position")
    parser.add_argument("--dtype", choices=["float64", "float32", "bfloat16"], default="float64", help="compute dtype")
    parser.add_argument("--out-dtype", choices=["f32", "f64"], default="f32", help="dtype of written tensors")
    args = parser.parse_args(argv)
    try:
        write_safetensors(args.out, run(args))
    except InputError as e:
        print(f"hf_reference: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
