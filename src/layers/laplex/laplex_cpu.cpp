// Forward and transposed apply: per head, an ascending and a descending scan
// over the merged anchors (laplex-math.md section 2; transposed: section 3,
// P and Q). Inputs sit at one class of events (sources for the forward,
// targets for the transposed apply) and outputs are read at the other.
//
// A chunk of W batch rows is transposed into input rows (W values a row) in
// the order the inputs come in the events (lanes::load_ranked: random
// writes of whole rows, streamed, which do not stall the core as random
// reads do). The scans then go block by block (laplex_blocks.h): the
// ascending scan of a block reads its input rows in order and writes
// Re[gain e^{i phi} L] at each output event to the next of the block's
// output rows, in a buffer that stays in L2; the descending scan reads both
// back in reverse order and finishes the output rows in place, starting
// from the state the later blocks leave (summed by the loader); then each
// output row is scattered once, streamed where it is whole lines. The input
// rows, in event order, are what the backward reads as x from a saved
// forward.
//
// The scans are branch-free: targets and sources interleave at random, and a
// mispredicted branch per event cost more than the event's arithmetic. An
// output event reads a row of zeros; an input event writes to a spare row
// (a plain store, so no chain through memory).
#include "layers/laplex/laplex_cpu.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <string>

#include "layers/laplex/laplex_blocks.h"
#include "layers/laplex/laplex_event_gains.h"
#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu {

namespace {

using lanes::Decays;
using lanes::HeadConstants;

// Output rows between the prefetch of a row of the output lanes and its
// update, where the scatter adds to a row (heads after the first) or writes
// part of a line: a random row costs a DRAM latency.
constexpr std::int64_t kPrefetchDistance = 16;

// The event's kind and index without a branch: `input` is 1 at an input
// event.
struct EventRows {
  std::uint32_t input, index;
};

inline EventRows event_rows(std::uint32_t code, bool transposed) {
  const std::uint32_t target = code >> 31;
  return {target ^ static_cast<std::uint32_t>(!transposed), code & ~kLaplexTargetBit};
}

// What one head's scans of one chunk read.
template <class T>
struct ScanInput {
  const std::uint32_t* code;
  const T* gain;  // null without gains
  const T* decay_re;
  const T* decay_im;  // phased only
  T cos_phi, sin_phi;
  bool transposed;
};

// A scan's state: W lanes of a complex value (im only when phased).
template <class T, int W>
struct LaneState {
  alignas(64) T re[W] = {};
  alignas(64) T im[W] = {};
};

// Ascending over events [k0, k1): decay into an event, then handle it. The
// forward's L takes lam, the transposed apply's Q conj(lam). Input rows are
// read in order from `next_input_row` (advanced past the block's inputs);
// an output event reads a zero row instead and writes Re[gain e^{i phi} L]
// to the next of `rows`, and its index to `index`; an input event writes to
// the row (and index) after the last written, which the next output event
// overwrites: a plain store to a line in L1, so no branch. Returns the
// output rows written. The input rows keep the inputs without their gains:
// that is what the backward reads back from a saved forward (dv needs x
// itself).
template <class T, int W, bool Phased, bool Gains>
std::int64_t scan_up(const ScanInput<T>& in, std::int64_t k0, std::int64_t k1,
                     const T*& next_input_row, LaneState<T, W>& st, const T* zero_row, T* rows,
                     std::uint32_t* index) {
  T* sr = st.re;
  T* si = st.im;
  std::int64_t outputs = 0;
  const T sign = in.transposed ? T(-1) : T(1);
  for (std::int64_t k = k0; k < k1; ++k) {
    const EventRows r = event_rows(in.code[k], in.transposed);
    const std::uintptr_t input_mask = 0 - std::uintptr_t{r.input};
    const T* value = lanes::pick_row(input_mask, next_input_row, zero_row);
    T* out = rows + outputs * W;
    index[outputs] = r.index;
    next_input_row += r.input * W;
    outputs += 1 - r.input;
    const T gain = Gains ? in.gain[k] : T(1);
    const T out_gain = gain * static_cast<T>(1 - r.input);
    const T er = in.decay_re[k];
    if constexpr (Phased) {
      const T ei = sign * in.decay_im[k];
      const T br = out_gain * in.cos_phi, bi = out_gain * in.sin_phi;
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T z = Gains ? gain * value[l] : value[l];
        const T re = er * sr[l] - ei * si[l] + z;
        si[l] = er * si[l] + ei * sr[l];
        sr[l] = re;
        out[l] = br * re - bi * si[l];
      }
    } else {
      const T br = out_gain * in.cos_phi;
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T z = Gains ? gain * value[l] : value[l];
        sr[l] = er * sr[l] + z;
        out[l] = br * sr[l];
      }
    }
  }
  return outputs;
}

// Descending over events [k0, k1): handle an event, then decay past its gap.
// The forward's R takes conj(lam), the transposed apply's P lam. Starts from
// `st` (the block's carry, laplex_blocks.h); reads the block's input rows
// (ending at `input_row_end`) and its `outputs` output rows in reverse, and
// finishes each output row in place; an input event writes to `spare_row`.
template <class T, int W, bool Phased, bool Gains>
void scan_down(const ScanInput<T>& in, std::int64_t k0, std::int64_t k1, const T* input_row_end,
               LaneState<T, W>& st, T* rows, std::int64_t outputs, T* spare_row) {
  T* sr = st.re;
  T* si = st.im;
  T* output_row_end = rows + outputs * W;
  const T sign = in.transposed ? T(1) : T(-1);
  for (std::int64_t k = k1 - 1; k >= k0; --k) {
    const EventRows r = event_rows(in.code[k], in.transposed);
    const std::uintptr_t input_mask = 0 - std::uintptr_t{r.input};
    input_row_end -= r.input * W;
    output_row_end -= (1 - r.input) * W;
    const T* value = lanes::pick_row(input_mask, input_row_end,
                                     static_cast<const T*>(output_row_end));
    T* out = lanes::pick_row(input_mask, spare_row, output_row_end);
    const T take = static_cast<T>(r.input);
    const T gain = Gains ? in.gain[k] : T(1);
    const T add = take * gain;  // the row holds the input without its gain
    const T out_gain = gain * (T(1) - take);
    const T er = in.decay_re[k];
    if constexpr (Phased) {
      const T ei = sign * in.decay_im[k];
      const T br = out_gain * in.cos_phi, bi = out_gain * in.sin_phi;
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T v = value[l];
        const T re = sr[l] + add * v;
        out[l] = v + br * re - bi * si[l];
        sr[l] = er * re - ei * si[l];
        si[l] = er * si[l] + ei * re;
      }
    } else {
      const T br = out_gain * in.cos_phi;
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T v = value[l];
        const T re = sr[l] + add * v;
        out[l] = v + br * re;
        sr[l] = er * re;
      }
    }
  }
}

// Each finished output row to its row of the output lanes: streamed where
// rows are whole lines and nothing is there to add to (the first head), so
// no line is read first; else with a prefetch ahead.
template <class T, int W, bool Accumulate>
void scatter_rows(const T* rows, const std::uint32_t* index, std::int64_t outputs, T* out_lanes) {
  constexpr bool kStream = !Accumulate && W * sizeof(T) % 64 == 0;
  for (std::int64_t q = 0; q < outputs; ++q) {
    if (!kStream && q + kPrefetchDistance < outputs)
      lanes::prefetch_row<T, W>(out_lanes +
                                static_cast<std::int64_t>(index[q + kPrefetchDistance]) * W);
    const T* row = rows + q * W;
    T* out = out_lanes + static_cast<std::int64_t>(index[q]) * W;
    if constexpr (kStream) {
      lanes::stream_row<T, W>(out, row);
    } else {
#pragma omp simd
      for (int l = 0; l < W; ++l) out[l] = Accumulate ? out[l] + row[l] : row[l];
    }
  }
}

template <class T, int W, bool Phased, bool Gains>
void apply_batch(const LaplexPlan<T>& plan, const LaplexShape& shape, const LaplexParamPtrs<T>& p,
                 const Decays<T>& d, const std::vector<T>& gains, bool transposed, const T* in,
                 T* out, LaplexSaved<T>* save) {
  const std::int64_t batch = shape.batch, events = plan.events();
  const std::int64_t in_cols = transposed ? shape.m : shape.n;
  const std::int64_t out_cols = transposed ? shape.n : shape.m;
  const std::int64_t chunks = (batch + W - 1) / W;
  lanes::ThreadScratch scratch(*plan.scratch, omp_get_max_threads());
  const std::size_t bytes = lanes::scratch_bytes<T, W>(shape.m, shape.n);
  // Saving (one head), each chunk's event rows go to its part of the saved
  // rows instead of the thread's own: the same writes, to other pages. The
  // backward may read them in wider chunks (lanes::saved_backward_width):
  // then the rows are padded with zero chunks to a whole number of those.
  const std::size_t chunk_bytes = lanes::rows_bytes<T, W>(events);
  T* saved_rows = nullptr;
  if (save) {
    const int backward_width = lanes::saved_backward_width(batch, omp_get_max_threads(), W);
    const std::int64_t per_backward_chunk = backward_width / W;
    const std::int64_t saved_chunks =
        (chunks + per_backward_chunk - 1) / per_backward_chunk * per_backward_chunk;
    const std::size_t need = chunk_bytes * static_cast<std::size_t>(saved_chunks);
    if (!save->rows || save->bytes < need) {
      save->rows.reset();
      save->rows = scratch.lend_saved(need, save->bytes);
    }
    save->pool = plan.scratch;
    save->plan = &plan;
    save->batch = batch;
    save->m = shape.m;
    save->n = shape.n;
    save->width = W;
    save->backward_width = backward_width;
    saved_rows = reinterpret_cast<T*>(save->rows.get());
    auto* saved_bytes = reinterpret_cast<std::byte*>(saved_rows);
    std::fill(saved_bytes + chunk_bytes * static_cast<std::size_t>(chunks), saved_bytes + need,
              std::byte{0});
  }
  // Each head's blocks: every input's row (its rank among the inputs in
  // event order), block and weight in its block's sum.
  std::vector<blocks::InputBlocks<T>> head_blocks;
  for (std::int64_t h = 0; h < plan.heads; ++h)
    head_blocks.push_back(blocks::make_input_blocks(
        plan, shape, p, d.re.data() + h * events, Phased ? d.im.data() + h * events : nullptr,
        transposed, h));
  const T down_sign = transposed ? T(1) : T(-1);  // scan_down's
  const std::size_t block_bytes = lanes::rows_bytes<T, W>(blocks::kEvents + 1) +
                                  sizeof(std::uint32_t) * (blocks::kEvents + 1);
#pragma omp parallel if (chunks > 1 && (in_cols + out_cols) * batch > lanes::kParallelWork)
  {
    // Output rows, a spare row and a zero row; the event rows (the input
    // rows in event order); after the lanes' own part, a block's output
    // rows and their indices.
    T* out_lanes = scratch.get<T>(omp_get_thread_num(), bytes + block_bytes);
    T* spare_row = out_lanes + out_cols * W;
    T* zero_row = spare_row + W;
    std::fill(zero_row, zero_row + W, T(0));
    T* own_event_lanes = out_lanes + lanes::event_rows_offset<T, W>(shape.m, shape.n) / sizeof(T);
    T* block_rows = out_lanes + bytes / sizeof(T);
    auto* block_index = reinterpret_cast<std::uint32_t*>(
        block_rows + lanes::rows_bytes<T, W>(blocks::kEvents + 1) / sizeof(T));
    std::vector<T> carry_re, carry_im;  // W lanes a block
    // nowait: the region's end is the one barrier (on a busy machine each
    // barrier waits for a descheduled thread, a scheduler tick or more).
#pragma omp for schedule(static) nowait
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      T* event_lanes =
          saved_rows ? saved_rows + chunk * (chunk_bytes / sizeof(T)) : own_event_lanes;
      for (std::int64_t h = 0; h < plan.heads; ++h) {
        const std::int64_t off = h * events;
        const blocks::InputBlocks<T>& b = head_blocks[h];
        carry_re.assign(static_cast<std::size_t>(b.count * W), T(0));
        if (Phased) carry_im.assign(static_cast<std::size_t>(b.count * W), T(0));
        lanes::load_ranked<T, W>(
            in, batch, in_cols, b0, [&](std::int64_t j) { return b.inputs[j].rank; }, event_lanes,
            [&](std::int64_t j, const T* row) {
              const blocks::InputSlot<T>& slot = b.inputs[j];
              const std::int64_t block = slot.block;
              T* sum_re = carry_re.data() + block * W;
              const T w_re = slot.weight_re;
              if constexpr (Phased) {
                T* sum_im = carry_im.data() + block * W;
                const T w_im = slot.weight_im;
#pragma omp simd
                for (int l = 0; l < W; ++l) {
                  sum_re[l] += w_re * row[l];
                  sum_im[l] += w_im * row[l];
                }
              } else {
#pragma omp simd
                for (int l = 0; l < W; ++l) sum_re[l] += w_re * row[l];
              }
            });
        blocks::sums_to_carries<T, W, Phased>(b, d.re.data() + off,
                                              Phased ? d.im.data() + off : nullptr, down_sign,
                                              carry_re.data(), carry_im.data());
        const HeadConstants<T> c = lanes::head_constants(shape, p, h);
        const ScanInput<T> scan_in{plan.code.data() + off,
                                   Gains ? gains.data() + off : nullptr,
                                   d.re.data() + off,
                                   Phased ? d.im.data() + off : nullptr,
                                   c.cos_phi,
                                   c.sin_phi,
                                   transposed};
        LaneState<T, W> up;
        const T* next_input_row = event_lanes;
        for (std::int64_t block = 0; block < b.count; ++block) {
          const std::int64_t k0 = block * blocks::kEvents;
          const std::int64_t k1 = std::min(k0 + blocks::kEvents, events);
          const std::int64_t outputs = scan_up<T, W, Phased, Gains>(
              scan_in, k0, k1, next_input_row, up, zero_row, block_rows, block_index);
          LaneState<T, W> down;
          std::copy_n(carry_re.data() + block * W, W, down.re);
          if (Phased) std::copy_n(carry_im.data() + block * W, W, down.im);
          scan_down<T, W, Phased, Gains>(scan_in, k0, k1, next_input_row, down, block_rows,
                                         outputs, spare_row);
          if (h == 0)
            scatter_rows<T, W, false>(block_rows, block_index, outputs, out_lanes);
          else
            scatter_rows<T, W, true>(block_rows, block_index, outputs, out_lanes);
        }
      }
      lanes::stream_fence();
      lanes::store<T, W>(out_lanes, batch, out_cols, b0, out);
    }
  }
}

template <class T, bool Phased, bool Gains>
void dispatch_width(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& p, const Decays<T>& d, const std::vector<T>& gains,
                    bool transposed, const T* in, T* out, LaplexSaved<T>* save, int lanes) {
  if (lanes == 0)
    lanes = lanes::apply_width(shape.batch, omp_get_max_threads());
  switch (lanes) {
    case 32:
      return apply_batch<T, 32, Phased, Gains>(plan, shape, p, d, gains, transposed, in, out, save);
    case 16:
      return apply_batch<T, 16, Phased, Gains>(plan, shape, p, d, gains, transposed, in, out, save);
    case 8:
      return apply_batch<T, 8, Phased, Gains>(plan, shape, p, d, gains, transposed, in, out, save);
    case 4:
      return apply_batch<T, 4, Phased, Gains>(plan, shape, p, d, gains, transposed, in, out, save);
    default:
      return apply_batch<T, 1, Phased, Gains>(plan, shape, p, d, gains, transposed, in, out, save);
  }
}

template <class T>
void apply(const LaplexPlan<T>& plan, const LaplexShape& shape, const LaplexParamPtrs<T>& p,
           bool transposed, const T* in, T* out, LaplexSaved<T>* save, int lanes) {
  lanes::check_plan(plan, shape, p);
  check(lanes == 0 || std::find(std::begin(lanes::kWidths), std::end(lanes::kWidths), lanes) !=
                          std::end(lanes::kWidths),
        "laplex: lanes per chunk must be 0, 1, 4, 8, 16 or 32, not " + std::to_string(lanes));
  if (save) save->release();  // nothing stale survives a forward that saves nothing
  const std::int64_t out_cols = transposed ? shape.n : shape.m;
  if (shape.batch == 0) return;
  if (plan.events() == 0 || (transposed ? shape.m : shape.n) == 0) {
    std::fill(out, out + shape.batch * out_cols, T(0));
    return;
  }
  Decays<T> d = lanes::make_decays(plan, shape, p, false);
  std::vector<T> gains = make_event_gains(plan, shape, p);
  const bool g = p.has_gains();
  if (plan.heads != 1 || transposed) save = nullptr;
  if (shape.phased && g)
    dispatch_width<T, true, true>(plan, shape, p, d, gains, transposed, in, out, save, lanes);
  else if (shape.phased)
    dispatch_width<T, true, false>(plan, shape, p, d, gains, transposed, in, out, save, lanes);
  else if (g)
    dispatch_width<T, false, true>(plan, shape, p, d, gains, transposed, in, out, save, lanes);
  else
    dispatch_width<T, false, false>(plan, shape, p, d, gains, transposed, in, out, save, lanes);
  if (save && save->rows) {
    save->decay_re = std::move(d.re);
    save->decay_im = std::move(d.im);
    save->gains = std::move(gains);
  }
}

}  // namespace

template <class T>
void laplex_forward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& params, const T* x, T* y, LaplexSaved<T>* save,
                    int lanes) {
  apply(plan, shape, params, false, x, y, save, lanes);
}

template <class T>
void laplex_apply_transposed(const LaplexPlan<T>& plan, const LaplexShape& shape,
                             const LaplexParamPtrs<T>& params, const T* g, T* out) {
  apply(plan, shape, params, true, g, out, static_cast<LaplexSaved<T>*>(nullptr), 0);
}

std::size_t laplex_cpu_bytes(const LaplexShape& shape, int threads, std::size_t value_size,
                             bool backward) {
  // The backward's lanes, at least the forward's (lanes::apply_width): its
  // scratch and the saved rows padded to its chunks bound the forward's.
  const int w = lanes::widest_width(shape.batch, threads);
  // Counted in double: the largest sizes a caller may ask about (batch
  // 2^31, 2^20 heads of 2^32 events) overflow 64 bits, and a wrapped count
  // would pass a memory check. The result saturates at SIZE_MAX.
  const double events = static_cast<double>(shape.heads) * static_cast<double>(shape.m + shape.n);
  const double m = static_cast<double>(shape.m), n = static_cast<double>(shape.n);
  const double value = static_cast<double>(value_size);
  const double lanes_bytes = value * w;
  const double chunks = static_cast<double>((shape.batch + w - 1) / w);
  const double used = std::min(static_cast<double>(threads), chunks);
  // Per thread: input/output rows, event rows, dx rows (lanes::scratch_bytes),
  // and the forward's block of output rows, their indices and its carries
  // (laplex_blocks.h).
  const double block_count = std::ceil(events / static_cast<double>(shape.heads) /
                                        static_cast<double>(blocks::kEvents));
  double bytes = used * (lanes_bytes * (2 * m + 3 * n + 8) +
                         (lanes_bytes + 4) * static_cast<double>(blocks::kEvents + 1) +
                         2 * lanes_bytes * block_count);
  // Every head's input slots.
  bytes += static_cast<double>(shape.heads) * std::max(m, n) * (2 * 4 + 2 * value);
  // Plan: codes, gaps and the sort's two item buffers; decays and gains.
  bytes += events * (4 + value + 2 * 16) + events * value * 4;
  if (backward)
    bytes += used * 8 * value * events  // per-thread event sums
             + chunks * lanes_bytes * events;  // the saved forward rows
  constexpr double kMax = static_cast<double>(std::numeric_limits<std::size_t>::max());
  return bytes >= kMax ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(bytes);
}

template void laplex_forward(const LaplexPlan<float>&, const LaplexShape&,
                             const LaplexParamPtrs<float>&, const float*, float*,
                             LaplexSaved<float>*, int);
template void laplex_forward(const LaplexPlan<double>&, const LaplexShape&,
                             const LaplexParamPtrs<double>&, const double*, double*,
                             LaplexSaved<double>*, int);
template void laplex_apply_transposed(const LaplexPlan<float>&, const LaplexShape&,
                                      const LaplexParamPtrs<float>&, const float*, float*);
template void laplex_apply_transposed(const LaplexPlan<double>&, const LaplexShape&,
                                      const LaplexParamPtrs<double>&, const double*, double*);

}  // namespace laplex::cpu
