#!/usr/bin/env bash
# Interleaved comparison of `sharpt bench gemm` against the OpenBLAS harness on the issue's shapes, both B layouts.
# Usage: bench/openblas/compare.sh [threads...] (default "1 2"); REPS=3 rounds, each alternating ours and OpenBLAS.
# Prints per-case medians over the rounds, their ratio, and the 1-minute load average (other processes) after the case. Build first: dotnet build -c Release && bench/openblas/build.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARPT=tools/SharpTransformer.Cli/bin/Release/net10.0/sharpt
OB=bench/openblas/sgemm_bench
REPS=${REPS:-3}
SHAPES=${SHAPES:-"256,768,768 256,768,3072 256,3072,768 256,768,50257"}
THREADS=${*:-1 2}
export OPENBLAS_CORETYPE=SkylakeX
med() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf "%-18s %-4s %-3s %9s %9s %7s %6s\n" "M,K,N" "B" "T" "ours" "openblas" "ratio" "load1"
for t in $THREADS; do
  for s in $SHAPES; do
    IFS=, read -r m k n <<<"$s"
    for layout in n t; do
      flag=""; [ "$layout" = t ] && flag="--transpose-b"
      ours=(); theirs=()
      for r in $(seq "$REPS"); do
        ours+=("$($SHARPT bench gemm --m "$m" --k "$k" --n "$n" $flag --threads "$t" | tail -1 | awk '{print $2}')")
        theirs+=("$(OPENBLAS_NUM_THREADS=$t $OB "$m" "$k" "$n" "$layout" "$t" 2>/dev/null | tail -1 | awk '{print $2}')")
      done
      o=$(printf "%s\n" "${ours[@]}" | med); b=$(printf "%s\n" "${theirs[@]}" | med)
      printf "%-18s %-4s %-3s %9s %9s %7s %6s\n" "$s" "$([ "$layout" = t ] && echo NxK || echo KxN)" "$t" "$o" "$b" \
        "$(awk -v o="$o" -v b="$b" 'BEGIN{printf "%.3f", o/b}')" "$(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done
