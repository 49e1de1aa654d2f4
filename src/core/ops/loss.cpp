#include "core/ops/loss.h"

#include "core/autograd/node.h"
#include "core/ops/dispatch.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss_kernels.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"

namespace laplex {

using autograd::record;

namespace {

// Moves `dim` last and flattens the rest, so kernels see (rows, C).
Tensor rows_view(const Tensor& x, std::int64_t dim) {
  const Tensor moved = dim == x.dim() - 1 ? x : transpose(x, dim, -1);
  return reshape(moved.contiguous(), {-1, x.size(dim)});
}

Tensor from_rows(const Tensor& rows, const Tensor& like, std::int64_t dim) {
  Shape moved_shape = like.shape();
  std::swap(moved_shape[dim], moved_shape.back());
  const Tensor moved = reshape(rows, moved_shape);
  return dim == like.dim() - 1 ? moved : transpose(moved, dim, -1).contiguous();
}

}  // namespace

Tensor log_softmax(const Tensor& x, std::int64_t dim) {
  const std::int64_t d = wrap_dim(dim, x.dim(), "log_softmax");
  const Tensor rows = rows_view(x.detach(), d);
  Tensor out_rows = Tensor::empty_like(rows);
  if (use_cuda(x)) {
#if LAPLEX_WITH_CUDA
    cuda::log_softmax_rows(rows, out_rows);
#endif
  } else {
    cpu::log_softmax_rows(rows, out_rows);
  }
  Tensor out = from_rows(out_rows, x, d);
  record(out, {x}, "log_softmax", [logp = out_rows, d, x_shape = x.shape(),
                                   like = x.detach()](const std::vector<Tensor>& g) {
    const Tensor g_rows = rows_view(g[0], d);
    Tensor grad = Tensor::empty_like(g_rows);
    if (use_cuda(g_rows)) {
#if LAPLEX_WITH_CUDA
      cuda::log_softmax_backward_rows(g_rows, logp, grad);
#endif
    } else {
      cpu::log_softmax_backward_rows(g_rows, logp, grad);
    }
    return std::vector<Tensor>{from_rows(grad, like, d)};
  });
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, double label_smoothing) {
  check_same_device("cross_entropy", {logits, targets});
  if (logits.dim() != 2)
    throw Error("cross_entropy: logits must be (batch, classes), got " + shape_str(logits.shape()));
  if (targets.dim() != 1 || targets.size(0) != logits.size(0))
    throw Error("cross_entropy: targets must be (batch,) = (" + std::to_string(logits.size(0)) +
                ",), got " + shape_str(targets.shape()));
  if (targets.dtype() != DType::i64 && targets.dtype() != DType::i32)
    throw Error("cross_entropy: targets must be int64 or int32 class indices");
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    throw Error("cross_entropy: label_smoothing must be in [0, 1]");
  const Tensor x = logits.detach().contiguous();
  const Tensor t = targets.to(DType::i64).contiguous();
  Tensor loss_rows = Tensor::empty({x.size(0)}, x.dtype(), x.device());
  Tensor grad = Tensor::empty_like(x);
  if (use_cuda(x)) {
#if LAPLEX_WITH_CUDA
    cuda::cross_entropy_rows(x, t, label_smoothing, loss_rows, grad);
#endif
  } else {
    cpu::cross_entropy_rows(x, t, label_smoothing, loss_rows, grad);
  }
  // The kernel already divided the gradient by the batch size (mean).
  Tensor loss = mean(loss_rows);
  record(loss, {logits}, "cross_entropy", [grad](const std::vector<Tensor>& g) {
    return std::vector<Tensor>{mul(grad, g[0])};
  });
  return loss;
}

Tensor mse(const Tensor& a, const Tensor& b) { return mean(square(sub(a, b))); }

}  // namespace laplex
