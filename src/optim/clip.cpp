#include "optim/clip.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"

namespace laplex::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard no_grad;
  // The squares are summed where the gradients live and read once: an
  // item() per parameter would wait for the GPU once per parameter.
  Tensor total;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const Tensor squares = sum(square(g.to(DType::f64)));
    total = total.defined() ? add(total, squares) : squares;
  }
  const double norm = total.defined() ? std::sqrt(total.item()) : 0.0;
  const double scale = max_norm / (norm + 1e-6);
  if (scale < 1.0)
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (g.defined()) g.copy_(mul(g, scale));
    }
  return norm;
}

}  // namespace laplex::optim
