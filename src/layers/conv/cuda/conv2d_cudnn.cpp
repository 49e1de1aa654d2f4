#include "core/error.h"

#if LAPLEX_WITH_CUDNN

#include <string>
#include <vector>

#include "layers/conv/cuda/conv2d_cudnn.h"
#include "layers/conv/cuda/cudnn_common.h"

namespace laplex::cuda {

namespace {

// The descriptors of one convolution; checks that cuDNN's output size is the
// one Window2d gives (the same formula, so a mismatch is a bug here).
struct ConvSetup {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  ConvSetup(const Shape& x_shape, const Shape& w_shape, const Shape& y_shape,
            const Window2d& window)
      : x(x_shape), y(y_shape), w(w_shape), conv(window) {
    int n = 0, c = 0, h = 0, wd = 0;
    check(cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), &n, &c, &h, &wd),
          "cudnnGetConvolution2dForwardOutputDim");
    if (Shape{n, c, h, wd} != y_shape)
      throw Error("conv2d (cuDNN): cuDNN gives output " + shape_str(Shape{n, c, h, wd}) +
                  ", expected " + shape_str(y_shape));
  }
};

Shape output_shape(const Shape& x, const Shape& w, const Window2d& window) {
  return {x[0], w[0], window.output_size(x[2]), window.output_size(x[3])};
}

// The first algorithm in cuDNN's heuristic ranking (`perf`, `count` entries)
// with status success whose workspace size `size(algo, &bytes)` reports.
// The descriptor asks for FMA math; should the ranking still list
// tensor-core (TF32) entries, FMA/default ones are preferred.
template <class Perf, class Size>
auto first_usable(const std::vector<Perf>& perf, int count, Size size, const char* what,
                  std::size_t* bytes) {
  for (const bool allow_tensor_ops : {false, true}) {
    for (int i = 0; i < count; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      const bool tensor_ops = perf[i].mathType == CUDNN_TENSOR_OP_MATH ||
                              perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
      if (tensor_ops && !allow_tensor_ops) continue;
      std::size_t needed = 0;
      if (size(perf[i].algo, &needed) != CUDNN_STATUS_SUCCESS) continue;
      *bytes = needed;
      return perf[i].algo;
    }
  }
  throw Error(std::string(what) + ": none of the " + std::to_string(count) +
              " ranked algorithms is usable");
}

}  // namespace

Tensor conv2d_cudnn_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Window2d& window) {
  const int device = x.device().index;
  cudnnHandle_t handle = cudnn(device);
  const Shape y_shape = output_shape(x.shape(), weight.shape(), window);
  const ConvSetup d(x.shape(), weight.shape(), y_shape, window);

  int max_count = 0;
  check(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count),
        "cudnnGetConvolutionForwardAlgorithmMaxCount");
  std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
  int count = 0;
  check(cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x.get(), d.w.get(), d.conv.get(),
                                               d.y.get(), max_count, &count, perf.data()),
        "cudnnGetConvolutionForwardAlgorithm_v7");
  std::size_t bytes = 0;
  const cudnnConvolutionFwdAlgo_t algo = first_usable(
      perf, count,
      [&](cudnnConvolutionFwdAlgo_t a, std::size_t* size) {
        return cudnnGetConvolutionForwardWorkspaceSize(handle, d.x.get(), d.w.get(), d.conv.get(),
                                                       d.y.get(), a, size);
      },
      "cudnnGetConvolutionForwardAlgorithm_v7", &bytes);
  const Tensor workspace = cudnn_workspace(bytes, device);

  Tensor y = Tensor::empty(y_shape, DType::f32, x.device());
  const float one = 1.0f, zero = 0.0f;
  check(cudnnConvolutionForward(handle, &one, d.x.get(), x.data<float>(), d.w.get(),
                                weight.data<float>(), d.conv.get(), algo, workspace_ptr(workspace),
                                bytes, &zero, d.y.get(), y.data<float>()),
        "cudnnConvolutionForward");
  if (bias.defined()) {
    const TensorDescriptor b({1, weight.size(0), 1, 1});
    check(cudnnAddTensor(handle, &one, b.get(), bias.data<float>(), &one, d.y.get(),
                         y.data<float>()),
          "cudnnAddTensor");
  }
  return y;
}

Tensor conv2d_cudnn_backward_data(const Tensor& grad_y, const Tensor& weight,
                                  const Shape& x_shape, const Window2d& window) {
  const int device = grad_y.device().index;
  cudnnHandle_t handle = cudnn(device);
  const ConvSetup d(x_shape, weight.shape(), grad_y.shape(), window);

  int max_count = 0;
  check(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max_count),
        "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
  int count = 0;
  check(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.w.get(), d.y.get(), d.conv.get(),
                                                    d.x.get(), max_count, &count, perf.data()),
        "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  std::size_t bytes = 0;
  const cudnnConvolutionBwdDataAlgo_t algo = first_usable(
      perf, count,
      [&](cudnnConvolutionBwdDataAlgo_t a, std::size_t* size) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w.get(), d.y.get(),
                                                            d.conv.get(), d.x.get(), a, size);
      },
      "cudnnGetConvolutionBackwardDataAlgorithm_v7", &bytes);
  const Tensor workspace = cudnn_workspace(bytes, device);

  Tensor dx = Tensor::empty(x_shape, DType::f32, grad_y.device());
  const float one = 1.0f, zero = 0.0f;
  check(cudnnConvolutionBackwardData(handle, &one, d.w.get(), weight.data<float>(), d.y.get(),
                                     grad_y.data<float>(), d.conv.get(), algo,
                                     workspace_ptr(workspace), bytes, &zero, d.x.get(),
                                     dx.data<float>()),
        "cudnnConvolutionBackwardData");
  return dx;
}

Tensor conv2d_cudnn_backward_filter(const Tensor& grad_y, const Tensor& x,
                                    const Shape& weight_shape, const Window2d& window) {
  const int device = grad_y.device().index;
  cudnnHandle_t handle = cudnn(device);
  const ConvSetup d(x.shape(), weight_shape, grad_y.shape(), window);

  int max_count = 0;
  check(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max_count),
        "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
  int count = 0;
  check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d.x.get(), d.y.get(), d.conv.get(),
                                                      d.w.get(), max_count, &count, perf.data()),
        "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  std::size_t bytes = 0;
  const cudnnConvolutionBwdFilterAlgo_t algo = first_usable(
      perf, count,
      [&](cudnnConvolutionBwdFilterAlgo_t a, std::size_t* size) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, d.x.get(), d.y.get(),
                                                              d.conv.get(), d.w.get(), a, size);
      },
      "cudnnGetConvolutionBackwardFilterAlgorithm_v7", &bytes);
  const Tensor workspace = cudnn_workspace(bytes, device);

  Tensor dw = Tensor::empty(weight_shape, DType::f32, grad_y.device());
  const float one = 1.0f, zero = 0.0f;
  check(cudnnConvolutionBackwardFilter(handle, &one, d.x.get(), x.data<float>(), d.y.get(),
                                       grad_y.data<float>(), d.conv.get(), algo,
                                       workspace_ptr(workspace), bytes, &zero, d.w.get(),
                                       dw.data<float>()),
        "cudnnConvolutionBackwardFilter");
  return dw;
}

Tensor conv2d_cudnn_backward_bias(const Tensor& grad_y) {
  cudnnHandle_t handle = cudnn(grad_y.device().index);
  const TensorDescriptor dy(grad_y.shape());
  const TensorDescriptor db({1, grad_y.size(1), 1, 1});
  Tensor grad_bias = Tensor::empty({grad_y.size(1)}, DType::f32, grad_y.device());
  const float one = 1.0f, zero = 0.0f;
  check(cudnnConvolutionBackwardBias(handle, &one, dy.get(), grad_y.data<float>(), &zero, db.get(),
                                     grad_bias.data<float>()),
        "cudnnConvolutionBackwardBias");
  return grad_bias;
}

}  // namespace laplex::cuda

#endif  // LAPLEX_WITH_CUDNN
