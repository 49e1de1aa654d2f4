#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds (with CUDA when the
# toolkit is present), runs every test label (GPU tests skip without a GPU),
# then rebuilds the CPU library with AddressSanitizer + UBSan and runs the
# unit tests again under them.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/setup.sh --python

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > build.configure.log 2>&1 ||
  { cat build.configure.log; exit 1; }
cmake --build build -j"$jobs"
ctest --test-dir build -j"$jobs" --output-on-failure -LE slow

if [ "${LAPLEX_SKIP_SANITIZERS:-0}" != 1 ]; then
  # -O1 without debug info: sanitizer builds compile twice as fast and still catch everything.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 -DLAPLEX_CUDA=OFF \
    -DLAPLEX_SANITIZE=ON > build-asan.configure.log 2>&1 || { cat build-asan.configure.log; exit 1; }
  cmake --build build-asan -j"$jobs"
  # OpenMP's runtime keeps thread-local pools alive at exit; those are not leaks of ours.
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j"$jobs" --output-on-failure -L unit
fi
