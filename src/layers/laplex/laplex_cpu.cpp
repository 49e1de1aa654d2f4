// Forward and transposed apply: per head, an ascending and a descending scan
// over the merged anchors (laplex-math.md section 2; transposed: section 3,
// P and Q). Inputs sit at one class of events (sources for the forward,
// targets for the transposed apply) and outputs are read at the other.
//
// A chunk of W batch rows is transposed into input rows (W values a row) in
// the order the inputs come in the events (lanes::load_ranked: random
// writes of whole rows, streamed, which do not stall the core as random
// reads do). The ascending scan reads those rows in order and writes
// Re[gain e^{i phi} L] at each output event to the next of the output rows,
// also in event order. The descending scan reads both back in reverse order
// and scatters each output row once. So every random access is a whole row,
// written once. The input rows, in event order, are what the backward reads
// as x from a saved forward.
//
// The scans are branch-free: targets and sources interleave at random, and a
// mispredicted branch per event cost more than the event's arithmetic. An
// output event reads a row of zeros; an input event writes to a dummy row
// (a plain store, so no chain through memory).
#include "layers/laplex/laplex_cpu.h"

#include <omp.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>

#include "layers/laplex/laplex_event_gains.h"
#include "layers/laplex/laplex_lanes.h"

namespace laplex::cpu {

namespace {

using lanes::Decays;
using lanes::HeadConstants;

// Events between the prefetch of an output row and its write in the
// descending scan: a random row costs a DRAM latency. 64 was chosen when the
// ascending scan still gathered its input rows with the same distance (64
// against 32, alternating builds, B = 64, random anchors: forward at
// n = 2^17 26.6-31.5 ms against 29.9-33.3, at 2^20 258-267 against 274-282);
// not measured again for the scatter alone.
constexpr std::int64_t kPrefetchDistance = 64;

// The event's kind and output row without a branch: `input` is 1 at an
// input event; `out_row` is the index at an output event and `dummy_row`
// otherwise.
struct EventRows {
  std::uint32_t input, out_row;
};

inline EventRows event_rows(std::uint32_t code, bool transposed, std::uint32_t dummy_row) {
  const std::uint32_t index = code & ~kLaplexTargetBit;
  const std::uint32_t target = code >> 31;
  const std::uint32_t input = target ^ static_cast<std::uint32_t>(!transposed);
  const std::uint32_t mask = 0u - input;  // all ones at an input event
  return {input, (index & ~mask) | (dummy_row & mask)};
}

// What one head's scans of one chunk read. The event rows: in_count input
// rows in event order, then out_count output rows in event order; the
// output rows in index order end in a dummy row (index out_count).
template <class T>
struct ScanInput {
  const std::uint32_t* code;
  const T* gain;  // null without gains
  const T* decay_re;
  const T* decay_im;  // phased only
  std::int64_t events;
  std::uint32_t in_count, out_count;
  T cos_phi, sin_phi;
  bool transposed;
};

// Ascending: decay into an event, then handle it. The forward's L takes lam,
// the transposed apply's Q conj(lam). The input rows are already in event
// order (lanes::load_ranked), so they are read in order; an output event
// reads a zero row instead and writes Re[gain e^{i phi} L] to the next
// output row; an input event writes to a dummy row (a plain store to a line
// in L1, so no branch). The input rows keep the inputs without their gains:
// that is what the backward reads back from a saved forward (dv needs x
// itself).
template <class T, int W, bool Phased, bool Gains>
void scan_up(const ScanInput<T>& in, T* event_lanes, const T* zero_row, T* dummy_row) {
  alignas(64) T sr[W] = {};
  alignas(64) T si[W] = {};
  const T* next_input_row = event_lanes;
  T* next_output_row = event_lanes + static_cast<std::int64_t>(in.in_count) * W;
  const T sign = in.transposed ? T(-1) : T(1);
  for (std::int64_t k = 0; k < in.events; ++k) {
    const EventRows r = event_rows(in.code[k], in.transposed, in.out_count);
    const std::uintptr_t input_mask = 0 - std::uintptr_t{r.input};
    const T* value = lanes::pick_row(input_mask, next_input_row, zero_row);
    T* out = lanes::pick_row(input_mask, dummy_row, next_output_row);
    next_input_row += r.input * W;
    next_output_row += (1 - r.input) * W;
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
}

// Descending: handle an event, then decay past its gap. The forward's R
// takes conj(lam), the transposed apply's P lam. `Accumulate` adds to the
// output rows (heads after the first).
template <class T, int W, bool Phased, bool Gains, bool Accumulate>
void scan_down(const ScanInput<T>& in, const T* event_lanes, T* out_lanes) {
  alignas(64) T sr[W] = {};
  alignas(64) T si[W] = {};
  // One past the row of the last input and of the last output event.
  const T* input_row_end = event_lanes + static_cast<std::int64_t>(in.in_count) * W;
  const T* output_row_end = input_row_end + static_cast<std::int64_t>(in.out_count) * W;
  const T sign = in.transposed ? T(1) : T(-1);
  auto rows = [&](std::int64_t k) __attribute__((always_inline)) {
    return event_rows(in.code[k], in.transposed, in.out_count);
  };
  // Always inlined: see lanes::prefetch_row.
  auto prefetch = [&](std::int64_t k) __attribute__((always_inline)) {
    lanes::prefetch_row<T, W>(out_lanes + static_cast<std::int64_t>(rows(k).out_row) * W);
  };
  for (std::int64_t k = in.events - 1; k >= 0; --k) {
    if (k >= kPrefetchDistance) prefetch(k - kPrefetchDistance);
    const EventRows r = rows(k);
    input_row_end -= r.input * W;
    output_row_end -= (1 - r.input) * W;
    const T* value = lanes::pick_row(0 - std::uintptr_t{r.input}, input_row_end, output_row_end);
    T* out = out_lanes + static_cast<std::int64_t>(r.out_row) * W;
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
        const T result = v + br * re - bi * si[l];
        out[l] = Accumulate ? out[l] + result : result;
        sr[l] = er * re - ei * si[l];
        si[l] = er * si[l] + ei * re;
      }
    } else {
      const T br = out_gain * in.cos_phi;
#pragma omp simd
      for (int l = 0; l < W; ++l) {
        const T v = value[l];
        const T re = sr[l] + add * v;
        const T result = v + br * re;
        out[l] = Accumulate ? out[l] + result : result;
        sr[l] = er * re;
      }
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
  // Each head's rank of every input among the inputs in event order: the
  // input rows are loaded in that order.
  std::vector<std::uint32_t> input_rank(static_cast<std::size_t>(plan.heads * in_cols));
  for (std::int64_t h = 0; h < plan.heads; ++h) {
    const std::uint32_t* code = plan.code.data() + h * events;
    std::uint32_t* rank = input_rank.data() + h * in_cols;
    const std::uint32_t input_target = transposed ? 1u : 0u;
    std::uint32_t next = 0;
    for (std::int64_t k = 0; k < events; ++k)
      if ((code[k] >> 31) == input_target) rank[code[k] & ~kLaplexTargetBit] = next++;
  }
#pragma omp parallel if (chunks > 1 && (in_cols + out_cols) * batch > lanes::kParallelWork)
  {
    // Output rows, a dummy row and a zero row; then the event rows: the
    // input rows in event order, then the output events' rows.
    T* out_lanes = scratch.get<T>(omp_get_thread_num(), bytes);
    T* dummy_row = out_lanes + out_cols * W;
    T* zero_row = dummy_row + W;
    std::fill(zero_row, zero_row + W, T(0));
    T* own_event_lanes = out_lanes + lanes::event_rows_offset<T, W>(shape.m, shape.n) / sizeof(T);
    // nowait: the region's end is the one barrier (on a busy machine each
    // barrier waits for a descheduled thread, a scheduler tick or more).
#pragma omp for schedule(static) nowait
    for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::int64_t b0 = chunk * W;
      T* event_lanes =
          saved_rows ? saved_rows + chunk * (chunk_bytes / sizeof(T)) : own_event_lanes;
      for (std::int64_t h = 0; h < plan.heads; ++h) {
        const std::int64_t off = h * events;
        lanes::load_ranked<T, W>(in, batch, in_cols, b0, input_rank.data() + h * in_cols,
                                 event_lanes);
        const HeadConstants<T> c = lanes::head_constants(shape, p, h);
        const ScanInput<T> scan_in{plan.code.data() + off,
                                   Gains ? gains.data() + off : nullptr,
                                   d.re.data() + off,
                                   Phased ? d.im.data() + off : nullptr,
                                   events,
                                   static_cast<std::uint32_t>(in_cols),
                                   static_cast<std::uint32_t>(out_cols),
                                   c.cos_phi,
                                   c.sin_phi,
                                   transposed};
        scan_up<T, W, Phased, Gains>(scan_in, event_lanes, zero_row, dummy_row);
        if (h == 0)
          scan_down<T, W, Phased, Gains, false>(scan_in, event_lanes, out_lanes);
        else
          scan_down<T, W, Phased, Gains, true>(scan_in, event_lanes, out_lanes);
      }
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
  // Per thread: input/output rows, event rows, dx rows (lanes::scratch_bytes).
  double bytes = used * lanes_bytes * (2 * m + 3 * n + 8);
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
