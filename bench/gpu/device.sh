#!/bin/bash
# The one GPU session for bench/RESULTS.md, run on the device machine (no .NET SDK there) from the bundle that
# make-bundle.sh builds: bash <bundle>/device.sh. Everything goes to $OUT/device.log (or /tmp/device.log).
# Each part has its own timeout so that one hang does not eat the rest.
set -u
B=$(cd "$(dirname "$0")" && pwd)
LOG=${OUT:-/tmp}/device.log
W=/tmp/sharpt
section() { echo; echo "=== $* ($(date +%T))"; }
run() { local t=$1; shift; echo "\$ $*"; timeout "$t" "$@"; local rc=$?; [ $rc -ne 0 ] && echo "(exit code $rc)"; return 0; }
{
section setup
rm -rf $W && mkdir -p $W && tar -C $W -xJf "$B/sharpt-linux-x64.tar.xz" && echo "bundle unpacked: $(du -sh $W | cut -f1)"
export DOTNET_ROOT=$W/dotnet PATH=$W/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1
# ILGPU imports the driver as "cuda" (libcuda.so); containers often carry only libcuda.so.1.
LDC=$(command -v ldconfig || echo /sbin/ldconfig)
$LDC -p | grep -E 'libcuda\.so' || echo "ldconfig lists no libcuda"
if ! $LDC -p | grep -qE 'libcuda\.so '; then
  so1=$($LDC -p | awk '/libcuda\.so\.1 / {print $NF; exit}')
  [ -z "$so1" ] && so1=$(ls /usr/local/nvidia/lib64/libcuda.so.1 /usr/lib/x86_64-linux-gnu/libcuda.so.1 2>/dev/null | head -1)
  if [ -n "$so1" ]; then mkdir -p $W/lib && ln -sf "$so1" $W/lib/libcuda.so && export LD_LIBRARY_PATH=$W/lib:${LD_LIBRARY_PATH:-} && echo "linked $W/lib/libcuda.so -> $so1"; fi
fi
S="dotnet $W/app/sharpt.dll"
C="dotnet $W/app/sharpt-conformance.dll"

section nvidia-smi
nvidia-smi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv
nproc; grep -m1 'model name' /proc/cpuinfo
run 30 $C --diagnose

section "GEMM 4096x4096x4096 (ILGPU, CUDA)"
run 60 $S bench gemm --backend ilgpu:cuda --m 4096 --k 4096 --n 4096 --seconds 2

section "cuBLAS reference (torch fp32, TF32 off)"
run 90 python3 "$B/torch_reference.py" 4096x4096x4096:nn 2048x768x3072:nt 2048x3072x768:nt 2048x768x2304:nt 256x768x50257:nt --attention 4,12,1024,64

section "GEMM GPT-2 shapes (ILGPU, CUDA; B is the Linear weight, NxK)"
run 45 $S bench gemm --backend ilgpu:cuda --m 2048 --k 768 --n 3072 --transpose-b --seconds 1
run 45 $S bench gemm --backend ilgpu:cuda --m 2048 --k 3072 --n 768 --transpose-b --seconds 1
run 45 $S bench gemm --backend ilgpu:cuda --m 2048 --k 768 --n 2304 --transpose-b --seconds 1
run 45 $S bench gemm --backend ilgpu:cuda --m 256 --k 768 --n 50257 --transpose-b --seconds 1

section "conformance (ILGPU, CUDA)"
run 200 $C --backend ilgpu:cuda --model gpt2 --batch 2 --seq 64

section "GPT-2 124M training step (ILGPU, CUDA)"
run 120 $S bench train-step --model gpt2 --batch 4 --seq 64 --steps 10 --backend ilgpu:cuda

section "GEMM 4096 with the simple 64x64 kernel, for comparison"
run 45 $S bench gemm --backend ilgpu:cuda --gemm-kernel simple --m 4096 --k 4096 --n 4096 --seconds 1

section "attention (ILGPU, CUDA)"
run 45 $S bench attention --backend ilgpu:cuda --batch 4 --heads 12 --seq 1024 --head-dim 64 --steps 5

section "generate (ILGPU, CUDA)"
run 60 $S bench generate --backend ilgpu:cuda --model gpt2 --tokens 64

section done
} 2>&1 | tee "$LOG"
