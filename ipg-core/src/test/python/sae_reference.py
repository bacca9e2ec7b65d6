#!/usr/bin/python3
"""Independent numpy reference for ipg's SAE readers.

Writes SAE directories in the SAELens and EleutherAI sparsify layouts (safetensors written by
hand, as the format specifies), site activations z, and the latents and reconstructions numpy
computes from them (float64), following each library's conventions:

  SAELens:  x = norm_in(z) - b_dec * apply_b_dec_to_input; pre = x @ W_enc + b_enc
            standard: relu(pre); jumprelu: relu(pre) * (pre > threshold);
            topk: the k largest of pre, relu'd; z_hat = norm_out(f @ W_dec + b_dec)
  sparsify: f = topk(relu((z - b_dec) @ encoder.weight.T + encoder.bias)); z_hat = f @ W_dec + b_dec

Usage: sae_reference.py OUT_DIR D_IN
"""
import json
import os
import struct
import sys

import numpy as np


def write_safetensors(path, tensors):
    header = {}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype='<f4')
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def topk_mask(v, k):
    out = np.zeros_like(v)
    for r in range(v.shape[0]):
        idx = np.argsort(-v[r], kind="stable")[:k]
        out[r, idx] = 1.0
    return out


def saelens(z, W_enc, b_enc, W_dec, b_dec, arch, k=None, threshold=None, apply_b_dec=True, norm="none"):
    z = z.astype(np.float64)
    d = z.shape[1]
    if norm == "constant_norm_rescale":
        coeff = np.sqrt(d) / np.linalg.norm(z, axis=1, keepdims=True)
        x = z * coeff
        out = lambda y: y / coeff
    elif norm == "layer_norm":
        mu = z.mean(axis=1, keepdims=True)
        xc = z - mu
        std = xc.std(axis=1, ddof=1, keepdims=True)
        x = xc / (std + 1e-5)
        out = lambda y: y * std + mu
    else:
        x = z
        out = lambda y: y
    x = x - (b_dec if apply_b_dec else 0.0)
    pre = x @ W_enc + b_enc
    if arch == "standard":
        f = np.maximum(pre, 0)
    elif arch == "jumprelu":
        f = np.maximum(pre, 0) * (pre > threshold)
    else:
        f = np.maximum(pre, 0) * topk_mask(pre, k)
    return f, out(f @ W_dec + b_dec)


def sparsify(z, enc_w, enc_b, W_dec, b_dec, k):
    pre = np.maximum((z.astype(np.float64) - b_dec) @ enc_w.T + enc_b, 0)
    f = pre * topk_mask(pre, k)
    return f, f @ W_dec + b_dec


def main():
    out_dir, d = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(1234)
    n, k, T = 3 * d, 5, 7
    f32 = lambda a: a.astype(np.float32).astype(np.float64)
    z = f32(rng.normal(size=(T, d)) * 2.0 + 0.3)
    expected = {"z": z}

    def weights():
        return (f32(rng.normal(size=(d, n)) / np.sqrt(d)), f32(rng.normal(size=n) * 0.1),
                f32(rng.normal(size=(n, d)) / np.sqrt(n)), f32(rng.normal(size=d) * 0.2))

    cases = [
        ("saelens_topk", "topk", "none", True, True),
        ("saelens_jumprelu", "jumprelu", "none", True, True),
        ("saelens_relu_pre6_layer_norm", "standard", "layer_norm", False, False),
        ("saelens_topk_pre6_norm_rescale", "topk", "constant_norm_rescale", True, False),
    ]
    for name, arch, norm, apply_b_dec, v6 in cases:
        W_enc, b_enc, W_dec, b_dec = weights()
        threshold = f32(np.abs(rng.normal(size=n)) * 0.3) if arch == "jumprelu" else None
        path = os.path.join(out_dir, name)
        os.makedirs(path)
        tensors = {"W_enc": W_enc, "b_enc": b_enc, "W_dec": W_dec, "b_dec": b_dec}
        if threshold is not None:
            tensors["threshold"] = threshold
        write_safetensors(os.path.join(path, "sae_weights.safetensors"), tensors)
        if v6:
            cfg = {"architecture": arch, "d_in": d, "d_sae": n, "dtype": "float32", "device": "cpu",
                   "apply_b_dec_to_input": apply_b_dec, "normalize_activations": norm, "reshape_activations": "none",
                   "metadata": {"sae_lens_version": "6.5.1", "hook_name": "blocks.1.hook_resid_post",
                                "model_name": "tiny", "hook_head_index": None}}
            if arch == "topk":
                cfg["k"] = k
                cfg["rescale_acts_by_decoder_norm"] = False
        else:
            cfg = {"d_in": d, "d_sae": n, "dtype": "float32", "device": "cpu", "model_name": "tiny",
                   "hook_point": "blocks.1.hook_resid_post", "hook_point_layer": 1, "hook_point_head_index": None,
                   "apply_b_dec_to_input": apply_b_dec, "normalize_activations": norm,
                   "activation_fn_str": "topk" if arch == "topk" else "relu"}
            if arch == "topk":
                cfg["activation_fn_kwargs"] = {"k": k}
        with open(os.path.join(path, "cfg.json"), "w") as fh:
            json.dump(cfg, fh)
        f, z_hat = saelens(z, W_enc, b_enc, W_dec, b_dec, arch, k, threshold, apply_b_dec, norm)
        expected[name + "/latents"] = f
        expected[name + "/z_hat"] = z_hat

    root = os.path.join(out_dir, "sparsify_run")
    for layer, use_num_latents in ((0, False), (1, True)):
        W_enc, b_enc, W_dec, b_dec = weights()
        enc_w = W_enc.T.copy()
        path = os.path.join(root, "layers.%d" % layer)
        os.makedirs(path)
        write_safetensors(os.path.join(path, "sae.safetensors"),
                          {"encoder.weight": enc_w, "encoder.bias": b_enc, "W_dec": W_dec, "b_dec": b_dec})
        cfg = {"activation": "topk", "expansion_factor": 3 if not use_num_latents else 32, "normalize_decoder": True,
               "num_latents": n if use_num_latents else 0, "k": k, "multi_topk": False, "skip_connection": False,
               "transcode": False, "d_in": d}
        with open(os.path.join(path, "cfg.json"), "w") as fh:
            json.dump(cfg, fh)
        f, z_hat = sparsify(z, enc_w, b_enc, W_dec, b_dec, k)
        expected["sparsify_layers.%d/latents" % layer] = f
        expected["sparsify_layers.%d/z_hat" % layer] = z_hat
    with open(os.path.join(root, "config.json"), "w") as fh:
        json.dump({"hookpoints": ["layers.0", "layers.1"], "model": "tiny"}, fh)

    write_safetensors(os.path.join(out_dir, "expected.safetensors"), expected)


if __name__ == "__main__":
    main()
