#!/usr/bin/env bash
# Runs every ipg-bench comparison (ipg vs OpenBLAS / PyTorch, same run, same machine) and keeps
# the JSON results in bench-out/. Run it on an otherwise idle machine; BENCHMARKS.md reports them.
# One argument runs one group: gemm, bandwidth, model, grad, grad-long, hash, ipg, sampling,
# ipg-long, cold, sae or spark (default: all).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$here/tools/find-jdk.sh"
ipg_find_jdk
[ -n "$JAVA" ] || { ipg_no_jdk; exit 1; }
cd "$here"
./mvnw -q -B -DskipTests package
mkdir -p bench-out
bench() { "$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx16g -jar ipg-bench/target/ipg-bench.jar "$@" 2> >(grep -v 'WARNING: Using incubator' >&2); }
what="${1:-all}"
case "$what" in all|gemm) bench gemm --rounds 3 --out bench-out/gemm.json | tee bench-out/gemm.txt ;; esac
case "$what" in all|bandwidth) bench bandwidth --out bench-out/bandwidth.json | tee bench-out/bandwidth.txt ;; esac
case "$what" in all|model) bench model --out bench-out/model.json | tee bench-out/model.txt ;; esac
case "$what" in all|grad) bench grad --lengths 256,1024 --out bench-out/grad.json | tee bench-out/grad.txt ;; esac
# long trajectories on the 0.5B shape; PyTorch up to the length it fits in memory
case "$what" in all|grad-long) bench grad --lengths 256,1024,2048,4096,8192 --repeats 1 --out bench-out/grad-long.json \
  | tee bench-out/grad-long.txt ;; esac
case "$what" in all|hash) bench hash --out bench-out/hash.json | tee bench-out/hash.txt ;; esac
# the whole estimator, ipg vs the same estimator in PyTorch: 0.5B shape F32 and BF16, the bundled model
case "$what" in all|ipg) bench ipg --out bench-out/ipg.json | tee bench-out/ipg.txt
  bench ipg --dtype BF16 --out bench-out/ipg-bf16.json | tee bench-out/ipg-bf16.txt
  bench ipg --dtype BF16 --bf16-compute native --out bench-out/ipg-bf16-native.json | tee bench-out/ipg-bf16-native.txt
  bench ipg --model models/ipg-demo --prompts 8 --out bench-out/ipg-demo.json | tee bench-out/ipg-demo.txt ;; esac
# reuse-weighted vs on-path: seconds per prompt and agreement of the scores at equal cost
case "$what" in all|sampling) bench ipg --model models/ipg-demo --prompts 8 --compare-sampling --no-torch \
  --out bench-out/ipg-sampling-demo.json | tee bench-out/ipg-sampling-demo.txt
  bench ipg --compare-sampling --no-torch --out bench-out/ipg-sampling.json | tee bench-out/ipg-sampling.txt ;; esac
# long generations on the 1.5B shape (BF16, 3.1 GB)
case "$what" in all|ipg-long) for n in 512 2048; do
  bench ipg --shape qwen2.5-1.5b --dtype BF16 --new-tokens "$n" --out "bench-out/ipg-1.5b-$n.json" | tee "bench-out/ipg-1.5b-$n.txt"
  done ;; esac
# cold start: ipg logits on a 128-token prompt, each figure in its own fresh JVM
case "$what" in all|cold) bench cold --nmt --aot --out bench-out/cold.json | tee bench-out/cold.txt ;; esac
case "$what" in all|sae) bench sae --out bench-out/sae.json | tee bench-out/sae.txt ;; esac
# ipg attribute on 16 demo prompts: plain, embedded Spark, standalone clusters of 1 and 2 one-core workers
case "$what" in all|spark) bench spark --prompts 16 --executors 1,2 --out bench-out/spark.json | tee bench-out/spark.txt ;; esac
