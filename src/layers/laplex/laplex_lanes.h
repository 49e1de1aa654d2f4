#pragma once
// Pieces the CPU scans share (internal to the laplex CPU kernels): the batch
// as lanes, and the per-event decay factors of a head.
#include <omp.h>
#include <sys/mman.h>
#include <cstddef>
#include <mutex>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "layers/laplex/laplex_plan.h"
#include "layers/laplex/laplex_shape.h"
#include "layers/laplex/laplex_transpose.h"

namespace laplex::cpu::lanes {

// Lane widths the scans are compiled for. A scan keeps W batch values per
// state in registers, so one event costs a few vector instructions.
inline constexpr int kWidths[] = {32, 16, 8, 4, 1};

// Below this much work (values touched) a loop runs on one thread: waking a
// team costs more than it saves, and far more on a loaded machine.
inline constexpr std::int64_t kParallelWork = std::int64_t{1} << 15;

// Events up to which a pass of a few nanoseconds an event (the decay
// factors, the forward's input blocks, the parameter gradients) runs on one
// thread. At n = m = 2^16 (2^17 events) two threads took the forward from
// 8.3-8.9 to 8.2-8.5 ms on the idle VM (2026-12-08, alternating builds);
// an earlier day, on a loaded VM, one thread had been faster there, as a
// parallel region waited for a descheduled thread (4-8 ms), but the
// forward's own region follows and waits for it anyway.
inline constexpr std::int64_t kParallelEventPass = std::int64_t{1} << 16;

// The widest lanes per chunk that still give every thread a chunk: a
// random row of 128 bytes gathered at about twice the rate of a 64-byte
// one here (the second line comes with the first), and each event's fixed
// work then serves the most values.
inline int widest_width(std::int64_t batch, int threads) {
  const std::int64_t wanted = std::max<std::int64_t>(1, std::min<std::int64_t>(threads, batch));
  for (int w : kWidths)
    if (w <= std::max<std::int64_t>(batch, 1) && (batch + w - 1) / w >= wanted) return w;
  return 1;
}

// The forward's and the transposed apply's lanes per chunk: at most 16.
// A row of 16 floats is one cache line, which the input load streams whole
// and the descending scan's scattered output rows fill whole, and each
// event's fixed work (its code, the row picks, the decay) serves 16 values.
// On the 2-core EPYC VM (Zen 1, L2 512 KiB a core, L3 8 MiB), B = 64,
// random anchors, forward ms without the sort, medians of 15 (2026-12-08,
// once the descending scan's prefetches were compiled in), 8 / 16 / 32
// lanes: n = 2^14 2.34 / 1.89 / 2.02; 2^15 6.0 / 4.5 / 5.0; 2^16 13.3 /
// 10.0 / 10.5; 2^17 31.4 / 21.7 / 22.4; 2^18 68.6 / 44.9 / 44.8. (Before
// that fix 8 lanes won at 2^15-2^16, and the rule took them there.)
inline int apply_width(std::int64_t batch, int threads) {
  return std::min(widest_width(batch, threads), 16);
}

// The lanes of the backward that reads a forward's saved rows. Its events
// do a batch sum and a store each per chunk, work that narrower chunks only
// multiply (at n = 2^16 it took 20 ms on 8-lane chunks against 14 ms on 32),
// and its random reads are g rows of targets only. So it takes the widest
// chunks, reading the rows of narrower forward chunks as pieces of its
// wider rows (the forward pads its saved chunks to whole backward chunks).
inline int saved_backward_width(std::int64_t batch, int threads, int forward_width) {
  const int widest = widest_width(batch, threads);
  const bool pieces = (forward_width == 8 && (widest == 16 || widest == 32)) ||
                      (forward_width == 16 && widest == 32);
  return pieces ? widest : forward_width;
}

// Uninitialised scratch, one buffer per thread, borrowed from the plan's
// pool when no other call holds it. Buffers sit on 2 MiB boundaries and ask
// for transparent huge pages: the scans visit their rows in anchor order,
// i.e. at random, and with 4 KiB pages nearly every visit also missed the
// TLB (a random 64-byte gather ran 1.6x faster on huge pages here).
inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

inline std::unique_ptr<std::byte, LaplexScratchPool::Free> huge_buffer(std::size_t bytes) {
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + kHugePage - 1) / kHugePage * kHugePage;
  auto* p = static_cast<std::byte*>(::operator new[](rounded, std::align_val_t(kHugePage)));
  madvise(p, rounded, MADV_HUGEPAGE);
  return std::unique_ptr<std::byte, LaplexScratchPool::Free>(p);
}

class ThreadScratch {
 public:
  ThreadScratch(LaplexScratchPool& pool, int threads) : lock_(pool.mutex, std::try_to_lock) {
    if (lock_.owns_lock()) {
      pool_ = &pool;
    } else {
      own_ = std::make_unique<LaplexScratchPool>();
      pool_ = own_.get();
    }
    for (int slot = 0; slot < LaplexScratchPool::kSlots; ++slot) {
      auto& buffers = pool_->buffers[slot];
      buffers.resize(std::max<std::size_t>(buffers.size(), threads));
      pool_->bytes[slot].resize(buffers.size(), 0);
    }
  }
  // The calling thread's buffer of a slot, at least `bytes` long; call
  // inside the parallel region, so each thread first touches (faults in)
  // its own pages.
  template <class T>
  T* get(int thread, std::size_t bytes, LaplexScratchPool::Slot slot = LaplexScratchPool::kLanes) {
    if (pool_->bytes[slot][thread] < bytes) {
      pool_->buffers[slot][thread] = huge_buffer(bytes);
      pool_->bytes[slot][thread] = bytes;
    }
    return reinterpret_cast<T*>(pool_->buffers[slot][thread].get());
  }
  // Rows a forward keeps for its backward: the pool's spare when it is big
  // enough, fresh ones otherwise; `got` is their size. Call outside the
  // parallel region.
  std::unique_ptr<std::byte, LaplexScratchPool::Free> lend_saved(std::size_t bytes,
                                                                 std::size_t& got) {
    if (pool_->saved && pool_->saved_bytes >= bytes) {
      got = pool_->saved_bytes;
      pool_->saved_bytes = 0;
      return std::move(pool_->saved);
    }
    got = bytes;
    return huge_buffer(bytes);
  }
  // And back, from the backward that read them.
  void keep_saved(std::unique_ptr<std::byte, LaplexScratchPool::Free> rows, std::size_t bytes) {
    if (rows && pool_->saved_bytes < bytes) {
      pool_->saved = std::move(rows);
      pool_->saved_bytes = bytes;
    }
  }

 private:
  std::unique_lock<std::mutex> lock_;
  std::unique_ptr<LaplexScratchPool> own_;
  LaplexScratchPool* pool_ = nullptr;
};

// Rows of W values carved from one thread buffer, each part on a 64-byte
// boundary.
template <class T, int W>
inline std::size_t rows_bytes(std::int64_t rows) {
  return (sizeof(T) * W * static_cast<std::size_t>(std::max<std::int64_t>(rows, 0)) + 63) / 64 * 64;
}

// Where a thread's event rows start: after room for all m + n rows and two
// more, with a line to spare for a second part that starts on a boundary.
template <class T, int W>
inline std::size_t event_rows_offset(std::int64_t m, std::int64_t n) {
  return rows_bytes<T, W>(m + n + 2) + 64;
}

// Bytes a thread's buffer needs for the forward and the backward alike
// (x and g rows plus a zero and a dummy row, the event rows, dx rows), so
// the backward finds the forward's pages already there.
template <class T, int W>
inline std::size_t scratch_bytes(std::int64_t m, std::int64_t n) {
  return event_rows_offset<T, W>(m, n) + rows_bytes<T, W>(m + n) + rows_bytes<T, W>(n + 2);
}

// lanes[j * W + l] = x[(b0 + l) * cols + j] for the chunk's rows, zero past
// the batch.
template <class T, int W>
void load(const T* x, std::int64_t batch, std::int64_t cols, std::int64_t b0, T* lanes) {
  const std::int64_t count = std::min<std::int64_t>(W, batch - b0);
  if (count < W)
    for (std::int64_t j = 0; j < cols; ++j)
      for (int l = static_cast<int>(count); l < W; ++l) lanes[j * W + l] = T(0);
  transpose(x + b0 * cols, cols, lanes, W, count, cols);
}

// The inverse of load for the chunk's real rows: y[(b0 + l) * cols + i] = lanes[i * W + l].
template <class T, int W>
void store(const T* lanes, std::int64_t batch, std::int64_t cols, std::int64_t b0, T* y) {
  const std::int64_t count = std::min<std::int64_t>(W, batch - b0);
  transpose(lanes, W, y + b0 * cols, cols, cols, count);
}

// dst[0, W) = src[0, W) for a 64-byte aligned event row, with streaming
// stores where the row is whole vectors: the scans write every event row
// once and read it back only after all the others, so it would only evict
// the random rows they gather, and a plain store first reads the line in.
template <class T, int W>
[[gnu::always_inline]] inline void stream_row(T* dst, const T* src) {
#if defined(__AVX2__)
  if constexpr (W * sizeof(T) % 32 == 0) {
    for (int l = 0; l < W; l += static_cast<int>(32 / sizeof(T))) {
      if constexpr (sizeof(T) == 4)
        _mm256_stream_ps(reinterpret_cast<float*>(dst + l),
                         _mm256_loadu_ps(reinterpret_cast<const float*>(src + l)));
      else
        _mm256_stream_pd(reinterpret_cast<double*>(dst + l),
                         _mm256_loadu_pd(reinterpret_cast<const double*>(src + l)));
    }
    return;
  }
#endif
  for (int l = 0; l < W; ++l) dst[l] = src[l];
}

// a if mask is all ones, b if it is zero: a row picked without a branch
// (targets and sources interleave at random, and a mispredicted branch per
// event cost more than the event's arithmetic; the compiler turned ?: back
// into a branch).
template <class T>
[[gnu::always_inline]] inline T* pick_row(std::uintptr_t mask, T* a, T* b) {
  return reinterpret_cast<T*>((reinterpret_cast<std::uintptr_t>(a) & mask) |
                              (reinterpret_cast<std::uintptr_t>(b) & ~mask));
}

// Asks for the lines of one row of W values ahead of their use. Always
// inlined, and so must be every lambda that calls it: GCC takes a function
// that only prefetches for one without effects and deletes the calls to it,
// prefetches and all. The scans' prefetch lambdas lost theirs that way, and
// the forward's descending scan and the plain backward ran without any
// (found in the disassembly on 2026-12-08).
// `ForWrite` when the row will be written.
template <class T, int W, bool ForWrite = true>
[[gnu::always_inline]] inline void prefetch_row(const T* row) {
  for (int l = 0; l < W; l += 64 / static_cast<int>(sizeof(T)))
    __builtin_prefetch(row + l, ForWrite ? 1 : 0);
}

// Orders the streaming stores before what follows.
inline void stream_fence() {
#if defined(__AVX2__)
  _mm_sfence();
#endif
}

// lanes[rank(j) * W + l] = x[(b0 + l) * cols + j] for the chunk's rows, zero
// past the batch: load with the rows in the order `rank` gives (the scans'
// event order), so the ascending scan reads them in order instead of
// gathering them at random. Random writes of whole lines, streamed, do not
// hold the core up as random reads do: with random anchors, B = 64, the
// forward took 18-23 ms against 26-29 at n = 2^17 and 35-42 against 47-52
// at 2^18 (alternating builds), level at 2^16. Columns go 8 at a time
// through a tile in L1, and each row is written once; `each_row(j, row)`
// sees input j's row while it is there (the forward sums its blocks).
template <class T, int W, class RankOf, class EachRow>
void load_ranked(const T* x, std::int64_t batch, std::int64_t cols, std::int64_t b0,
                 RankOf&& rank, T* lanes, EachRow&& each_row) {
  constexpr std::int64_t kColumns = 8;
  const std::int64_t count = std::min<std::int64_t>(W, batch - b0);
  alignas(64) T tile[kColumns * W];
  std::fill(tile, tile + kColumns * W, T(0));  // lanes past the batch stay zero
  for (std::int64_t c = 0; c < cols; c += kColumns) {
    const std::int64_t width = std::min(kColumns, cols - c);
    transpose(x + b0 * cols + c, cols, tile, W, count, width);
    for (std::int64_t i = 0; i < width; ++i) {
      T* row = lanes + static_cast<std::int64_t>(rank(c + i)) * W;
      if constexpr (W * sizeof(T) % 64 == 0)
        stream_row<T, W>(row, tile + i * W);  // whole lines: no read of the line first
      else
        std::copy(tile + i * W, tile + (i + 1) * W, row);
      each_row(c + i, tile + i * W);
    }
  }
  stream_fence();
}

// Per head constants of the kernel.
template <class T>
struct HeadConstants {
  T alpha = 0, omega = 0, cos_phi = 1, sin_phi = 0;
};

template <class T>
HeadConstants<T> head_constants(const LaplexShape& shape, const LaplexParamPtrs<T>& p,
                                std::int64_t h) {
  HeadConstants<T> c;
  c.alpha = laplex_softplus(p.rho[h]);
  if (shape.phased) {
    c.omega = p.omega[h];
    c.cos_phi = std::cos(p.phi[h]);
    c.sin_phi = std::sin(p.phi[h]);
  }
  return c;
}

// The decay of every event step, e_k = exp(-lam gap_k) (imaginary part only
// when phased), and with moments also gap_k * e_k for the first-moment scans.
// An underflowed e_k gives a zero gap_k * e_k, never 0 * inf.
template <class T>
struct Decays {
  std::vector<T> re, im, moment_re, moment_im;  // H x (m + n) each, when used
};

template <class T>
Decays<T> make_decays(const LaplexPlan<T>& plan, const LaplexShape& shape,
                      const LaplexParamPtrs<T>& p, bool moments) {
  const std::int64_t events = plan.events(), total = plan.heads * events;
  Decays<T> d;
  d.re.resize(total);
  if (shape.phased) d.im.resize(total);
  if (moments) {
    d.moment_re.resize(total);
    if (shape.phased) d.moment_im.resize(total);
  }
  // One parallel loop a head computes every factor (one barrier: on a busy
  // machine each waits for a descheduled thread).
  for (std::int64_t h = 0; h < plan.heads; ++h) {
    const HeadConstants<T> c = head_constants(shape, p, h);
    const T* gap = plan.gap.data() + h * events;
    T* re = d.re.data() + h * events;
    T* im = shape.phased ? d.im.data() + h * events : nullptr;
    T* mre = moments ? d.moment_re.data() + h * events : nullptr;
    T* mim = moments && shape.phased ? d.moment_im.data() + h * events : nullptr;
    auto fill = [&](auto phased, auto with_moments) {
      constexpr bool kPhased = decltype(phased)::value, kMoments = decltype(with_moments)::value;
      auto one = [&](std::int64_t k) {
        const T magnitude = std::exp(-c.alpha * gap[k]);
        T r = magnitude, i = T(0);
        // An underflowed decay is an exact 0 without the rotation: over a
        // gap too large for T (inf) cos is NaN, and 0 * NaN is NaN.
        if constexpr (kPhased) {
          const T angle = magnitude == T(0) ? T(0) : c.omega * gap[k];
          r = magnitude * std::cos(angle);
          i = magnitude * std::sin(angle);
          im[k] = i;
        }
        re[k] = r;
        if constexpr (kMoments) {
          mre[k] = r == T(0) ? T(0) : gap[k] * r;
          if constexpr (kPhased) mim[k] = i == T(0) ? T(0) : gap[k] * i;
        }
      };
      if constexpr (kPhased) {
#pragma omp parallel for schedule(static) if (events > kParallelEventPass)
        for (std::int64_t k = 0; k < events; ++k) one(k);
      } else {
#pragma omp parallel for simd schedule(static) if (events > kParallelEventPass)
        for (std::int64_t k = 0; k < events; ++k) one(k);
      }
    };
    using Yes = std::true_type;
    using No = std::false_type;
    if (shape.phased)
      moments ? fill(Yes{}, Yes{}) : fill(Yes{}, No{});
    else
      moments ? fill(No{}, Yes{}) : fill(No{}, No{});
  }
  return d;
}

template <class T>
void check_plan(const LaplexPlan<T>& plan, const LaplexShape& shape, const LaplexParamPtrs<T>& p) {
  check_laplex_shape(shape);
  check(plan.m == shape.m && plan.n == shape.n && plan.heads == shape.heads,
        "laplex: the plan was made for other sizes");
  check(p.rho != nullptr, "laplex: missing rho");
  check(!shape.phased || (p.omega && p.phi), "laplex: a phased operator needs omega and phi");
}

}  // namespace laplex::cpu::lanes
