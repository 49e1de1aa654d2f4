#!/usr/bin/env bash
# Runs on the GPU machine (see device_pack.sh): the GPU test suite,
# compute-sanitizer's memcheck on the LAPLEX, covariance, pooling, matmul
# and long-row max and cumsum GPU tests, and
# the CUDA benchmarks of issues #3 and #6, racecheck on the lane-slice and
# carries tests, each with a time limit, cut to
# what is left of 560 s so that one call fits the session's device budget
# (run it with timeout_s 600; a step with no time left is skipped and says
# so in machine.txt). Logs go to $OUT (at most 8
# files come back). Environment: SANITIZE=0 skips compute-sanitizer,
# SWEEP_MAX_N caps the LAPLEX sweep at batch 64 (default 2^26); the 2^30
# row runs at batch 1 (issue #3); PROFILE=0 skips the last step, Nsight
# Compute's speed-of-light section (duration, DRAM and SM throughput) of the
# LAPLEX kernels of one 2^20 x 64 forward and backward, run only when the
# time left allows.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/laplex_device_out}
mkdir -p "$OUT"
if [[ -f device_pack/laplex_device.tar.xz ]]; then
  xz -dc device_pack/laplex_device.tar.xz | tar -xf - || { echo "device_check: cannot unpack device_pack" >&2; exit 2; }
fi
cudnn_lib=$(python3 -c 'import nvidia.cudnn, os; print(os.path.join(os.path.dirname(nvidia.cudnn.__file__), "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH="$PWD/build/src:$PWD/device_libs:${cudnn_lib}:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
{ nvidia-smi; ldd build/bin/laplex-bench | grep "not found"; } > "$OUT/machine.txt" 2>&1

# within CAP CMD...: runs CMD under a limit of CAP seconds or of what is left
# of the 560 s, whichever is less.
within() {
  local cap=$1 left=$((560 - SECONDS))
  shift
  if ((left < 10)); then
    echo "skipped (no time left): $*" >> "$OUT/machine.txt"
    return 124
  fi
  timeout $((cap < left ? cap : left)) "$@"
}

within 120 build/tests/laplex_gpu_tests > "$OUT/gpu_tests.log" 2>&1
echo "gpu tests exit $?" | tee -a "$OUT/machine.txt"

if [[ ${SANITIZE:-1} != 0 ]]; then
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  within 150 "$sanitizer" --tool memcheck --error-exitcode 3 build/tests/laplex_gpu_tests \
    --gtest_filter='Laplex*:*Ou*:*Covariance*:Pool2dCudnnGpu.*:OpsGpu.MatmulLinearLosses:OpsCoverageGpu.MaxOfFewLongRows:OpsCoverageGpu.CumsumOfLongRows' \
    > "$OUT/sanitizer.log" 2>&1
  echo "compute-sanitizer exit $?" | tee -a "$OUT/machine.txt"
fi

within 120 build/bin/laplex-bench laplex --device cuda --batch 64 --sweep --max-n "${SWEEP_MAX_N:-67108864}" --json \
  > "$OUT/bench_laplex.jsonl" 2>&1
# Anchors in index order (a grid-initialised layer keeps them nearly so):
# the rows the copy-bandwidth target at 2^26 is judged on next to the
# random ones, whose transposed copies move ~3.5x the counted bytes.
for n in 1048576 67108864; do
  within 40 build/bin/laplex-bench laplex --device cuda --batch 64 --anchors sorted --n $n --json \
    >> "$OUT/bench_laplex.jsonl" 2>&1
done
within 100 build/bin/laplex-bench laplex --device cuda --batch 1 --n 1073741824 --repeats 3 --json \
  >> "$OUT/bench_laplex.jsonl" 2>&1
echo "laplex bench exit $?" | tee -a "$OUT/machine.txt"
within 60 build/bin/laplex-bench covariance --device cuda --n 784 100000 3000000 --batch 8 --json \
  > "$OUT/bench_covariance.jsonl" 2>&1
within 40 build/bin/laplex-bench covariance --device cuda --n 3000000 --batch 8 --anchors random \
  --models laplex_ou_composed --json >> "$OUT/bench_covariance.jsonl" 2>&1
echo "covariance bench exit $?" | tee -a "$OUT/machine.txt"

# Shared-memory races in the lane kernels' staged copies and the segmented
# carries (the row slices, cp.async staging and scan of scans were first
# compiled without a GPU), on their small tests only: racecheck is slow.
if [[ ${SANITIZE:-1} != 0 ]]; then
  within 60 "$sanitizer" --tool racecheck --error-exitcode 3 build/tests/laplex_gpu_tests \
    --gtest_filter='LaplexCuda.*Slices*:LaplexCuda.Carries*' > "$OUT/racecheck.log" 2>&1
  echo "racecheck exit $?" | tee -a "$OUT/machine.txt"
fi

# Where the forward and backward spend their time, kernel by kernel: what
# the next optimisation of the CUDA path needs to know.
ncu_bin=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
left=$((550 - SECONDS))
if [[ ${PROFILE:-1} != 0 && -n "$ncu_bin" && $left -gt 40 ]]; then
  timeout $((left - 10)) "$ncu_bin" --clock-control none --section SpeedOfLight \
    --kernel-name regex:'lane_|transpose_kernel|carries_kernel|scan_chunks|sum_groups|Radix' \
    --launch-count 60 build/bin/laplex-bench laplex --device cuda --batch 64 --n 1048576 \
    --repeats 1 > "$OUT/ncu_laplex.txt" 2>&1
  echo "ncu exit $? ($left s were left)" | tee -a "$OUT/machine.txt"
fi
