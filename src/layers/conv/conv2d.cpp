#include "layers/conv/conv2d.h"

#include <climits>
#include <cmath>
#include <string>

#include "core/autograd/node.h"
#include "core/error.h"
#include "core/ops/matmul.h"
#include "core/ops/view.h"
#include "core/random.h"
#include "layers/conv/cpu/conv2d_cpu.h"
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

bool conv2d_fits_cudnn(const Shape& x, const Shape& weight, const Window2d& window) {
  const Shape y = {x[0], weight[0], window.output_size(x[2]), window.output_size(x[3])};
  for (const Shape* s : {&x, &weight, &y})
    if (numel(*s) > INT_MAX) return false;
  return true;
}

namespace {

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

// The four kernels of a convolution backend: cuDNN, or the CPU's per-image
// im2col + GEMM (cpu/conv2d_cpu.h).
struct ConvKernels {
  const char* op_name;
  DType dtype;
  Tensor (*forward)(const Tensor&, const Tensor&, const Tensor&, const Window2d&);
  Tensor (*backward_data)(const Tensor&, const Tensor&, const Shape&, const Window2d&);
  Tensor (*backward_filter)(const Tensor&, const Tensor&, const Shape&, const Window2d&);
  Tensor (*backward_bias)(const Tensor&);
};

// One autograd op: the backend's forward; the backward computes, from the
// backend, the gradients of just the inputs that require them.
Tensor conv2d_op(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in,
                 const Window2d& window, const ConvKernels& kernels) {
  auto same_place = [&](const Tensor& t, const char* name) {
    if (t.device() != x_in.device() || t.dtype() != kernels.dtype)
      throw Error(std::string("conv2d: ") + name + " must be " + dtype_name(kernels.dtype) +
                  " on " + x_in.device().str() + " like the input, got " + t.str());
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
  Tensor y = kernels.forward(x, weight, bias, window);
  const bool need_x = wants_grad(x_in), need_w = wants_grad(weight_in),
             need_b = wants_grad(bias_in);
  // Keep only what the backward reads: the weight for dx, the input for dw.
  autograd::record(
      y, {x_in, weight_in, bias_in}, kernels.op_name,
      [x_shape = x.shape(), w_shape = weight.shape(), x_saved = need_w ? x : Tensor(),
       w_saved = need_x ? weight : Tensor(), window, need_x, need_w, need_b,
       kernels](const std::vector<Tensor>& g) -> std::vector<Tensor> {
        std::vector<Tensor> grads(3);
        if (!g[0].defined()) return grads;
        const Tensor gy = g[0].to(kernels.dtype).contiguous();
        if (need_x) grads[0] = kernels.backward_data(gy, w_saved, x_shape, window);
        if (need_w) grads[1] = kernels.backward_filter(gy, x_saved, w_shape, window);
        if (need_b) grads[2] = kernels.backward_bias(gy);
        return grads;
      });
  return y;
}

// The CPU kernels serve float32 and float64 inputs; weight and bias must
// match (conv2d_op says so otherwise).
bool conv2d_uses_cpu_kernels(const Tensor& x) {
  return x.device().is_cpu() && (x.dtype() == DType::f32 || x.dtype() == DType::f64);
}

ConvKernels cpu_kernels(DType dtype) {
  return {"conv2d", dtype, &cpu::conv2d_forward, &cpu::conv2d_backward_data,
          &cpu::conv2d_backward_filter, &cpu::conv2d_backward_bias};
}

#if LAPLEX_WITH_CUDNN
ConvKernels cudnn_kernels() {
  return {"conv2d_cudnn",
          DType::f32,
          &cuda::conv2d_cudnn_forward,
          &cuda::conv2d_cudnn_backward_data,
          &cuda::conv2d_cudnn_backward_filter,
          &cuda::conv2d_cudnn_backward_bias};
}
#endif

}  // namespace

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
  if (conv2d_uses_cudnn(x) && conv2d_fits_cudnn(x.shape(), weight.shape(), window))
    return conv2d_op(x, weight, bias, window, cudnn_kernels());
#endif
  if (conv2d_uses_cpu_kernels(x))
    return conv2d_op(x, weight, bias, window, cpu_kernels(x.dtype()));
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
  if (o.in_channels < 1 || o.in_channels > kMaxChannels)
    node.fail("in_channels", "must be in [1, 2^20]");
  if (o.out_channels < 1 || o.out_channels > kMaxChannels)
    node.fail("out_channels", "must be in [1, 2^20]");
  if (o.window.kernel < 1 || o.window.kernel > kMaxWindowSide)
    node.fail("kernel_size", "must be in [1, 65536]");
  if (o.window.stride < 1 || o.window.stride > kMaxWindowSide)
    node.fail("stride", "must be in [1, 65536]");
  if (o.window.padding < 0 || o.window.padding > kMaxWindowSide)
    node.fail("padding", "must be in [0, 65536]");
  return std::make_shared<Conv2d>(o, derive_seed(context.seed, context.take_stream()));
});
}  // namespace

}  // namespace laplex
