#include <cstring>

#include "core/ops/copy.h"
#include "core/ops/cpu/strided_loop.h"

namespace laplex::cpu {

void copy_into(const Tensor& src, const Tensor& dst) {
  if (src.dtype() == dst.dtype() && src.shape() == dst.shape() && src.is_contiguous() &&
      dst.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(), src.numel() * dtype_size(src.dtype()));
    return;
  }
  const Strides src_strides = broadcast_strides(src.shape(), src.strides(), dst.shape());
  visit_dtype(src.dtype(), [&](auto src_tag) {
    using S = decltype(src_tag);
    visit_dtype(dst.dtype(), [&](auto dst_tag) {
      using D = decltype(dst_tag);
      const S* in = src.data<S>();
      D* out = dst.data<D>();
      for_each_row<2>(dst.shape(), {&dst.strides(), &src_strides},
                      [&](auto offsets, std::int64_t count, auto steps) {
                        D* o = out + offsets[0];
                        const S* i = in + offsets[1];
                        for (std::int64_t k = 0; k < count; ++k)
                          o[k * steps[0]] = static_cast<D>(i[k * steps[1]]);
                      });
    });
  });
}

void fill_tensor(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* out = dst.data<T>();
    const T v = static_cast<T>(value);
    for_each_row<1>(dst.shape(), {&dst.strides()},
                    [&](auto offsets, std::int64_t count, auto steps) {
                      T* o = out + offsets[0];
                      for (std::int64_t k = 0; k < count; ++k) o[k * steps[0]] = v;
                    });
  });
}

}  // namespace laplex::cpu
