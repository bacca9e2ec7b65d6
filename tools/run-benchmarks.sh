#!/usr/bin/env bash
# Runs every ipg-bench comparison (ipg vs OpenBLAS / PyTorch, same run, same machine) and keeps
# the JSON results in bench-out/. Run it on an otherwise idle machine; BENCHMARKS.md reports them.
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
case "$what" in all|model) bench model --out bench-out/model.json | tee bench-out/model.txt ;; esac
case "$what" in all|grad) bench grad --lengths 256,1024 --out bench-out/grad.json | tee bench-out/grad.txt ;; esac
case "$what" in all|hash) bench hash --out bench-out/hash.json | tee bench-out/hash.txt ;; esac
case "$what" in all|ipg) bench ipg --out bench-out/ipg.json | tee bench-out/ipg.txt
  bench ipg --model models/ipg-demo --prompts 8 --out bench-out/ipg-demo.json | tee bench-out/ipg-demo.txt ;; esac
case "$what" in all|sae) bench sae --out bench-out/sae.json | tee bench-out/sae.txt ;; esac
