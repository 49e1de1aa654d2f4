#include "layers/conv/pool.h"

#include <limits>

#include "core/autograd/node.h"
#include "core/error.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "layers/conv/conv2d.h"
#include "layers/conv/cpu/pool2d_cpu.h"
#include "layers/registry.h"
#if LAPLEX_WITH_CUDNN
#include "layers/conv/cuda/max_pool_backward_cuda.h"
#include "layers/conv/cuda/pool2d_cudnn.h"
#endif

namespace laplex {

bool pool2d_uses_cudnn(const Tensor& x, const Window2d& window) {
  return conv2d_uses_cudnn(x) && 2 * window.padding <= window.kernel;
}

namespace {

#if LAPLEX_WITH_CUDNN
Tensor pool_cudnn(const Tensor& x_in, const Window2d& window, bool take_max) {
  const Tensor x = x_in.detach().contiguous();
  Tensor y = cuda::pool2d_cudnn_forward(x, window, take_max);
  // Max pooling's gradient follows the CPU's tie and NaN rule
  // (max_pool_backward_cuda.h), so it needs x only; average pooling's
  // stays with cuDNN.
  autograd::record(y, {x_in}, take_max ? "maxpool2d_cudnn" : "avgpool2d_cudnn",
                   [x, y_saved = take_max ? Tensor() : y.detach(), window,
                    take_max](const std::vector<Tensor>& g) {
                     if (!g[0].defined()) return std::vector<Tensor>{Tensor()};
                     const Tensor gy = g[0].to(DType::f32).contiguous();
                     if (take_max)
                       return std::vector<Tensor>{cuda::max_pool2d_backward_cuda(x, gy, window)};
                     return std::vector<Tensor>{
                         cuda::avg_pool2d_cudnn_backward(x, y_saved, gy, window)};
                   });
  return y;
}
#endif

// Direct CPU loops (cpu/pool2d_cpu.h) for float32/float64 when no window
// can lie wholly in the padding; other windows go through unfold2d.
bool pool2d_uses_cpu_kernels(const Tensor& x, const Window2d& window) {
  return x.device().is_cpu() && (x.dtype() == DType::f32 || x.dtype() == DType::f64) &&
         2 * window.padding <= window.kernel;
}

Tensor pool_cpu(const Tensor& x_in, const Window2d& window, bool take_max) {
  const Tensor x = x_in.detach().contiguous();
  Tensor y = cpu::pool2d_forward(x, window, take_max);
  autograd::record(y, {x_in}, take_max ? "maxpool2d" : "avgpool2d",
                   [x, window, take_max](const std::vector<Tensor>& g) {
                     if (!g[0].defined()) return std::vector<Tensor>{Tensor()};
                     const Tensor gy = g[0].to(x.dtype()).contiguous();
                     return std::vector<Tensor>{cpu::pool2d_backward(x, gy, window, take_max)};
                   });
  return y;
}

Tensor pool(const Tensor& x, const Window2d& window, bool take_max) {
  check(x.dim() == 4, "pool2d: expected (B, C, H, W), got " + shape_str(x.shape()));
  const std::int64_t oh = window.output_size(x.size(2)), ow = window.output_size(x.size(3));
#if LAPLEX_WITH_CUDNN
  if (pool2d_uses_cudnn(x, window)) return pool_cudnn(x, window, take_max);
#endif
  if (pool2d_uses_cpu_kernels(x, window)) return pool_cpu(x, window, take_max);
  const double pad = take_max ? -std::numeric_limits<double>::infinity() : 0.0;
  const Tensor cols = unfold2d(x, window, pad);  // (B, C, L, k^2)
  const Tensor pooled = take_max ? max(cols, 3) : mean(cols, {3});
  return reshape(pooled, {x.size(0), x.size(1), oh, ow});
}

Window2d read_window(config::ConfigNode& node) {
  Window2d w;
  w.kernel = node.get<std::int64_t>("kernel_size");
  w.stride = node.get_or<std::int64_t>("stride", w.kernel);
  w.padding = node.get_or<std::int64_t>("padding", 0);
  if (w.kernel < 1 || w.kernel > kMaxWindowSide) node.fail("kernel_size", "must be in [1, 65536]");
  if (w.stride < 1 || w.stride > kMaxWindowSide) node.fail("stride", "must be in [1, 65536]");
  if (w.padding < 0 || w.padding > w.kernel / 2)
    node.fail("padding", "must be between 0 and kernel_size / 2");
  return w;
}

const ModuleRegistration max_registration("maxpool2d", [](config::ConfigNode& node, BuildContext&) {
  return std::make_shared<MaxPool2d>(read_window(node));
});
const ModuleRegistration avg_registration("avgpool2d", [](config::ConfigNode& node, BuildContext&) {
  return std::make_shared<AvgPool2d>(read_window(node));
});

}  // namespace

Tensor max_pool2d(const Tensor& x, const Window2d& window) { return pool(x, window, true); }
Tensor avg_pool2d(const Tensor& x, const Window2d& window) { return pool(x, window, false); }

}  // namespace laplex
