#!/usr/bin/env bash
# Packs what the GPU machine lacks into bench/gpu/carry/ (git-ignored; never committed):
#   dotnet.tar.xz  the .NET host, Microsoft.NETCore.App and Microsoft.AspNetCore.App (the CLI
#                  references the service, so its runtimeconfig needs both frameworks)
#   app.tar.xz     `dotnet publish` of the CLI for linux-x64 (framework-dependent), with
#                  libLibTorchSharp.so beside it; libtorch itself is NOT packed: the device's
#                  PyTorch provides it through GENERALIST_LIBTORCH
# and checks that the folder fits the device tool's 64 MiB carry limit.
# Usage: bench/gpu/pack-carry.sh [--limit-mib N]   (run from anywhere; uses `nice`)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
carry="$repo/bench/gpu/carry"
limit_mib=64
while [ $# -gt 0 ]; do
  case "$1" in
    --limit-mib) limit_mib="$2"; shift 2 ;;
    *) echo "error: unknown argument '$1' (usage: pack-carry.sh [--limit-mib N])" >&2; exit 2 ;;
  esac
done
command -v dotnet >/dev/null || { echo "error: dotnet is not on PATH; the carry packs this machine's .NET runtime" >&2; exit 2; }
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" && $2 ~ /^10\./ { v = $2 } END { print v }')
aspnet=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" && $2 ~ /^10\./ { v = $2 } END { print v }')
[ -n "$runtime" ] && [ -n "$aspnet" ] || { echo "error: no .NET 10 Microsoft.NETCore.App / Microsoft.AspNetCore.App runtime in $dotnet_root" >&2; exit 2; }

work=$(mktemp -d /tmp/generalist-carry-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "publishing the CLI (Release, linux-x64, framework-dependent) ..." >&2
nice -n 15 dotnet publish "$repo/src/Generalist.Cli/Generalist.Cli.csproj" -c Release -r linux-x64 --self-contained false \
  --disable-build-servers --artifacts-path "$work/artifacts" -o "$work/app" -v q -nologo >&2
# TorchSharp's loader wants LibTorchSharp beside the app; a RID-specific publish puts it there.
[ -f "$work/app/libLibTorchSharp.so" ] || cp "$(find "$work/app" -name libLibTorchSharp.so | head -1)" "$work/app/" 2>/dev/null \
  || { echo "error: the publish output holds no libLibTorchSharp.so" >&2; exit 1; }
# Anything libtorch-sized that slipped in would be the CPU build: the device brings its own.
find "$work/app" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' \) -delete
find "$work/app" -name '*.pdb' -delete

mkdir -p "$carry"
rm -f "$carry"/*.tar.xz
echo "packing .NET $runtime (+ ASP.NET Core $aspnet) and the app ..." >&2
nice -n 15 tar -C "$dotnet_root" -cJf "$carry/dotnet.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$runtime" "shared/Microsoft.AspNetCore.App/$aspnet"
nice -n 15 tar -C "$work" -cJf "$carry/app.tar.xz" app
git -C "$repo" rev-parse HEAD > "$carry/commit.txt"

bytes=$(du -sb "$carry" | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "carry: $carry = $mib MiB (limit $limit_mib MiB)"
if [ "$bytes" -gt $((limit_mib * 1048576)) ]; then
  echo "error: the carry folder is $mib MiB, over the $limit_mib MiB limit" >&2
  exit 1
fi
