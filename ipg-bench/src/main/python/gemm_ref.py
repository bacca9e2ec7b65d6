#!/usr/bin/env python3
"""Reference GEMM timings for `ipg-bench gemm`: numpy float32 `x @ w.T` (OpenBLAS sgemm).

Protocol (one request per line on stdin, one JSON answer per line on stdout):
    request:  {"m": 512, "n": 896, "k": 896, "warmup_s": 1.0, "min_reps": 5, "budget_s": 3.0}
    answer:   {"m": ..., "n": ..., "k": ..., "gflops": <median>, "best_gflops": ..., "reps": ...}
The first line written is a hello with the numpy version and BLAS configuration.
The thread count is whatever OPENBLAS_NUM_THREADS says (the Java side sets it).
"""
import json
import os
import sys
import time

try:
    import numpy as np
except ImportError as e:  # a clear message, not a traceback
    sys.stderr.write("gemm_ref.py: numpy is not installed for %s (%s); install python3-numpy or pass --python\n"
                     % (sys.executable, e))
    sys.exit(3)


def blas_libraries():
    """The BLAS shared objects actually mapped into this process (after one matmul)."""
    np.ones((64, 64), dtype=np.float32) @ np.ones((64, 64), dtype=np.float32)
    found = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower():
                    found.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(found)


def main():
    rng = np.random.default_rng(1)
    weights = {}
    print(json.dumps({"hello": True, "numpy": np.__version__, "blas": blas_libraries(),
                      "python": sys.version.split()[0],
                      "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS")}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        m, n, k = int(req["m"]), int(req["n"]), int(req["k"])
        if (n, k) not in weights:
            weights.clear()  # keep one weight matrix alive at a time (the LM head is 0.5 GB)
            weights[(n, k)] = (rng.random((n, k), dtype=np.float32) - 0.5)
        w = weights[(n, k)]
        x = rng.random((m, k), dtype=np.float32) - 0.5
        out = np.empty((m, n), dtype=np.float32)
        wt = w.T
        # warm up: at least two calls and warmup_s seconds
        t_end = time.perf_counter() + float(req.get("warmup_s", 1.0))
        calls = 0
        while calls < 2 or time.perf_counter() < t_end:
            np.matmul(x, wt, out=out)
            calls += 1
        secs = []
        t_budget = time.perf_counter() + float(req.get("budget_s", 3.0))
        while len(secs) < int(req.get("min_reps", 5)) or (time.perf_counter() < t_budget and len(secs) < 200):
            t0 = time.perf_counter()
            np.matmul(x, wt, out=out)
            secs.append(time.perf_counter() - t0)
        med = sorted(secs)[len(secs) // 2]
        print(json.dumps({"m": m, "n": n, "k": k, "gflops": 2.0 * m * n * k / med / 1e9,
                          "best_gflops": 2.0 * m * n * k / min(secs) / 1e9, "reps": len(secs)}), flush=True)


if __name__ == "__main__":
    main()
