#!/bin/bash
# Second GPU session: both GEMM kernels on the mid-sized products of GPT-2 training (to place the Auto threshold), then
# the training step with the Auto choice and with the simple kernel only. Run from the bundle: bash <bundle>/device-sweep.sh.
set -u
B=$(cd "$(dirname "$0")" && pwd)
LOG=${OUT:-/tmp}/device-sweep.log
W=/tmp/sharpt
run() { local t=$1; shift; echo "\$ $*"; timeout "$t" "$@"; local rc=$?; [ $rc -ne 0 ] && echo "(exit code $rc)"; return 0; }
{
rm -rf $W && mkdir -p $W && tar -C $W -xJf "$B/sharpt-linux-x64.tar.xz"
export DOTNET_ROOT=$W/dotnet PATH=$W/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
S="dotnet $W/app/sharpt.dll"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
# M K N (B is a Linear weight, NxK); 128x128 tiles of M x N: 96, 48, 36, 12, 12, 48 groups on 132 multiprocessors.
for shape in "2048 3072 768" "256 768 3072" "256 768 2304" "256 3072 768" "256 768 768" "1024 768 768"; do
  set -- $shape
  for kernel in simple tiled; do
    echo "--- M=$1 K=$2 N=$3 kernel=$kernel"
    run 30 $S bench gemm --backend ilgpu:cuda --gemm-kernel $kernel --m $1 --k $2 --n $3 --transpose-b --seconds 0.3 | grep -E "check|GFLOP/s:|exit"
  done
done
for kernel in auto simple; do
  echo "--- GPT-2 124M training step, --gemm-kernel $kernel"
  run 90 $S bench train-step --model gpt2 --batch 4 --seq 64 --steps 10 --backend ilgpu:cuda --gemm-kernel $kernel | grep -E "parameters|median|ms/step|exit"
done
echo "--- done"
} 2>&1 | tee "$LOG"
