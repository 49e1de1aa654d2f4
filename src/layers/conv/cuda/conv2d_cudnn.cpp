#include "core/error.h"

#if LAPLEX_WITH_CUDNN

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
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

// One usable algorithm of cuDNN's ranking and the workspace it needs.
struct Candidate {
  int algo;
  std::size_t bytes;
};

// The usable algorithms of cuDNN's heuristic ranking (`perf`, `count`
// entries), best first: status success and a workspace size that
// `size(algo, &bytes)` reports. The descriptor asks for FMA math; should
// the ranking still list tensor-core (TF32) entries, they come after every
// FMA/default one.
template <class Perf, class Size>
std::vector<Candidate> usable_in_rank_order(const std::vector<Perf>& perf, int count, Size size) {
  std::vector<Candidate> usable;
  for (const bool tensor_op_pass : {false, true}) {
    for (int i = 0; i < count; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
      const bool tensor_ops = perf[i].mathType == CUDNN_TENSOR_OP_MATH ||
                              perf[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
      if (tensor_ops != tensor_op_pass) continue;
      std::size_t needed = 0;
      if (size(perf[i].algo, &needed) != CUDNN_STATUS_SUCCESS) continue;
      usable.push_back({static_cast<int>(perf[i].algo), needed});
    }
  }
  return usable;
}

enum class Direction { kForward, kBackwardData, kBackwardFilter };

struct RankingKey {
  Direction direction;
  int device;
  Shape x, w;
  std::int64_t kernel, stride, padding;
  bool operator<(const RankingKey& o) const {
    return std::tie(direction, device, x, w, kernel, stride, padding) <
           std::tie(o.direction, o.device, o.x, o.w, o.kernel, o.stride, o.padding);
  }
};

// cuDNN's ranking for one convolution, asked once per shape: the heuristic
// query with every algorithm's workspace size costs about a millisecond of
// host time, three times per conv layer and step, more than a small CNN's
// whole step on the GPU. Process-wide like the handles; a training run sees
// a few shapes (the last, short batch adds one), so the table stays small,
// and it is emptied should it ever pass kMaxEntries.
std::vector<Candidate> ranking(const RankingKey& key,
                               const std::function<std::vector<Candidate>()>& ask_cudnn) {
  constexpr std::size_t kMaxEntries = 4096;
  static std::mutex mutex;
  static std::map<RankingKey, std::vector<Candidate>> table;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = table.find(key); it != table.end()) return it->second;
  std::vector<Candidate> usable = ask_cudnn();
  if (table.size() >= kMaxEntries) table.clear();
  table.emplace(key, usable);
  return usable;
}

// Runs `run(algo, workspace, bytes)` with the best-ranked candidate whose
// workspace can be allocated: the top entry (an FFT algorithm, say) may ask
// for gigabytes where the next needs none.
template <class Algo, class Run>
void run_first_that_fits(const std::vector<Candidate>& candidates, int device, const char* what,
                         Run run) {
  if (candidates.empty()) throw Error(std::string(what) + ": cuDNN ranks no algorithm usable");
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    Tensor workspace;
    try {
      workspace = cudnn_workspace(candidates[i].bytes, device);
    } catch (const OutOfMemory&) {
      if (i + 1 == candidates.size()) throw;
      continue;
    }
    run(static_cast<Algo>(candidates[i].algo), workspace_ptr(workspace), candidates[i].bytes);
    return;
  }
}

RankingKey key_of(Direction direction, int device, const Shape& x, const Shape& w,
                  const Window2d& window) {
  return {direction, device, x, w, window.kernel, window.stride, window.padding};
}

}  // namespace

Tensor conv2d_cudnn_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                            const Window2d& window) {
  const int device = x.device().index;
  cudnnHandle_t handle = cudnn(device);
  const Shape y_shape = output_shape(x.shape(), weight.shape(), window);
  const ConvSetup d(x.shape(), weight.shape(), y_shape, window);
  const std::vector<Candidate> candidates = ranking(
      key_of(Direction::kForward, device, x.shape(), weight.shape(), window), [&] {
        int max_count = 0;
        check(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &max_count),
              "cudnnGetConvolutionForwardAlgorithmMaxCount");
        std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
        int count = 0;
        check(cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x.get(), d.w.get(), d.conv.get(),
                                                     d.y.get(), max_count, &count, perf.data()),
              "cudnnGetConvolutionForwardAlgorithm_v7");
        return usable_in_rank_order(perf, count, [&](cudnnConvolutionFwdAlgo_t a, std::size_t* size) {
          return cudnnGetConvolutionForwardWorkspaceSize(handle, d.x.get(), d.w.get(), d.conv.get(),
                                                         d.y.get(), a, size);
        });
      });

  Tensor y = Tensor::empty(y_shape, DType::f32, x.device());
  const float one = 1.0f, zero = 0.0f;
  run_first_that_fits<cudnnConvolutionFwdAlgo_t>(
      candidates, device, "conv2d forward (cuDNN)",
      [&](cudnnConvolutionFwdAlgo_t algo, void* workspace, std::size_t bytes) {
        check(cudnnConvolutionForward(handle, &one, d.x.get(), x.data<float>(), d.w.get(),
                                      weight.data<float>(), d.conv.get(), algo, workspace, bytes,
                                      &zero, d.y.get(), y.data<float>()),
              "cudnnConvolutionForward");
      });
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
  const std::vector<Candidate> candidates = ranking(
      key_of(Direction::kBackwardData, device, x_shape, weight.shape(), window), [&] {
        int max_count = 0;
        check(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &max_count),
              "cudnnGetConvolutionBackwardDataAlgorithmMaxCount");
        std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
        int count = 0;
        check(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.w.get(), d.y.get(), d.conv.get(),
                                                          d.x.get(), max_count, &count, perf.data()),
              "cudnnGetConvolutionBackwardDataAlgorithm_v7");
        return usable_in_rank_order(
            perf, count, [&](cudnnConvolutionBwdDataAlgo_t a, std::size_t* size) {
              return cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w.get(), d.y.get(),
                                                                  d.conv.get(), d.x.get(), a, size);
            });
      });

  Tensor dx = Tensor::empty(x_shape, DType::f32, grad_y.device());
  const float one = 1.0f, zero = 0.0f;
  run_first_that_fits<cudnnConvolutionBwdDataAlgo_t>(
      candidates, device, "conv2d backward data (cuDNN)",
      [&](cudnnConvolutionBwdDataAlgo_t algo, void* workspace, std::size_t bytes) {
        check(cudnnConvolutionBackwardData(handle, &one, d.w.get(), weight.data<float>(), d.y.get(),
                                           grad_y.data<float>(), d.conv.get(), algo, workspace,
                                           bytes, &zero, d.x.get(), dx.data<float>()),
              "cudnnConvolutionBackwardData");
      });
  return dx;
}

Tensor conv2d_cudnn_backward_filter(const Tensor& grad_y, const Tensor& x,
                                    const Shape& weight_shape, const Window2d& window) {
  const int device = grad_y.device().index;
  cudnnHandle_t handle = cudnn(device);
  const ConvSetup d(x.shape(), weight_shape, grad_y.shape(), window);
  const std::vector<Candidate> candidates = ranking(
      key_of(Direction::kBackwardFilter, device, x.shape(), weight_shape, window), [&] {
        int max_count = 0;
        check(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &max_count),
              "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount");
        std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<std::size_t>(max_count));
        int count = 0;
        check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d.x.get(), d.y.get(), d.conv.get(),
                                                            d.w.get(), max_count, &count, perf.data()),
              "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
        return usable_in_rank_order(
            perf, count, [&](cudnnConvolutionBwdFilterAlgo_t a, std::size_t* size) {
              return cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, d.x.get(), d.y.get(),
                                                                    d.conv.get(), d.w.get(), a, size);
            });
      });

  Tensor dw = Tensor::empty(weight_shape, DType::f32, grad_y.device());
  const float one = 1.0f, zero = 0.0f;
  run_first_that_fits<cudnnConvolutionBwdFilterAlgo_t>(
      candidates, device, "conv2d backward filter (cuDNN)",
      [&](cudnnConvolutionBwdFilterAlgo_t algo, void* workspace, std::size_t bytes) {
        check(cudnnConvolutionBackwardFilter(handle, &one, d.x.get(), x.data<float>(), d.y.get(),
                                             grad_y.data<float>(), d.conv.get(), algo, workspace,
                                             bytes, &zero, d.w.get(), dw.data<float>()),
              "cudnnConvolutionBackwardFilter");
      });
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
