#!/usr/bin/env bash
# Prepares a CUDA build for the GPU machine of the `device` tool, which has
# CUDA, cuBLAS, cuFFT (and cuDNN/NCCL inside Python packages) but none of
# our Debian libraries. Copies every shared library the binaries load from
# the Debian library folders (OpenBLAS, FFTW, yaml-cpp, spdlog, fmt, gomp,
# gfortran...) into device_libs/, leaving out the C runtime the machine has,
# and packs them with the binaries into device_pack/laplex_device.tar.xz
# (about 15 MB: the uncompressed 70 MB would not fit the tool's 64 MiB).
# Then, with the device tool:
#   carry: ["device_pack"]
#   command: bash scripts/device_check.sh      (unpacks it there)
set -euo pipefail
cd "$(dirname "$0")/.."
binaries=(build/bin/laplex-train build/bin/laplex-eval build/bin/laplex-bench
          build/tests/laplex_gpu_tests build/src/liblaplex.so)
for b in "${binaries[@]}"; do
  [[ -e $b ]] || { echo "device_pack: $b is missing; build with CUDA first" >&2; exit 2; }
done
rm -rf device_libs
mkdir -p device_libs
ldd "${binaries[@]}" | awk '$3 ~ /^\/(usr\/)?lib\/x86_64-linux-gnu\// {print $3}' | sort -u |
  while read -r lib; do
    case "$(basename "$lib")" in
      libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libgcc_s.so.*) ;;
      *) cp -L "$lib" device_libs/ ;;
    esac
  done
for d in device_libs device_pack; do
  git check-ignore -q "$d" || echo "/$d/" >> .git/info/exclude
done
rm -rf device_pack
mkdir -p device_pack
tar -cf - device_libs build/bin build/src/liblaplex.so build/tests/laplex_gpu_tests |
  xz -T0 -6 > device_pack/laplex_device.tar.xz
du -sh device_pack/laplex_device.tar.xz
