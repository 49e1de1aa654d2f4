#include "core/ops/matmul.h"

#include "core/autograd/node.h"
#include "core/ops/copy.h"
#include "core/ops/dispatch.h"
#include "core/ops/gemm.h"
#include "core/ops/reduce.h"
#include "core/ops/view.h"

namespace laplex {

using autograd::record;

namespace {

void check_matmul(const Tensor& a, const Tensor& b, const char* op) {
  check_same_device(op, {a, b});
  check_same_dtype(op, {a, b});
  if (!is_floating(a.dtype())) throw Error(std::string(op) + ": expected float tensors");
}

// (M,K) x (K,N) without autograd.
Tensor mm(const Tensor& a, const Tensor& b) {
  const std::int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  if (b.size(0) != k)
    throw Error("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                " do not chain");
  Tensor out = Tensor::empty({m, n}, a.dtype(), a.device());
  if (k == 0) return out.zero_();
  GemmCall call{gemm_operand(a), gemm_operand(b), m, n, k};
  run_gemm(call, out);
  return out;
}

// (B,M,K) x (B,K,N) or (K,N) (b_shared) without autograd.
Tensor bmm(const Tensor& a, const Tensor& b) {
  const bool shared = b.dim() == 2;
  const std::int64_t batch = a.size(0), m = a.size(1), k = a.size(2);
  const std::int64_t n = b.size(-1);
  if (b.size(-2) != k || (!shared && b.size(0) != batch))
    throw Error("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                " do not chain");
  Tensor out = Tensor::empty({batch, m, n}, a.dtype(), a.device());
  if (k == 0 || batch == 0) return out.zero_();
  GemmCall call{gemm_operand(a), gemm_operand(b), m, n, k};
  call.batch = batch;
  call.stride_a = call.a.tensor.strides()[0];
  call.stride_b = shared ? 0 : call.b.tensor.strides()[0];
  call.stride_out = m * n;
  run_gemm(call, out);
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matmul(a, b, "matmul");
  if (a.dim() == 2 && b.dim() == 1) return reshape(matmul(a, reshape(b, {-1, 1})), {-1});
  if (a.dim() == 2 && b.dim() == 2) {
    Tensor out = mm(a, b);
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    record(out, {a, b}, "matmul",
           [a = need_b ? a.detach() : Tensor(), b = need_a ? b.detach() : Tensor(), need_a,
            need_b](const std::vector<Tensor>& g) {
             return std::vector<Tensor>{need_a ? mm(g[0], transpose(b, 0, 1)) : Tensor(),
                                        need_b ? mm(transpose(a, 0, 1), g[0]) : Tensor()};
           });
    return out;
  }
  if (a.dim() == 3 && (b.dim() == 2 || b.dim() == 3)) {
    Tensor out = bmm(a, b);
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    record(out, {a, b}, "bmm",
           [a = need_b ? a.detach() : Tensor(), b = need_a ? b.detach() : Tensor(), need_a,
            need_b, shared_b = b.dim() == 2](const std::vector<Tensor>& g) {
      const Tensor ga = need_a ? bmm(g[0], transpose(b, -2, -1)) : Tensor();
      Tensor gb;
      if (need_b && shared_b) {
        // Shared right operand: its gradient sums a_i^T g_i over the batch.
        gb = mm(transpose(reshape(a, {-1, a.size(2)}), 0, 1), reshape(g[0], {-1, g[0].size(2)}));
      } else if (need_b) {
        gb = bmm(transpose(a, 1, 2), g[0]);
      }
      return std::vector<Tensor>{ga, gb};
    });
    return out;
  }
  throw Error("matmul: unsupported ranks " + std::to_string(a.dim()) + " and " +
              std::to_string(b.dim()));
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_matmul(x, weight, "linear");
  if (bias.defined()) check_matmul(x, bias, "linear");
  if (weight.dim() != 2) throw Error("linear: weight must be (out, in)");
  const std::int64_t in = weight.size(1), out_features = weight.size(0);
  if (x.dim() < 1 || x.size(-1) != in)
    throw Error("linear: input of shape " + shape_str(x.shape()) + " for a layer with " +
                std::to_string(in) + " inputs");
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != out_features))
    throw Error("linear: bias must have shape (" + std::to_string(out_features) + ",)");
  const Tensor x2 = x.dim() == 2 ? x.detach() : reshape(x.detach(), {-1, in});
  const std::int64_t rows = x2.size(0);
  Tensor out = Tensor::empty({rows, out_features}, x.dtype(), x.device());
  double beta = 0.0;
  if (bias.defined()) {
    copy_into(bias, out);  // broadcast over rows; the GEMM adds onto it
    beta = 1.0;
  }
  if (in > 0 && rows > 0) {
    GemmCall call{gemm_operand(x2), gemm_operand(transpose(weight.detach(), 0, 1)), rows,
                  out_features, in};
    call.beta = beta;
    run_gemm(call, out);
  } else if (!bias.defined()) {
    out.zero_();
  }
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  Tensor result = x.dim() == 2 ? out : reshape(out, out_shape);
  // Only the gradients some input needs are computed: a first layer's input
  // needs none, and its (rows x in) product would be a third of the step.
  const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
  record(result, {x, weight, bias}, "linear",
         [x2 = need_w ? x2 : Tensor(), w = need_x ? weight.detach() : Tensor(),
          has_bias = bias.defined(), x_shape = x.shape(), out_features, need_x,
          need_w](const std::vector<Tensor>& grads) {
           const Tensor g = reshape(grads[0], {-1, out_features});
           const Tensor gx = need_x ? reshape(mm(g, w), x_shape) : Tensor();
           const Tensor gw = need_w ? mm(transpose(g, 0, 1), x2) : Tensor();
           const Tensor gb = has_bias ? sum(g, {0}) : Tensor();
           return std::vector<Tensor>{gx, gw, gb};
         });
  return result;
}

}  // namespace laplex
