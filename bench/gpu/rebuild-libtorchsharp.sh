#!/usr/bin/env bash
# Builds LibTorchSharp's native library from TorchSharp's own sources against the PyTorch libtorch
# of this machine, for when the packaged libLibTorchSharp.so (built for libtorch 2.10) does not load
# against it. Usage: rebuild-libtorchsharp.sh TORCHSHARP_CHECKOUT APP_DIR
#   TORCHSHARP_CHECKOUT  a TorchSharp source tree at the release the app uses (v0.107.0), fetched
#                        into the git-ignored bench/gpu/torchsharp-src/ and carried (never committed)
#   APP_DIR              the unpacked app; the built library replaces its libLibTorchSharp.so
# Needs cmake, ninja and a C++17 compiler (the CUDA machine has them). Prints the build time.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: rebuild-libtorchsharp.sh TORCHSHARP_CHECKOUT APP_DIR" >&2; exit 2; }
src="$1"; app="$2"
[ -f "$src/src/Native/LibTorchSharp/CMakeLists.txt" ] || { echo "error: $src holds no src/Native/LibTorchSharp/CMakeLists.txt (a TorchSharp checkout)" >&2; exit 2; }
[ -d "$app" ] || { echo "error: app directory $app does not exist" >&2; exit 2; }
py="${PYTHON:-python3}"
prefix=$($py -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
# PyTorch wheels since 2.7 use the C++11 ABI; TorchSharp's CMake hard-codes the old one, which
# would make every std::string in a libtorch signature a different symbol.
abi=$($py -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
build=$(mktemp -d /tmp/libtorchsharp-XXXXXX)
cp -r "$src/src/Native" "$build/native"
# A newer compiler's warnings must not stop a build of someone else's code; the ABI must be torch's.
sed -i -e 's/add_definitions(-Werror)//' -e "s/-D_GLIBCXX_USE_CXX11_ABI=0/-D_GLIBCXX_USE_CXX11_ABI=$abi/" "$build/native/CMakeLists.txt"
start=$(date +%s)
cmake -S "$build/native" -B "$build/out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  -DLIBTORCH_PATH="$prefix/Torch" -DCMAKE_POLICY_VERSION_MINIMUM=3.5
ninja -C "$build/out" -j "$(nproc)" LibTorchSharp
lib=$(find "$build/out" -name libLibTorchSharp.so | head -1)
[ -n "$lib" ] || { echo "error: the build produced no libLibTorchSharp.so" >&2; exit 1; }
cp "$lib" "$app/libLibTorchSharp.so"
echo "{\"built\": \"$app/libLibTorchSharp.so\", \"seconds\": $(( $(date +%s) - start )), \"cxx11_abi\": $abi}"
