#include "layers/conv/conv2d.h"

#include <climits>
#include <cmath>
#include <string>

#include "core/autograd/node.h"
#include "core/error.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "layers/registry.h"
#if LAPLEX_WITH_CUDNN
#include "layers/conv/cuda/conv2d_cudnn.h"
#endif

namespace laplex {

bool conv2d_uses_cudnn(const Tensor& x) {
#if LAPLEX_WITH_CUDNN
  return x.defined() && x.device().is_cuda() && x.dtype() == DType::f32 && x.numel() > 0 &&
         x.numel() <= INT_MAX;
#else
  (void)x;
  return false;
#endif
}

#if LAPLEX_WITH_CUDNN
namespace {

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// One autograd op: cuDNN forward; the backward computes, from cuDNN, the
// gradients of just the inputs that require them.
Tensor conv2d_cudnn(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in,
                    const Window2d& window) {
  auto same_place = [&](const Tensor& t, const char* name) {
    if (t.device() != x_in.device() || t.dtype() != DType::f32)
      throw Error(std::string("conv2d: ") + name + " must be float32 on " + x_in.device().str() +
                  " like the input, got " + t.str());
  };
  same_place(weight_in, "weight");
  if (bias_in.defined()) {
    same_place(bias_in, "bias");
    check(bias_in.dim() == 1 && bias_in.size(0) == weight_in.size(0),
          "conv2d: bias must be (" + std::to_string(weight_in.size(0)) + "), got " +
              shape_str(bias_in.shape()));
  }
  const Tensor x = x_in.detach().contiguous(), weight = weight_in.detach().contiguous();
  const Tensor bias = bias_in.defined() ? bias_in.detach().contiguous() : Tensor();
  Tensor y = cuda::conv2d_cudnn_forward(x, weight, bias, window);
  const bool need_x = wants_grad(x_in), need_w = wants_grad(weight_in),
             need_b = wants_grad(bias_in);
  // Keep only what the backward reads: the weight for dx, the input for dw.
  autograd::record(
      y, {x_in, weight_in, bias_in}, "conv2d_cudnn",
      [x_shape = x.shape(), w_shape = weight.shape(), x_saved = need_w ? x : Tensor(),
       w_saved = need_x ? weight : Tensor(), window, need_x, need_w,
       need_b](const std::vector<Tensor>& g) -> std::vector<Tensor> {
        std::vector<Tensor> grads(3);
        if (!g[0].defined()) return grads;
        const Tensor gy = g[0].to(DType::f32).contiguous();
        if (need_x) grads[0] = cuda::conv2d_cudnn_backward_data(gy, w_saved, x_shape, window);
        if (need_w) grads[1] = cuda::conv2d_cudnn_backward_filter(gy, x_saved, w_shape, window);
        if (need_b) grads[2] = cuda::conv2d_cudnn_backward_bias(gy);
        return grads;
      });
  return y;
}

}  // namespace
#endif

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Window2d& window) {
  check(weight.dim() == 4 && weight.size(2) == window.kernel && weight.size(3) == window.kernel,
        "conv2d: weight must be (out, in, k, k) with k = " + std::to_string(window.kernel) +
            ", got " + shape_str(weight.shape()));
  check(x.dim() == 4 && x.size(1) == weight.size(1),
        "conv2d: expected input (B, " + std::to_string(weight.size(1)) + ", H, W), got " +
            shape_str(x.shape()));
  const std::int64_t batch = x.size(0), channels = x.size(1), out = weight.size(0);
  const std::int64_t oh = window.output_size(x.size(2)), ow = window.output_size(x.size(3));
#if LAPLEX_WITH_CUDNN
  if (conv2d_uses_cudnn(x)) return conv2d_cudnn(x, weight, bias, window);
#endif
  const std::int64_t k2 = window.kernel * window.kernel;
  // (B, C, L, k^2) -> rows (B L, C k^2) in the weight's (c, i, j) order.
  const Tensor cols = unfold2d(x, window, 0.0);
  const Tensor rows = reshape(permute(cols, {0, 2, 1, 3}), {batch * oh * ow, channels * k2});
  const Tensor y = linear(rows, reshape(weight, {out, channels * k2}), bias);  // (B L, O)
  return reshape(permute(reshape(y, {batch, oh * ow, out}), {0, 2, 1}), {batch, out, oh, ow});
}

Conv2d::Conv2d(const Conv2dOptions& options, std::uint64_t seed) : options_(options) {
  Generator generator(seed);
  const std::int64_t k = options.window.kernel;
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_channels * k * k));
  weight = Tensor::empty({options.out_channels, options.in_channels, k, k});
  uniform_(weight, generator, -bound, bound);
  register_parameter("weight", &weight);
  if (options.bias) {
    bias = Tensor::empty({options.out_channels});
    uniform_(bias, generator, -bound, bound);
    register_parameter("bias", &bias);
  }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, options_.window); }

namespace {
const ModuleRegistration registration("conv2d", [](config::ConfigNode& node, BuildContext& context) {
  Conv2dOptions o;
  o.in_channels = node.get<std::int64_t>("in_channels");
  o.out_channels = node.get<std::int64_t>("out_channels");
  o.window.kernel = node.get<std::int64_t>("kernel_size");
  o.window.stride = node.get_or<std::int64_t>("stride", 1);
  o.window.padding = node.get_or<std::int64_t>("padding", 0);
  o.bias = node.get_or<bool>("bias", true);
  if (o.in_channels < 1) node.fail("in_channels", "must be >= 1");
  if (o.out_channels < 1) node.fail("out_channels", "must be >= 1");
  if (o.window.kernel < 1) node.fail("kernel_size", "must be >= 1");
  if (o.window.stride < 1) node.fail("stride", "must be >= 1");
  if (o.window.padding < 0) node.fail("padding", "must be >= 0");
  return std::make_shared<Conv2d>(o, derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
