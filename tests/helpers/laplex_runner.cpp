#include "helpers/laplex_runner.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <utility>

#include "helpers/vector_compare.h"
#include "layers/laplex/laplex_cpu.h"

namespace laplex::testing {

namespace {

template <class T>
std::vector<T> cast(const std::vector<double>& values) {
  return std::vector<T>(values.begin(), values.end());
}

template <class T>
std::vector<double> widen(const std::vector<T>& values) {
  return std::vector<double>(values.begin(), values.end());
}

}  // namespace

template <class T>
LaplexResult run_laplex_cpu(const LaplexProblem& p, const LaplexWanted& wanted) {
  LaplexShape shape{p.batch, p.m, p.n, p.heads, p.phased};
  const auto t = cast<T>(p.t), s = cast<T>(p.s), u = cast<T>(p.u), v = cast<T>(p.v);
  const auto rho = cast<T>(p.rho), omega = cast<T>(p.omega), phi = cast<T>(p.phi);
  const auto x = cast<T>(p.x), gy = cast<T>(p.gy);
  LaplexParamPtrs<T> params;
  params.t = t.data();
  params.s = s.data();
  params.u = u.empty() ? nullptr : u.data();
  params.v = v.empty() ? nullptr : v.data();
  params.rho = rho.data();
  params.omega = omega.empty() ? nullptr : omega.data();
  params.phi = phi.empty() ? nullptr : phi.data();
  const LaplexPlan<T> plan = make_laplex_plan(shape, t.data(), s.data());

  std::vector<T> y(p.batch * p.m), tr(p.batch * p.n);
  cpu::LaplexSaved<T> saved;
  cpu::laplex_forward(plan, shape, params, x.data(), y.data(),
                      wanted.saved_forward ? &saved : nullptr, wanted.lanes);
  cpu::laplex_apply_transposed(plan, shape, params, gy.data(), tr.data());

  const std::int64_t H = p.heads;
  std::vector<T> dx(wanted.dx ? p.batch * p.n : 0), dt(wanted.dt ? H * p.m : 0),
      ds(wanted.ds ? H * p.n : 0), du(wanted.du && !u.empty() ? H * p.m : 0),
      dv(wanted.dv && !v.empty() ? H * p.n : 0), drho(wanted.drho ? H : 0),
      domega(wanted.domega ? H : 0), dphi(wanted.dphi ? H : 0);
  auto ptr = [](std::vector<T>& values) { return values.empty() ? nullptr : values.data(); };
  LaplexGradPtrs<T> grads{ptr(dx), ptr(dt), ptr(ds), ptr(du), ptr(dv), ptr(drho), ptr(domega),
                          ptr(dphi)};
  cpu::laplex_backward(plan, shape, params, x.data(), gy.data(), grads,
                       wanted.saved_forward ? &saved : nullptr);

  LaplexResult r;
  r.y = widen(y);
  r.transposed = widen(tr);
  r.grads = {widen(dx), widen(dt), widen(ds), widen(du), widen(dv), widen(drho), widen(domega),
             widen(dphi)};
  return r;
}

void expect_float32_accurate(const std::string& label, const LaplexResult& single,
                             const LaplexResult& reference) {
  std::vector<std::pair<const char*, double>> errors = {
      {"y", relative_error(single.y, reference.y)},
      {"dx", relative_error(single.grads.dx, reference.grads.dx)},
      {"dt", relative_error(single.grads.dt, reference.grads.dt)},
      {"ds", relative_error(single.grads.ds, reference.grads.ds)},
      {"du", relative_error(single.grads.du, reference.grads.du)},
      {"dv", relative_error(single.grads.dv, reference.grads.dv)},
      {"drho", relative_error(single.grads.drho, reference.grads.drho)},
  };
  if (!single.transposed.empty())
    errors.insert(errors.begin() + 1,
                  {"W^T g", relative_error(single.transposed, reference.transposed)});
  for (const auto& [name, error] : errors) {
    std::printf("%s, float32 vs float64 relative error of %s: %.3g\n", label.c_str(), name, error);
    EXPECT_LE(error, 1e-4) << label << ": " << name;
  }
}

template LaplexResult run_laplex_cpu<float>(const LaplexProblem&, const LaplexWanted&);
template LaplexResult run_laplex_cpu<double>(const LaplexProblem&, const LaplexWanted&);

}  // namespace laplex::testing
