#include "layers/norm/batchnorm.h"

#include <string>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/error.h"
#include "core/printable.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "layers/norm/cpu/batchnorm_cpu.h"
#include "layers/registry.h"

namespace laplex {

BatchNorm::BatchNorm(const BatchNormOptions& options) : options_(options) {
  const std::int64_t c = options.features;
  if (options.affine) {
    weight = Tensor::ones({c});
    bias = Tensor::zeros({c});
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
  running_mean = Tensor::zeros({c});
  running_var = Tensor::ones({c});
  register_buffer("running_mean", &running_mean);
  register_buffer("running_var", &running_var);
}

namespace {

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// The fused CPU kernels (cpu/batchnorm_cpu.h) serve float32/float64 when the
// parameters share x's dtype; anything else takes the composed ops.
bool uses_cpu_kernels(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  auto same = [&](const Tensor& t) {
    return !t.defined() || (t.device().is_cpu() && t.dtype() == x.dtype());
  };
  return x.device().is_cpu() && (x.dtype() == DType::f32 || x.dtype() == DType::f64) &&
         same(weight) && same(bias);
}

// One autograd op over the fused kernels; its backward is not differentiable
// again.
Tensor fused_batchnorm(const Tensor& x_in, const Tensor& weight, const Tensor& bias,
                       bool training, const Tensor& running_mean, const Tensor& running_var,
                       double eps, Tensor& batch_mean, Tensor& batch_var) {
  const Tensor x = x_in.detach().contiguous();
  const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  const Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  cpu::BatchNormSaved saved;
  Tensor y = training ? cpu::batchnorm_train_forward(x, w, b, eps, saved, batch_var)
                      : cpu::batchnorm_eval_forward(x, w, b, running_mean, running_var, eps, saved);
  batch_mean = saved.mean;
  const bool need_x = wants_grad(x_in), need_w = wants_grad(weight), need_b = wants_grad(bias);
  autograd::record(y, {x_in, weight, bias}, "batchnorm",
                   [x, w, saved, training, need_x, need_w,
                    need_b](const std::vector<Tensor>& g) -> std::vector<Tensor> {
                     if (!g[0].defined()) return {Tensor(), Tensor(), Tensor()};
                     const Tensor gy = g[0].to(x.dtype()).contiguous();
                     cpu::BatchNormGrads grads = cpu::batchnorm_backward(
                         gy, x, w, saved, training, need_x, need_w, need_b);
                     return {grads.x, grads.weight, grads.bias};
                   });
  return y;
}

}  // namespace

void BatchNorm::on_state_loaded() {
  const std::vector<double> var = running_var.to(Device::cpu()).to(DType::f64).to_vector<double>();
  for (std::size_t c = 0; c < var.size(); ++c)
    if (var[c] < 0)
      throw UsageError("state dict: batchnorm running_var must be >= 0, channel " +
                       std::to_string(c) + " holds " + printable(var[c]));
}

Tensor BatchNorm::forward(const Tensor& x) {
  const std::int64_t c = options_.features;
  const bool image = options_.dims == 2;
  check(x.dim() == (image ? 4 : 2) && x.size(1) == c,
        std::string("batchnorm: expected ") + (image ? "(B, " : "(B, ") + std::to_string(c) +
            (image ? ", H, W)" : ")") + ", got " + shape_str(x.shape()));
  const bool training = is_training();
  const std::int64_t count = x.numel() / c;
  if (training)
    check(count > 1, "batchnorm: training needs more than one value per channel, got " +
                         shape_str(x.shape()));
  if (uses_cpu_kernels(x, weight, bias)) {
    Tensor batch_mean, batch_var;
    const Tensor y = fused_batchnorm(x, weight, bias, training, running_mean, running_var,
                                     options_.eps, batch_mean, batch_var);
    if (training) update_running_stats(batch_mean, batch_var, count);
    return y;
  }
  const std::vector<std::int64_t> over = image ? std::vector<std::int64_t>{0, 2, 3}
                                               : std::vector<std::int64_t>{0};
  const Shape per_channel = image ? Shape{1, c, 1, 1} : Shape{1, c};
  Tensor normalised;
  if (training) {
    const Tensor mu = mean(x, over, true);
    const Tensor centred = sub(x, mu);
    const Tensor var = mean(square(centred), over, true);
    normalised = div(centred, sqrt(add(var, options_.eps)));
    update_running_stats(reshape(mu.detach(), {c}), reshape(var.detach(), {c}), count);
  } else {
    normalised = div(sub(x, reshape(running_mean, per_channel)),
                     sqrt(add(reshape(running_var, per_channel), options_.eps)));
  }
  if (!options_.affine) return normalised;
  return add(mul(normalised, reshape(weight, per_channel)), reshape(bias, per_channel));
}

void BatchNorm::update_running_stats(const Tensor& batch_mean, const Tensor& batch_var,
                                     std::int64_t count) {
  NoGradGuard no_grad;
  const double m = options_.momentum;
  const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
  running_mean = add(mul(running_mean, 1 - m), mul(batch_mean, m));
  running_var = add(mul(running_var, 1 - m), mul(batch_var, m * unbias));
}

namespace {
const ModuleRegistration registration("batchnorm", [](config::ConfigNode& node, BuildContext&) {
  BatchNormOptions o;
  o.features = node.get<std::int64_t>("features");
  o.dims = static_cast<int>(node.get_or<std::int64_t>("dims", 1));
  o.eps = node.get_or<double>("eps", 1e-5);
  o.momentum = node.get_or<double>("momentum", 0.1);
  o.affine = node.get_or<bool>("affine", true);
  if (o.features < 1) node.fail("features", "must be >= 1");
  if (o.dims != 1 && o.dims != 2) node.fail("dims", "must be 1 (B, C) or 2 (B, C, H, W)");
  if (!(o.eps > 0)) node.fail("eps", "must be > 0");
  if (!(o.momentum >= 0 && o.momentum <= 1)) node.fail("momentum", "must be in [0, 1]");
  return std::make_shared<BatchNorm>(o);
});
}  // namespace

}  // namespace laplex
