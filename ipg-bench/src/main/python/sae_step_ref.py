#!/usr/bin/env python3
"""PyTorch reference for `ipg-bench sae`: the TopK SAE training step of ipg's TopKTrainer
(Gao et al. 2024) and the encoding of one row, on the same shapes, timed on the CPU.

Step: pre = relu((x - b_dec) W_enc^T + b_enc); the k largest kept (f), x_hat = f W_dec + b_dec;
loss = |x_hat - x|^2 / |x - mean(x)|^2 (the FVU); backward; the decoder gradient's component
along each (unit-norm) decoder row removed; Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8); decoder
rows renormalized. AuxK is left out on both sides of the comparison: no latent is dead in a
few steps, so it costs nothing in ipg either. Rows are Gaussian; prints one JSON object.
"""
import argparse
import json
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--latents", type=int, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--encodes", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(a.seed)
    d, n, k = a.d, a.latents, a.k
    w_dec = torch.randn(n, d, generator=g)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    w_enc = torch.nn.Parameter(w_dec.clone())
    w_dec = torch.nn.Parameter(w_dec)
    b_enc = torch.nn.Parameter(torch.zeros(n))
    b_dec = torch.nn.Parameter(torch.zeros(d))
    opt = torch.optim.Adam([w_enc, b_enc, w_dec, b_dec], lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    x = torch.randn(a.batch, d, generator=g)

    def step():
        pre = torch.relu((x - b_dec) @ w_enc.T + b_enc)
        vals, idx = pre.topk(k, dim=1)
        f = torch.zeros_like(pre).scatter(1, idx, vals)
        x_hat = f @ w_dec + b_dec
        total = ((x - x.mean(0)) ** 2).sum()
        loss = ((x_hat - x) ** 2).sum() / total
        opt.zero_grad(set_to_none=False)
        loss.backward()
        with torch.no_grad():
            w_dec.grad.sub_((w_dec.grad * w_dec).sum(1, keepdim=True) * w_dec)
        opt.step()
        with torch.no_grad():
            w_dec.div_(w_dec.norm(dim=1, keepdim=True))
        return float(loss)

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    fvu = 0.0
    for _ in range(a.steps):
        fvu = step()
    dt = time.perf_counter() - t0

    row = torch.randn(1, d, generator=g)
    with torch.no_grad():
        for _ in range(5):
            torch.relu((row - b_dec) @ w_enc.T + b_enc).topk(k, dim=1)
        t1 = time.perf_counter()
        for _ in range(a.encodes):
            pre = torch.relu((row - b_dec) @ w_enc.T + b_enc)
            vals, idx = pre.topk(k, dim=1)
            torch.zeros_like(pre).scatter(1, idx, vals)
        de = time.perf_counter() - t1
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "steps": a.steps, "seconds": dt,
                      "rows_per_s": a.batch * a.steps / dt, "last_fvu": fvu,
                      "encode_ms_per_row": 1000 * de / a.encodes}))


if __name__ == "__main__":
    main()
