#include "core/ops/copy.h"

namespace laplex {

namespace {
void check_cuda_build(const Tensor& t) {
  if (t.device().is_cuda() && !LAPLEX_WITH_CUDA)
    throw Error("tensor on " + t.device().str() + ", but laplex was built without CUDA");
}
}  // namespace

void copy_into(const Tensor& src, const Tensor& dst) {
  if (src.device() != dst.device())
    throw Error("copy_into: source on " + src.device().str() + ", destination on " +
                dst.device().str());
  const Shape target = broadcast_shapes(src.shape(), dst.shape(), "copy_into");
  if (target != dst.shape())
    throw Error("copy_into: cannot copy " + shape_str(src.shape()) + " into " +
                shape_str(dst.shape()));
  check_cuda_build(dst);
#if LAPLEX_WITH_CUDA
  if (dst.device().is_cuda()) return cuda::copy_into(src, dst);
#endif
  cpu::copy_into(src, dst);
}

void fill_tensor(const Tensor& dst, double value) {
  check_cuda_build(dst);
#if LAPLEX_WITH_CUDA
  if (dst.device().is_cuda()) return cuda::fill_tensor(dst, value);
#endif
  cpu::fill_tensor(dst, value);
}

}  // namespace laplex
