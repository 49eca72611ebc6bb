#!/bin/bash
# Fourth GPU session: split-K for register-tiled products with few tiles. The five GEMM shapes of bench/RESULTS.md with
# the flags of run 1, a split-K sweep on 2048x3072x768 (the missed shape) and on two 256-row products of the training
# step, the training step, the conformance suite, and the cuBLAS reference for 2048x3072x768.
# Run: bash <bundle>/device-splitk.sh (log: $OUT/device-splitk.log).
set -u
B=$(cd "$(dirname "$0")" && pwd)
LOG=${OUT:-/tmp}/device-splitk.log
W=/tmp/sharpt
section() { echo; echo "=== $* ($(date +%T))"; }
run() { local t=$1; shift; echo "\$ $*"; timeout "$t" "$@"; local rc=$?; [ $rc -ne 0 ] && echo "(exit code $rc)"; return 0; }
{
section setup
rm -rf $W && mkdir -p $W && tar -C $W -xJf "$B/sharpt-linux-x64.tar.xz" && echo "bundle unpacked: $(du -sh $W | cut -f1)"
export DOTNET_ROOT=$W/dotnet PATH=$W/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1
LDC=$(command -v ldconfig || echo /sbin/ldconfig)
if ! $LDC -p | grep -qE 'libcuda\.so '; then
  so1=$($LDC -p | awk '/libcuda\.so\.1 / {print $NF; exit}')
  [ -n "$so1" ] && mkdir -p $W/lib && ln -sf "$so1" $W/lib/libcuda.so && export LD_LIBRARY_PATH=$W/lib:${LD_LIBRARY_PATH:-} && echo "linked libcuda.so -> $so1"
fi
S="dotnet $W/app/sharpt.dll"
C="dotnet $W/app/sharpt-conformance.dll"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader

section "GEMM, the five RESULTS.md shapes (Auto: register-tiled, split-K by size)"
run 60 $S bench gemm --backend ilgpu:cuda --m 4096 --k 4096 --n 4096 --seconds 2
run 45 $S bench gemm --backend ilgpu:cuda --m 2048 --k 768 --n 3072 --transpose-b --seconds 1
run 45 $S bench gemm --backend ilgpu:cuda --m 2048 --k 3072 --n 768 --transpose-b --seconds 1
run 45 $S bench gemm --backend ilgpu:cuda --m 2048 --k 768 --n 2304 --transpose-b --seconds 1
run 45 $S bench gemm --backend ilgpu:cuda --m 256 --k 768 --n 50257 --transpose-b --seconds 1

section "split-K sweep, 2048x3072x768 NT (96 tiles)"
for s in 1 2 3 4 5 6 8 11; do run 30 $S bench gemm --backend ilgpu:cuda --m 2048 --k 3072 --n 768 --transpose-b --seconds 0.5 --gemm-split-k $s; done

section "split-K on 256-row products of the training step (auto, then off)"
for shape in "256 3072 768" "256 768 3072" "256 768 768"; do
  set -- $shape
  run 30 $S bench gemm --backend ilgpu:cuda --m $1 --k $2 --n $3 --transpose-b --seconds 0.3
  run 30 $S bench gemm --backend ilgpu:cuda --m $1 --k $2 --n $3 --transpose-b --seconds 0.3 --gemm-split-k 1
done

section "conformance (ILGPU, CUDA)"
run 120 $C --backend ilgpu:cuda --model gpt2 --batch 2 --seq 64

section "GPT-2 124M training step (ILGPU, CUDA)"
run 60 $S bench train-step --model gpt2 --batch 4 --seq 64 --steps 10 --backend ilgpu:cuda

section "cuBLAS reference (torch fp32, TF32 off)"
run 60 python3 "$B/torch_reference.py" 2048x3072x768:nt

section done
} 2>&1 | tee "$LOG"
