#!/bin/bash
# Third GPU session: the final Auto rule (register-tiled whenever both sides fill half a tile) on the training step and
# on the smallest GPT-2 products, plus the device checks of sharpt-conformance. Run: bash <bundle>/device-confirm.sh.
set -u
B=$(cd "$(dirname "$0")" && pwd)
LOG=${OUT:-/tmp}/device-confirm.log
W=/tmp/sharpt
run() { local t=$1; shift; echo "\$ $*"; timeout "$t" "$@"; local rc=$?; [ $rc -ne 0 ] && echo "(exit code $rc)"; return 0; }
{
rm -rf $W && mkdir -p $W && tar -C $W -xJf "$B/sharpt-linux-x64.tar.xz"
export DOTNET_ROOT=$W/dotnet PATH=$W/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
S="dotnet $W/app/sharpt.dll"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
run 90 $S bench train-step --model gpt2 --batch 4 --seq 64 --steps 10 --backend ilgpu:cuda
run 30 $S bench gemm --backend ilgpu:cuda --m 256 --k 768 --n 768 --transpose-b --seconds 0.3
run 30 $S bench gemm --backend ilgpu:cuda --m 4096 --k 4096 --n 4096 --seconds 1
run 90 dotnet $W/app/sharpt-conformance.dll --backend ilgpu:cuda --filter Device_ --model gpt2 --batch 2 --seq 64
echo "--- done"
} 2>&1 | tee "$LOG"
