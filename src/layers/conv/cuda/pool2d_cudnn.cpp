#include "core/error.h"

#if LAPLEX_WITH_CUDNN

#include "layers/conv/cuda/cudnn_common.h"
#include "layers/conv/cuda/pool2d_cudnn.h"

namespace laplex::cuda {

Tensor pool2d_cudnn_forward(const Tensor& x, const Window2d& window, bool take_max) {
  cudnnHandle_t handle = cudnn(x.device().index);
  const Shape y_shape = {x.size(0), x.size(1), window.output_size(x.size(2)),
                         window.output_size(x.size(3))};
  const PoolingDescriptor pool(window, take_max);
  const TensorDescriptor xd(x.shape()), yd(y_shape);
  int n = 0, c = 0, h = 0, w = 0;
  check(cudnnGetPooling2dForwardOutputDim(pool.get(), xd.get(), &n, &c, &h, &w),
        "cudnnGetPooling2dForwardOutputDim");
  if (Shape{n, c, h, w} != y_shape)
    throw Error("pool2d (cuDNN): cuDNN gives output " + shape_str(Shape{n, c, h, w}) +
                ", expected " + shape_str(y_shape));
  Tensor y = Tensor::empty(y_shape, DType::f32, x.device());
  const float one = 1.0f, zero = 0.0f;
  check(cudnnPoolingForward(handle, pool.get(), &one, xd.get(), x.data<float>(), &zero, yd.get(),
                            y.data<float>()),
        "cudnnPoolingForward");
  return y;
}

Tensor avg_pool2d_cudnn_backward(const Tensor& x, const Tensor& y, const Tensor& grad_y,
                                 const Window2d& window) {
  cudnnHandle_t handle = cudnn(x.device().index);
  const PoolingDescriptor pool(window, false);
  const TensorDescriptor xd(x.shape()), yd(y.shape());
  Tensor dx = Tensor::empty(x.shape(), DType::f32, x.device());
  const float one = 1.0f, zero = 0.0f;
  check(cudnnPoolingBackward(handle, pool.get(), &one, yd.get(), y.data<float>(), yd.get(),
                             grad_y.data<float>(), xd.get(), x.data<float>(), &zero, xd.get(),
                             dx.data<float>()),
        "cudnnPoolingBackward");
  return dx;
}

}  // namespace laplex::cuda

#endif  // LAPLEX_WITH_CUDNN
