#include "core/cuda/cuda_context.h"
#include "core/philox.h"
#include "core/random.h"

namespace laplex::cuda {

namespace {
template <class T>
__global__ void random_fill_kernel(T* p, std::int64_t n, RandomFill fill) {
  for (std::int64_t i = blockIdx.x * (std::int64_t)blockDim.x + threadIdx.x; i < n;
       i += (std::int64_t)gridDim.x * blockDim.x) {
    const philox::Block block = philox::generate(fill.seed, fill.first_counter + i);
    p[i] = fill.normal ? static_cast<T>(fill.a + fill.b * philox::normal<double>(block))
                       : static_cast<T>(fill.a + (fill.b - fill.a) * philox::uniform<double>(block));
  }
}
}  // namespace

void random_fill(const Tensor& t, const RandomFill& fill) {
  const std::int64_t n = t.numel();
  if (n == 0) return;
  visit_floating(t.dtype(), "random", [&](auto tag) {
    using T = decltype(tag);
    random_fill_kernel<<<grid_for(n), kBlock, 0, stream(t.device().index)>>>(t.data<T>(), n, fill);
  });
  check_launch("random_fill_kernel");
}

}  // namespace laplex::cuda
