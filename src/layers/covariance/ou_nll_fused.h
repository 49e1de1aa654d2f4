#pragma once
// The LAPLEX-OU NLL (laplex-math.md section 4) as one fused CPU autograd op
// for float32/float64: the same function as ou_nll_composed, with
//   forward  one pass over the sorted positions for all B rows,
//   backward one more pass giving dx, dmu, dt, dd_raw, drho exactly
// (the permutation is constant). Both are parallel over chunks of sorted
// positions with OpenMP; within a chunk the B rows run one after the other,
// so every per-position sum over rows stays in the chunk's own buffers: no
// per-thread copies of n-vectors and no atomics.
//
// Memory: besides its inputs and the gradients it returns, the op keeps only
// the permutation (8 bytes per dimension, shared with the model's cache and
// the backward) and O(chunk) buffers per thread. A fresh sort needs 16 B/dim
// more while it runs (anchor_order.h), float32.
#include "layers/covariance/anchor_order.h"
#include "layers/covariance/ou_params.h"

namespace laplex {

// (B) NLL of each row of x (B, n). x and the parameters: CPU, one of
// float32/float64. `perm` must sort params.t (sort_anchors); when null it is
// computed here.
Tensor ou_nll_fused(const Tensor& x, const OuParams& params, double eps = kOuDefaultEps,
                    AnchorPermutation perm = nullptr);

}  // namespace laplex
