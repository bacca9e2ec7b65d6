#!/usr/bin/env python3
"""PyTorch side of `ipg-bench ipg`: the Integrated Policy Gradient estimator run by eager PyTorch.

The model is torch_model_bench.py's (same checkpoint file, memory-mapped, same numerics). One
prompt at one site, on-path sampling, the right Riemann rule (alpha_k = k/q, weights 1/q) plus the
alpha = 0 point of the completeness check, as `ipg attribute` computes it by default:

    IPG(i) = sum_k (1/q) (1/N) sum_n A_{n,k} d log pi(tau_{n,k}; h(alpha_k)) / d alpha_i

with h(alpha) = h' + alpha (h - h') at every position >= --positions-from (zero baseline h'),
A the GRPO advantages of the group's rewards and log pi the tempered policy log softmax(logits/T).

Modes
    bench      times one prompt: batched sampling of all (q + 1) N sequences (at most 64 rows per
               batch, as ipg) with the interpolation hook (one alpha per row) and a KV cache, then
               for each path point one autograd backward of its packed trajectories to the
               per-component coefficients alpha (a leaf of shape (d,)). Rewards are the bench's
               synthetic ones (sum of the completion's ids mod 3, so groups are mixed and every
               point is back-propagated). Prints one JSON object with sampling/backward seconds.
    backward   reads trajectories written by `ipg-bench ipg --trajectories-out FILE` (prompt, site,
               temperature, and per path point alpha, weight, completions, advantages) and runs only
               the backward on them; prints {"ipg": [...], "contributions": [[...], ...]} so the two
               implementations can be compared on the same samples.
"""

import argparse
import json
import os
import sys
import time

import torch
from torch.utils.checkpoint import checkpoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_model_bench as tmb  # noqa: E402

MAX_BATCH = 64
GRPO_EPS = 1e-4


def log(msg):
    print(f"[torch-ipg] {msg}", file=sys.stderr, flush=True)


def grpo(rewards):
    """(r - mean) / (std + 1e-4) with the sample std (N - 1); all zeros when all rewards are equal."""
    n = len(rewards)
    if n < 2 or all(r == rewards[0] for r in rewards):
        return [0.0] * n
    mean = sum(rewards) / n
    std = (sum((r - mean) ** 2 for r in rewards) / (n - 1)) ** 0.5
    return [(r - mean) / (std + GRPO_EPS) for r in rewards]


def synthetic_rewards(completions):
    return [float(sum(c) % 3) for c in completions]


def interpolating_site(site_name, alpha, positions_from, start=0):
    """A site hook replacing h by alpha * h (zero baseline) at positions >= positions_from.

    alpha is (d,) (shared by the batch) or (B, 1, d) (one path point per row)."""

    def site(name, h):
        if name != site_name:
            return h
        T = h.shape[1]
        a = alpha.to(h.dtype)
        if start >= positions_from:
            return a * h
        pos = torch.arange(start, start + T)
        keep = (pos < positions_from)[None, :, None]
        return torch.where(keep, h, a * h)

    return site


def sample(model, prompt, site_name, alphas, samples, temperature, new_tokens, positions_from, seed):
    """N completions for each alpha in `alphas` (None: the unmodified model), all groups batched."""
    c = model.c
    gen = torch.Generator().manual_seed(seed)
    rows_alpha = [a for a in alphas for _ in range(samples)]
    per = max(1, MAX_BATCH // samples) * samples
    d = c["d"]
    out = []
    with torch.inference_mode():
        for r0 in range(0, len(rows_alpha), per):
            chunk = rows_alpha[r0:r0 + per]
            B = len(chunk)
            alpha = torch.tensor([1.0 if a is None else a for a in chunk], dtype=torch.float32)[:, None, None].expand(B, 1, d)
            cache = tmb.KVCache(c, B, len(prompt) + new_tokens, model.dtype)
            tokens = torch.tensor(prompt)[None, :].expand(B, -1)
            h = model.hidden(tokens, cache, 0, interpolating_site(site_name, alpha, positions_from, 0))
            gen_tokens = []
            for step in range(new_tokens):
                logits = model.logits(h[:, -1])
                probs = torch.softmax(logits / temperature, -1)
                nxt = torch.multinomial(probs, 1, generator=gen)[:, 0]
                gen_tokens.append(nxt)
                if step + 1 == new_tokens:
                    break
                start = cache.length
                h = model.hidden(nxt[:, None], cache, start, interpolating_site(site_name, alpha, positions_from, start))
            out.extend(torch.stack(gen_tokens, 1).tolist())
    return [out[g * samples:(g + 1) * samples] for g in range(len(alphas))]


def tempered_log_prob(model, h, targets, temperature):
    return torch.log_softmax(model.logits(h) / temperature, -1).gather(-1, targets[:, None])[:, 0]


def point_backward(model, prompt, site_name, alpha, completions, coefs, temperature, positions_from, loss_chunk):
    """d/dalpha of sum_j coefs[j] sum_{t >= len(prompt)} log pi(x_t | x_<t) at the path point alpha:
    the trajectories are packed as one batch (right-padded; causal attention keeps the padding out
    of earlier positions and the loss masks it)."""
    d = model.c["d"]
    P = len(prompt)
    seqs = [list(prompt) + list(cmp) for cmp in completions]
    T = max(len(s) for s in seqs)
    B = len(seqs)
    tokens = torch.zeros(B, T, dtype=torch.long)
    rows_b, rows_t, weights = [], [], []
    for b, s in enumerate(seqs):
        tokens[b, :len(s)] = torch.tensor(s)
        for t in range(P, len(s)):
            rows_b.append(b)
            rows_t.append(t)
            weights.append(coefs[b])
    a = torch.full((d,), float(alpha), dtype=torch.float32, requires_grad=True)
    with torch.enable_grad():
        h = model.hidden(tokens, None, 0, interpolating_site(site_name, a, positions_from, 0))
        rb, rt = torch.tensor(rows_b), torch.tensor(rows_t)
        hs = h[rb, rt - 1]                                                     # (rows, d) predicts x_t
        targets = tokens[rb, rt]
        w = torch.tensor(weights, dtype=torch.float32)
        loss = 0.0
        n = hs.shape[0]
        step = n if loss_chunk <= 0 else loss_chunk
        for s in range(0, n, step):
            lp = checkpoint(tempered_log_prob, model, hs[s:s + step], targets[s:s + step], temperature,
                            use_reentrant=False)
            loss = loss + (lp.float() * w[s:s + step]).sum()
        (g,) = torch.autograd.grad(loss, a)
    return g.double()


def run_backward(model, spec, loss_chunk):
    prompt = spec["prompt"]
    site = spec["site"]
    temperature = spec["temperature"]
    pf = spec.get("positions_from", 0)
    total = None
    contributions = []
    t0 = time.perf_counter()
    for node in spec["nodes"]:
        n = len(node["completions"])
        active = [(c, a * node["weight"] / n) for c, a in zip(node["completions"], node["advantages"]) if a != 0]
        if not active:
            g = torch.zeros(model.c["d"], dtype=torch.float64)
        else:
            g = point_backward(model, prompt, site, node["alpha"], [c for c, _ in active], [w for _, w in active],
                               temperature, pf, loss_chunk)
        contributions.append(g.tolist())
        total = g if total is None else total + g
    return {"ipg": total.tolist(), "contributions": contributions, "backward_seconds": time.perf_counter() - t0}


def run_bench(model, args, prompt):
    q, n = args.steps, args.samples
    alphas = [(k + 1) / q for k in range(q)]
    extra = [0.0]                                                              # completeness: Jbar(0)
    site = args.site
    t0 = time.perf_counter()
    groups = sample(model, prompt, site, alphas + extra, n, args.temperature, args.new_tokens, args.positions_from,
                    args.seed)
    sampling = time.perf_counter() - t0
    log(f"sampling: {sampling:.2f} s for {(q + 1) * n} sequences of {args.new_tokens} tokens")
    nodes = []
    for k, alpha in enumerate(alphas):
        comps = groups[k]
        nodes.append({"alpha": alpha, "weight": 1.0 / q, "completions": comps,
                      "advantages": grpo(synthetic_rewards(comps))})
    spec = {"prompt": prompt, "site": site, "temperature": args.temperature, "positions_from": args.positions_from,
            "nodes": nodes}
    res = run_backward(model, spec, args.loss_chunk)
    log(f"backward: {res['backward_seconds']:.2f} s")
    scores = torch.tensor(res["ipg"])
    return {"sampling_seconds": sampling, "backward_seconds": res["backward_seconds"],
            "seconds": sampling + res["backward_seconds"], "generated_tokens": (q + 1) * n * args.new_tokens,
            "ipg_sum": float(scores.sum()), "ipg_abs_max": float(scores.abs().max())}


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch CPU implementation of the IPG estimator (bench / backward)")
    ap.add_argument("--model", required=True, help="checkpoint directory")
    ap.add_argument("--mode", choices=["bench", "backward"], default="bench")
    ap.add_argument("--trajectories", help="backward mode: JSON written by ipg-bench ipg --trajectories-out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10, help="q, path points")
    ap.add_argument("--samples", type=int, default=5, help="N, samples per point")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--new-tokens", type=int, default=128, help="tokens generated per sample (no early stop)")
    ap.add_argument("--prompt", default="", help="bench mode: prompts as comma-separated token ids, prompts separated by ';'")
    ap.add_argument("--site", default="blocks.12.hook_resid_post")
    ap.add_argument("--positions-from", type=int, default=0, help="first interpolated position")
    ap.add_argument("--loss-chunk", type=int, default=128, help="rows per checkpointed log-softmax chunk (0: all)")
    ap.add_argument("--bf16-compute", choices=["bf16", "upcast"], default="bf16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="also write the JSON result to this file")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    # tiny softmax gradients of the LM head are subnormal; ipg flushes them, so does the reference
    torch.set_flush_denormal(True)
    try:
        t0 = time.perf_counter()
        c = tmb.read_config(args.model)
        model = tmb.Model(c, tmb.load_tensors(args.model), args.bf16_compute)
        load_s = time.perf_counter() - t0
        result = {"engine": "pytorch", "torch_version": torch.__version__, "threads": torch.get_num_threads(),
                  "weights_dtype": str(model.weight_dtype).replace("torch.", ""),
                  "compute_dtype": str(model.dtype).replace("torch.", ""), "load_seconds": round(load_s, 3)}
        if args.mode == "backward":
            if not args.trajectories:
                raise tmb.InputError("--mode backward needs --trajectories FILE")
            with open(args.trajectories) as f:
                spec = json.load(f)
            result.update(run_backward(model, spec, args.loss_chunk))
        else:
            prompts = [[int(x) for x in p.split(",") if x] for p in args.prompt.split(";")]
            if not prompts or not all(prompts):
                raise tmb.InputError("--prompt needs at least one token id per prompt")
            # warm-up: one tiny estimator run (first calls allocate and pick kernels)
            warm = argparse.Namespace(**{**vars(args), "steps": 1, "samples": 2, "new_tokens": 2})
            run_bench(model, warm, prompts[0][:4])
            runs = []
            for p, prompt in enumerate(prompts):
                runs.append(run_bench(model, argparse.Namespace(**{**vars(args), "seed": args.seed + p}), prompt))
                log(f"prompt {p}: {runs[-1]['seconds']:.2f} s (sampling {runs[-1]['sampling_seconds']:.2f} s, "
                    f"backward {runs[-1]['backward_seconds']:.2f} s)")
            for key in ("seconds", "sampling_seconds", "backward_seconds"):
                result[key + "_per_prompt"] = sum(r[key] for r in runs) / len(runs)
            result["runs"] = runs
        result["peak_rss_mb"] = round(tmb.peak_rss_mb(), 1)
    except tmb.InputError as e:
        print(f"torch_ipg_bench: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
