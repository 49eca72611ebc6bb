#!/bin/bash
# Builds what device.sh needs on a GPU machine without a .NET SDK: sharpt and sharpt-conformance published
# framework-dependent, plus this machine's .NET host and shared runtime, in one tar.xz (about 30 MB), and the scripts.
# Usage: bench/gpu/make-bundle.sh <bundle folder>   (a folder git ignores; pass it as `carry` to the device tool)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:?usage: make-bundle.sh <bundle folder>}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for p in tools/SharpTransformer.Cli tools/SharpTransformer.Conformance; do
  dotnet publish "$repo/$p" -c Release -o "$stage/app" -p:DebugType=none -p:GenerateDocumentationFile=false --nologo -v q
done
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
ver=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" {v=$2} END {print v}')
fxr=$(ls "$root/host/fxr" | sort -V | tail -1)
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/host/fxr"
cp "$root/dotnet" "$stage/dotnet/"
cp -r "$root/host/fxr/$fxr" "$stage/dotnet/host/fxr/"
cp -r "$root/shared/Microsoft.NETCore.App/$ver" "$stage/dotnet/shared/Microsoft.NETCore.App/"
mkdir -p "$out"
rm -f "$out/sharpt-linux-x64.tar.xz"
tar -C "$stage" -cf - app dotnet | xz -T2 -6 > "$out/sharpt-linux-x64.tar.xz"
cp "$here"/device*.sh "$here/torch_reference.py" "$out/"
echo "bundle: $out ($(du -sh "$out" | cut -f1)), runtime $ver, hostfxr $fxr"
