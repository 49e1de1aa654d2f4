#include "core/random.h"

#include "core/ops/dispatch.h"
#include "core/philox.h"

namespace laplex {

namespace {

Tensor& fill_random(Tensor& t, Generator& generator, bool normal, double a, double b) {
  if (!is_floating(t.dtype())) throw Error("random fill: expected a float tensor");
  if (!t.is_contiguous()) throw Error("random fill: expected a contiguous tensor");
  const RandomFill fill{normal, a, b, generator.seed(),
                        generator.take(static_cast<std::uint64_t>(t.numel()))};
  if (use_cuda(t)) {
#if LAPLEX_WITH_CUDA
    cuda::random_fill(t, fill);
#endif
  } else {
    cpu::random_fill(t, fill);
  }
  return t;
}

}  // namespace

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Tensor& uniform_(Tensor& t, Generator& generator, double low, double high) {
  return fill_random(t, generator, false, low, high);
}

Tensor& normal_(Tensor& t, Generator& generator, double mean, double std) {
  return fill_random(t, generator, true, mean, std);
}

Tensor rand(const Shape& shape, Generator& generator, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  return uniform_(t, generator);
}

Tensor randn(const Shape& shape, Generator& generator, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  return normal_(t, generator);
}

namespace cpu {

void random_fill(const Tensor& t, const RandomFill& fill) {
  visit_floating(t.dtype(), "random", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    const std::int64_t n = t.numel();
#pragma omp parallel for if (n >= (1 << 15)) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
      const philox::Block block = philox::generate(fill.seed, fill.first_counter + i);
      p[i] = fill.normal ? static_cast<T>(fill.a + fill.b * philox::normal<double>(block))
                         : static_cast<T>(fill.a + (fill.b - fill.a) * philox::uniform<double>(block));
    }
  });
}

}  // namespace cpu

}  // namespace laplex
