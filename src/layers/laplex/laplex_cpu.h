#pragma once
// The CPU LAPLEX kernels on raw buffers (laplex-math.md sections 2 and 3):
// the forward y = W x, the transposed apply W^T g and every gradient, each
// a few linear scans over a plan's merged anchors. The batch is laid out
// lane-major inside a scan, so one event updates a run of contiguous batch
// values; threads split the batch. Memory: O(H (m + n) + B (m + n)).
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "layers/laplex/laplex_plan.h"
#include "layers/laplex/laplex_shape.h"

namespace laplex::cpu {

// What a one-head forward keeps for the backward of the same call: every
// batch chunk's event rows, whose first n rows hold x in anchor order (the
// source rows in event order; the backward writes its own rows over the
// other m). With them the backward reads x in order instead of gathering it
// at random, and does not transpose x again; those gathers and
// the writebacks of the rows they dirtied made the backward cost 2.5-3.5
// forwards. B (m + n) values, lent by the plan's scratch pool (fresh pages
// cost a fault and a clear each) and handed back by the backward, which
// consumes them: a second backward of the same forward recomputes.
template <class T>
struct LaplexSaved {
  LaplexSaved() = default;
  LaplexSaved(const LaplexSaved&) = delete;
  LaplexSaved& operator=(const LaplexSaved&) = delete;
  ~LaplexSaved() { release(); }

  // Hands the rows back to the pool when no call holds it, else frees them.
  // Not from inside a kernel of the same pool (it holds the pool's mutex).
  void release() {
    if (rows && pool) {
      std::unique_lock<std::mutex> lock(pool->mutex, std::try_to_lock);
      if (lock.owns_lock() && pool->saved_bytes < bytes) {
        pool->saved = std::move(rows);
        pool->saved_bytes = bytes;
      }
    }
    rows.reset();
    bytes = 0;
    plan = nullptr;
    decay_re = {};
    decay_im = {};
    gains = {};
  }

  std::unique_ptr<std::byte, LaplexScratchPool::Free> rows;
  std::size_t bytes = 0;
  // The forward's per-event decays e^{-lam gap} (im when phased) and gains:
  // the backward needs the same, and recomputing them cost it a pass.
  std::vector<T> decay_re, decay_im, gains;
  std::shared_ptr<LaplexScratchPool> pool;  // where the rows go back
  // What the rows were made for: the backward uses them only for the same.
  const void* plan = nullptr;
  std::int64_t batch = 0, m = 0, n = 0;
  int width = 0;  // batch lanes per forward chunk
  // Lanes per chunk of the backward that reads them, a multiple of `width`:
  // each of its rows is backward_width / width forward rows, one from each
  // of as many consecutive forward chunks (padded with zero chunks).
  int backward_width = 0;
};

// y (B, m) = x (B, n) W^T, summed over heads; no bias. With `save` and one
// head, also fills it for laplex_backward (with several heads it is left
// empty: the rows would be H B (m + n) values). `lanes` (32, 16, 8, 4 or
// 1) fixes the batch lanes per chunk, for tests and tuning; 0 picks them
// (lanes::apply_width).
template <class T>
void laplex_forward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                    const LaplexParamPtrs<T>& params, const T* x, T* y,
                    LaplexSaved<T>* save = nullptr, int lanes = 0);

// Bytes the CPU kernels allocate for one call of these sizes on `threads`
// threads (plan, decays, per-thread lanes and sums, and with `backward` the
// saved forward rows), not counting the caller's x, y, g and dx.
std::size_t laplex_cpu_bytes(const LaplexShape& shape, int threads, std::size_t value_size,
                             bool backward);

// out (B, n) = g (B, m) W: the transposed operator.
template <class T>
void laplex_apply_transposed(const LaplexPlan<T>& plan, const LaplexShape& shape,
                             const LaplexParamPtrs<T>& params, const T* g, T* out);

// Gradients of L = sum(gy * y) for y = forward(x); see LaplexGradPtrs for
// which are computed. The forward's scan states are recomputed, not stored;
// with `saved` from the forward of the same plan the backward reads x from
// it (and consumes it), otherwise from `x`.
template <class T>
void laplex_backward(const LaplexPlan<T>& plan, const LaplexShape& shape,
                     const LaplexParamPtrs<T>& params, const T* x, const T* gy,
                     const LaplexGradPtrs<T>& grads, LaplexSaved<T>* saved = nullptr);

}  // namespace laplex::cpu
