#!/bin/sh
# Builds the optional native BF16 GEMM (bf16gemm.c) as OUT_DIR/libipgbf16.so, for the jar. Run by
# the Maven build (ipg-core, process-resources). On another OS or CPU architecture, or without gcc,
# it builds nothing and says so in one line: ipg then uses its Java BF16 path. A compile error
# fails the build.
set -eu
out_dir="$1"
src="$(dirname "$0")/bf16gemm.c"
lib="$out_dir/libipgbf16.so"
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) echo "native BF16 GEMM: not built (x86-64 Linux only; this is $(uname -s)/$(uname -m))"; exit 0 ;;
esac
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "native BF16 GEMM: not built ($cc not found); BF16 weights will use the Java path"
  exit 0
fi
if [ -f "$lib" ] && [ "$lib" -nt "$src" ] && [ "$lib" -nt "$0" ]; then
  exit 0
fi
mkdir -p "$out_dir"
# baseline target: only the kernel functions use AVX-512 / AMX (function target attributes)
"$cc" -O3 -fPIC -shared -Wall -Wextra -Werror -o "$lib.tmp" "$src"
mv "$lib.tmp" "$lib"
