#include "layers/laplex/laplex_op.h"

#include <memory>
#include <string>
#include <type_traits>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"
#include "layers/laplex/laplex_cpu.h"
#include "layers/laplex/laplex_dense.h"
#if LAPLEX_WITH_CUDA
#include "layers/laplex/cuda/laplex_cuda.h"
#endif

namespace laplex {

namespace {

// The sizes the parameters describe, after checking every shape, dtype and
// device against t.
LaplexShape check_params(const LaplexParams& p, const LaplexOptions& options) {
  check(p.t.defined() && p.s.defined() && p.rho.defined(), "laplex: t, s and rho are required");
  check(p.t.dim() == 2 && p.s.dim() == 2 && p.t.size(0) == p.s.size(0),
        "laplex: t must be (H, m) and s (H, n), got " + shape_str(p.t.shape()) + " and " +
            shape_str(p.s.shape()));
  LaplexShape shape;
  shape.heads = p.t.size(0);
  shape.m = p.t.size(1);
  shape.n = p.s.size(1);
  shape.phased = options.phased;
  check(shape.heads >= 1, "laplex: at least one head");
  const DType dtype = p.t.dtype();
  const Device device = p.t.device();
  check(is_floating(dtype), "laplex: parameters must be float32 or float64, got " +
                                dtype_name(dtype));
  auto expect = [&](const Tensor& tensor, const char* name, const Shape& wanted) {
    if (!tensor.defined()) return;
    check(tensor.shape() == wanted, std::string("laplex: ") + name + " must be " +
                                        shape_str(wanted) + ", got " + shape_str(tensor.shape()));
    check(tensor.dtype() == dtype, std::string("laplex: ") + name + " is " +
                                       dtype_name(tensor.dtype()) + ", t is " + dtype_name(dtype));
    check(tensor.device() == device, std::string("laplex: ") + name + " is on " +
                                         tensor.device().str() + ", t on " + device.str());
  };
  expect(p.u, "u", {shape.heads, shape.m});
  expect(p.v, "v", {shape.heads, shape.n});
  expect(p.rho, "rho", {shape.heads});
  expect(p.omega, "omega", {shape.heads});
  expect(p.phi, "phi", {shape.heads});
  expect(p.bias, "bias", {shape.m});
  if (options.phased)
    check(p.omega.defined() && p.phi.defined(), "laplex: the phased kernel needs omega and phi");
  return shape;
}

template <class T>
const T* ptr(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Dense, detached copies the kernels can read; undefined stays undefined.
Tensor plain(const Tensor& t) { return t.defined() ? t.detach().contiguous() : Tensor(); }

LaplexParams plain(const LaplexParams& p) {
  return {plain(p.t),   plain(p.s),     plain(p.u),   plain(p.v),
          plain(p.rho), plain(p.omega), plain(p.phi), plain(p.bias)};
}

template <class T>
LaplexParamPtrs<T> pointers(const LaplexParams& p, bool phased) {
  return {ptr<T>(p.t),   ptr<T>(p.s),
          ptr<T>(p.u),   ptr<T>(p.v),
          ptr<T>(p.rho), phased ? ptr<T>(p.omega) : nullptr,
          phased ? ptr<T>(p.phi) : nullptr};
}

bool wants(const Tensor& t) { return t.defined() && t.requires_grad(); }

// The backward: every gradient of section 3 that an input asks for, from
// the forward's plan (no re-sort). Inputs: x, t, s, u, v, rho, omega, phi, bias.
// Plan is the CPU LaplexPlan<T> or the LaplexCudaPlan.
// `saved`: what the CPU forward kept (null on the GPU); the first backward
// consumes it.
template <class T, class Plan>
std::vector<Tensor> backward(const std::shared_ptr<const Plan>& plan, const LaplexShape& shape,
                             const Tensor& x, const LaplexParams& p, const std::vector<bool>& need,
                             const Tensor& grad_y, cpu::LaplexSaved<T>* saved) {
  std::vector<Tensor> grads(9);
  if (!grad_y.defined()) return grads;
  const Tensor gy = grad_y.to(x.dtype()).contiguous();
  auto output = [&](int k, const Tensor& like) -> T* {
    if (!need[k]) return nullptr;
    grads[k] = Tensor::empty(like.shape(), like.dtype(), like.device());
    return grads[k].data<T>();
  };
  LaplexGradPtrs<T> out;
  out.dx = output(0, x);
  out.dt = output(1, p.t);
  out.ds = output(2, p.s);
  out.du = p.u.defined() ? output(3, p.u) : nullptr;
  out.dv = p.v.defined() ? output(4, p.v) : nullptr;
  out.drho = output(5, p.rho);
  out.domega = p.omega.defined() ? output(6, p.omega) : nullptr;
  out.dphi = p.phi.defined() ? output(7, p.phi) : nullptr;
  if constexpr (std::is_same_v<Plan, LaplexPlan<T>>) {
    cpu::laplex_backward(*plan, shape, pointers<T>(p, shape.phased), x.data<T>(), gy.data<T>(),
                         out, saved);
  } else {
#if LAPLEX_WITH_CUDA
    cuda::laplex_backward_cuda(*plan, shape, pointers<T>(p, shape.phased), x.data<T>(),
                               gy.data<T>(), out, x.device().index);
#endif
  }
  if (need[8]) grads[8] = sum(gy, {0});
  return grads;
}

std::vector<Tensor> op_inputs(const Tensor& x_in, const LaplexParams& original) {
  return {x_in,           original.t,   original.s,
          original.u,     original.v,   original.rho,
          original.omega, original.phi, original.bias};
}

template <class T, class Plan>
void record_backward(const Tensor& y, const Tensor& x_in, const LaplexParams& original,
                     const std::shared_ptr<const Plan>& plan, const LaplexShape& shape,
                     const Tensor& x, const LaplexParams& p,
                     std::shared_ptr<cpu::LaplexSaved<T>> saved = nullptr) {
  const std::vector<Tensor> inputs = op_inputs(x_in, original);
  if (autograd::any_requires_grad(inputs)) {
    std::vector<bool> need;
    for (const Tensor& t : inputs) need.push_back(wants(t));
    autograd::record(y, inputs, "laplex",
                     [plan, shape, x, p, need, saved](const std::vector<Tensor>& g) {
                       return backward<T>(plan, shape, x, p, need, g[0], saved.get());
                     });
  }
}

template <class T>
Tensor apply_cpu(const Tensor& x_in, const LaplexParams& original, const LaplexShape& shape,
                 const std::shared_ptr<LaplexScratchPool>& scratch) {
  const Tensor x = x_in.detach().contiguous();
  const LaplexParams p = plain(original);
  auto plan = std::make_shared<const LaplexPlan<T>>(
      make_laplex_plan(shape, p.t.data<T>(), p.s.data<T>(), scratch));
  Tensor y = Tensor::empty({shape.batch, shape.m}, x.dtype(), x.device());
  // A forward that a backward will follow keeps its event rows for it.
  auto saved = autograd::any_requires_grad(op_inputs(x_in, original)) && shape.heads == 1
                   ? std::make_shared<cpu::LaplexSaved<T>>()
                   : nullptr;
  cpu::laplex_forward(*plan, shape, pointers<T>(p, shape.phased), x.data<T>(), y.data<T>(),
                      saved.get());
  if (p.bias.defined()) {
    const T* b = p.bias.data<T>();
    T* out = y.data<T>();
    for (std::int64_t r = 0; r < shape.batch; ++r)
      for (std::int64_t i = 0; i < shape.m; ++i) out[r * shape.m + i] += b[i];
  }
  record_backward<T>(y, x_in, original, plan, shape, x, p, std::move(saved));
  return y;
}

#if LAPLEX_WITH_CUDA
// The same op on the GPU: the plan is sorted on the device and kept for the
// backward; nothing here waits for the device.
template <class T>
Tensor apply_cuda(const Tensor& x_in, const LaplexParams& original, const LaplexShape& shape) {
  const Tensor x = x_in.detach().contiguous();
  const LaplexParams p = plain(original);
  auto plan = std::make_shared<const cuda::LaplexCudaPlan>(
      cuda::make_laplex_plan_cuda(shape, p.t, p.s));
  Tensor y = Tensor::empty({shape.batch, shape.m}, x.dtype(), x.device());
  if (shape.n == 0 || shape.batch == 0) {
    y = p.bias.defined() ? expand(reshape(p.bias, {1, shape.m}), {shape.batch, shape.m}).contiguous()
                         : Tensor::zeros({shape.batch, shape.m}, x.dtype(), x.device());
  } else {
    cuda::laplex_forward_cuda(*plan, shape, pointers<T>(p, shape.phased), x.data<T>(),
                              p.bias.defined() ? p.bias.data<T>() : nullptr, y.data<T>(),
                              x.device().index);
  }
  record_backward<T>(y, x_in, original, plan, shape, x, p);
  return y;
}
#endif

}  // namespace

Tensor laplex_apply(const Tensor& x, const LaplexParams& params, const LaplexOptions& options) {
  LaplexShape shape = check_params(params, options);
  check(x.defined() && x.dim() == 2 && x.size(1) == shape.n,
        "laplex: x must be (B, " + std::to_string(shape.n) + "), got " +
            (x.defined() ? shape_str(x.shape()) : std::string("undefined")));
  check(x.dtype() == params.t.dtype(), "laplex: x is " + dtype_name(x.dtype()) +
                                           ", the parameters " + dtype_name(params.t.dtype()));
  check(x.device() == params.t.device(),
        "laplex: x is on " + x.device().str() + ", the parameters on " +
            params.t.device().str());
  shape.batch = x.size(0);
  if (x.device().is_cuda()) {
#if LAPLEX_WITH_CUDA
    return visit_floating(x.dtype(), "laplex", [&](auto tag) {
      using T = decltype(tag);
      return apply_cuda<T>(x, params, shape);
    });
#else
    throw Error("laplex: this build has no CUDA support");
#endif
  }
  return visit_floating(x.dtype(), "laplex", [&](auto tag) {
    using T = decltype(tag);
    return apply_cpu<T>(x, params, shape, options.cpu_scratch);
  });
}

Tensor laplex_to_dense(const LaplexParams& params, const LaplexOptions& options) {
  const LaplexShape shape = check_params(params, options);
  const LaplexParams p = plain(params);
  const Device device = p.t.device();
  const LaplexParams host = device.is_cpu()
                                ? p
                                : LaplexParams{p.t.to(Device::cpu()),   p.s.to(Device::cpu()),
                                               p.u.defined() ? p.u.to(Device::cpu()) : Tensor(),
                                               p.v.defined() ? p.v.to(Device::cpu()) : Tensor(),
                                               p.rho.to(Device::cpu()),
                                               p.omega.defined() ? p.omega.to(Device::cpu())
                                                                 : Tensor(),
                                               p.phi.defined() ? p.phi.to(Device::cpu()) : Tensor(),
                                               Tensor()};
  Tensor w = Tensor::empty({shape.m, shape.n}, p.t.dtype(), Device::cpu());
  visit_floating(p.t.dtype(), "laplex_to_dense", [&](auto tag) {
    using T = decltype(tag);
    cpu::laplex_to_dense(shape, pointers<T>(host, shape.phased), w.data<T>());
  });
  return device.is_cpu() ? w : w.to(device);
}

}  // namespace laplex
