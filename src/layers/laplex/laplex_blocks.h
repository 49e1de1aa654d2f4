#pragma once
// The forward's event blocks (internal to the CPU forward, laplex_cpu.cpp).
// The scans of a chunk run block by block over runs of kEvents events: the
// ascending scan of a block writes its output rows to a buffer that stays in
// L2, and the descending scan of the same block reads them back from there
// and finishes them. Run over all events at once, the output rows went to
// DRAM and back, and on this 2-core VM the forward is bound by memory
// traffic (about 20 GB/s for both cores).
//
// Block by block, the descending scan of block b must start from the state
// the events after it leave. The loader sums that up as it places each
// input: an input at position p in block b adds gain e^{mu (p - P_b)} x to
// the block's sum, P_b being the position of the block's first event and
// mu the descending scan's exponent (conj(lam) forward, lam transposed;
// laplex-math.md section 2). A short pass over the blocks then turns the
// sums into each block's starting state (carries).
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "layers/laplex/laplex_lanes.h"
#include "layers/laplex/laplex_plan.h"
#include "layers/laplex/laplex_shape.h"

namespace laplex::cpu::blocks {

// Events a block: fixed, not chosen by lane width, so that every lane's
// arithmetic (and so its rounding) is the same on chunks of any width. A
// block's input and output rows together are 2048 rows: 256 KiB of 32-lane
// float rows (128 B), where the L2 here is 512 KiB. Blocks of 512 and 1024
// events measured level with 2048 (docs/laplex-cpu.md).
inline constexpr std::int64_t kEvents = 2048;

// One input's place: its row (its rank among the inputs in event order),
// its block, and its weight in the block's sum, gain e^{mu (p - P_b)} (the
// imaginary part only when phased). One struct, so that placing an input
// is one random store (random stores are what this pass costs).
template <class T>
struct InputSlot {
  std::uint32_t rank, block;
  T weight_re, weight_im;
};

// What one head's blocks need from the plan, shared by every chunk.
template <class T>
struct InputBlocks {
  std::int64_t count = 0;            // ceil(events / kEvents)
  std::vector<InputSlot<T>> inputs;  // per input index
  // Per block b but the last: e^{mu (P_{b+1} - P_b)}.
  std::vector<T> span_re, span_im;
};

// Head h's blocks, from the head's per-event decays (lanes::make_decays,
// the ascending step factors e^{-alpha gap} (cos, sin)(omega gap)): an
// input's weight is the product of the descending step factors from its
// block's first event to its own, as the descending scan would apply them.
// Inputs are the sources of the forward (gains v) and the targets of the
// transposed apply (gains u). Branch-free (inputs and outputs interleave at
// random): an output event writes to a spare slot past the inputs, one a
// thread.
template <class T>
InputBlocks<T> make_input_blocks(const LaplexPlan<T>& plan, const LaplexShape& shape,
                                 const LaplexParamPtrs<T>& p, const T* decay_re, const T* decay_im,
                                 bool transposed, std::int64_t h) {
  const std::int64_t events = plan.events();
  const std::int64_t in_cols = transposed ? shape.m : shape.n;
  const std::uint32_t* code = plan.code.data() + h * events;
  const T* in_gain =
      transposed ? (p.u ? p.u + h * shape.m : nullptr) : (p.v ? p.v + h * shape.n : nullptr);
  const T sign = transposed ? T(1) : T(-1);  // the descending scan's, laplex_cpu.cpp
  const bool phased = shape.phased;

  InputBlocks<T> b;
  b.count = (events + kEvents - 1) / kEvents;
  b.inputs.resize(static_cast<std::size_t>(in_cols + omp_get_max_threads()));
  const auto spans = static_cast<std::size_t>(std::max<std::int64_t>(b.count - 1, 0));
  b.span_re.resize(spans);
  b.span_im.resize(spans);
  // Each block's first input row: the inputs of the blocks before it. Then
  // the blocks are independent, and threads share them.
  std::vector<std::uint32_t> first_row(static_cast<std::size_t>(b.count) + 1, 0);
  for (std::int64_t block = 0; block < b.count; ++block) {
    const std::int64_t first = block * kEvents, end = std::min(first + kEvents, events);
    std::uint32_t targets = 0;
#pragma omp simd reduction(+ : targets)
    for (std::int64_t k = first; k < end; ++k) targets += code[k] >> 31;
    const auto size = static_cast<std::uint32_t>(end - first);
    first_row[block + 1] = first_row[block] + (transposed ? targets : size - targets);
  }
#pragma omp parallel for schedule(static) if (events > lanes::kParallelEventPass)
  for (std::int64_t block = 0; block < b.count; ++block) {
    const std::int64_t first = block * kEvents, end = std::min(first + kEvents, events);
    std::uint32_t next = first_row[block];
    const auto spare = static_cast<std::uint32_t>(in_cols + omp_get_thread_num());
    T re = T(1), im = T(0);  // e^{mu (p_k - P_b)}
    for (std::int64_t k = first; k < end; ++k) {
      if (k > first) {
        const T er = decay_re[k], ei = phased ? sign * decay_im[k] : T(0);
        const T r = re * er - im * ei;
        im = phased ? re * ei + im * er : T(0);
        re = r;
      }
      const std::uint32_t output = (code[k] >> 31) ^ static_cast<std::uint32_t>(transposed);
      const std::uint32_t mask = 0u - output;  // all ones at an output event
      const std::uint32_t index = code[k] & ~kLaplexTargetBit;
      const std::uint32_t slot = (index & ~mask) | (spare & mask);
      const T g = in_gain ? in_gain[index & ~mask] : T(1);
      b.inputs[slot] = {next, static_cast<std::uint32_t>(block), g * re, g * im};
      next += 1 - output;
    }
    if (end < events) {
      const T er = decay_re[end], ei = phased ? sign * decay_im[end] : T(0);
      b.span_re[block] = re * er - im * ei;
      b.span_im[block] = phased ? re * ei + im * er : T(0);
    }
  }
  b.inputs.resize(static_cast<std::size_t>(in_cols));
  return b;
}

// Turns one chunk's block sums (W lanes a block, `re` and with Phased `im`)
// into the state each block's descending scan starts from: the state at
// block b + 1's first event, S_{b+1}, decayed over the gap before that
// event (its step factor `step_re/im`, per event). S_b = sum_b + span_b
// S_{b+1}, from the last block down; the last block starts from zero.
template <class T, int W, bool Phased>
void sums_to_carries(const InputBlocks<T>& b, const T* step_re, const T* step_im, T sign, T* re,
                     T* im) {
  alignas(64) T s_re[W] = {};
  alignas(64) T s_im[W] = {};
  for (std::int64_t block = b.count - 1; block >= 0; --block) {
    T* sum_re = re + block * W;
    T* sum_im = Phased ? im + block * W : nullptr;
    // The carry in: S_{b+1} through the gap before its first event.
    const bool last = block == b.count - 1;
    const std::int64_t next_first = (block + 1) * kEvents;
    const T gr = last ? T(0) : step_re[next_first];
    const T gi = last || !Phased ? T(0) : sign * step_im[next_first];
    const T sr = last ? T(0) : b.span_re[block];
    const T si = last || !Phased ? T(0) : b.span_im[block];
#pragma omp simd
    for (int l = 0; l < W; ++l) {
      const T own_re = sum_re[l];
      const T own_im = Phased ? sum_im[l] : T(0);
      sum_re[l] = gr * s_re[l] - gi * s_im[l];
      if constexpr (Phased) sum_im[l] = gr * s_im[l] + gi * s_re[l];
      const T next_re = own_re + sr * s_re[l] - si * s_im[l];
      const T next_im = own_im + sr * s_im[l] + si * s_re[l];
      s_re[l] = next_re;
      s_im[l] = next_im;
    }
  }
}

}  // namespace laplex::cpu::blocks
