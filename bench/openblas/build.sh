#!/usr/bin/env bash
# Builds the OpenBLAS reference harness (needs: apt-get install -y libopenblas-dev). Measuring tool only.
# Usage: bench/openblas/build.sh && OPENBLAS_CORETYPE=SkylakeX bench/openblas/sgemm_bench 256 768 3072 t 1
set -euo pipefail
cd "$(dirname "$0")"
gcc -O2 -std=c11 -Wall -Wextra -o sgemm_bench sgemm_bench.c -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
echo "built $(pwd)/sgemm_bench"
