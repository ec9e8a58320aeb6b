// gradcheck: compares a function's autograd gradients with central finite differences
// (use double precision), with a readable report of the elements that disagree.
#pragma once

#include <cmath>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "etna/autograd/gradient_tape.hpp"

namespace etna {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-5;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-3;
  int max_reported = 5;  // mismatching elements listed in the report
};

struct GradcheckResult {
  bool ok = true;
  std::string report;  // empty when ok
  explicit operator bool() const { return ok; }
};

namespace detail {
// Element access for gradcheck's perturbations on any device: host memory is read and written
// directly; a cuda tensor's element through a one-element view (a tiny copy each way).
template <class T, class D>
std::int64_t gradcheck_offset(const Tensor<T, D>& x, std::int64_t flat) {
  std::int64_t off = 0;
  for (int d = x.dim() - 1; d >= 0; --d) {
    off += (flat % x.shape()[d]) * x.strides()[d];
    flat /= x.shape()[d];
  }
  return off;
}
template <class T, class D>
void gradcheck_set(const Tensor<T, D>& x, std::int64_t off, T value) {
  if constexpr (std::is_same_v<D, cpu>) x.data()[off] = value;
  else Tensor<T, D>(x.storage(), x.data() + off, Shape{}, Shape{}).fill(value);
}
template <class T, class D>
Tensor<T> gradcheck_host(const Tensor<T, D>& t) {
  if constexpr (std::is_same_v<D, cpu>) return t;
  else return t.template to<cpu>();
}
}  // namespace detail

// Checks the gradient of L = sum(f(inputs) * r), r a fixed random tensor, with respect to
// every input that requires grad; f must be deterministic. Inputs are perturbed in place and
// restored. Works on every device (on cuda, the sums are taken on the host).
template <class T, class D, class F>
GradcheckResult gradcheck(F&& f, const std::vector<Var<T, D>>& inputs,
                          const GradcheckOptions& options = {}) {
  static_assert(FloatingScalar<T>, "etna: gradcheck needs floating-point Vars (double advised)");
  const Var<T, D> y0 = as_var(f(inputs));
  Generator gen(20240607);  // fixed projection, independent of the global seed
  const Tensor<T, D> r = randn<T, D>(y0.shape(), gen);
  const Tensor<T> r_host = detail::gradcheck_host(r);
  auto project = [&](const Tensor<T, D>& y_dev) {
    const Tensor<T> y = detail::gradcheck_host(y_dev);
    double s = 0;
    auto ri = r_host.begin();
    for (auto v : y) s += static_cast<double>(v) * static_cast<double>(*ri++);
    return s;
  };

  std::vector<Var<T, D>> sources;
  for (const auto& in : inputs)
    if (in.requires_grad()) sources.push_back(in);
  std::vector<Tensor<T, D>> analytic;
  {
    GradientTape tape;
    const Var<T, D> y = as_var(f(inputs));
    analytic = tape.gradient(y, sources, r, /*unconnected_zero=*/true);
  }

  GradcheckResult result;
  std::ostringstream report;
  report.precision(8);
  int reported = 0;
  for (std::size_t s = 0; s < sources.size(); ++s) {
    const Tensor<T, D>& x = sources[s].value();
    const Tensor<T> x_host = detail::gradcheck_host(x).contiguous();
    const Tensor<T> analytic_s = detail::gradcheck_host(analytic[s]).contiguous();
    for (std::int64_t flat = 0; flat < x.numel(); ++flat) {
      const std::int64_t off = detail::gradcheck_offset(x, flat);
      const T saved = x_host.data()[flat];
      double plus, minus;
      {
        NoGradGuard no_grad;
        detail::gradcheck_set(x, off, static_cast<T>(saved + options.eps));
        plus = project(as_var(f(inputs)).value());
        detail::gradcheck_set(x, off, static_cast<T>(saved - options.eps));
        minus = project(as_var(f(inputs)).value());
        detail::gradcheck_set(x, off, saved);
      }
      const double numeric = (plus - minus) / (2 * options.eps);
      const double got = static_cast<double>(analytic_s.data()[flat]);
      if (std::fabs(got - numeric) > options.atol + options.rtol * std::fabs(numeric)) {
        result.ok = false;
        if (reported++ < options.max_reported)
          report << "gradcheck: source " << s << " (shape " << x.shape() << "), element " << flat
                 << " (row-major): analytic " << got << " vs numeric " << numeric
                 << " (|diff| " << std::fabs(got - numeric) << ")\n";
      }
    }
  }
  if (!result.ok) {
    if (reported > options.max_reported)
      report << "... and " << reported - options.max_reported << " more mismatching elements\n";
    result.report = report.str();
  }
  return result;
}

template <class T, class D, class F>
GradcheckResult gradcheck(F&& f, std::initializer_list<Var<T, D>> inputs,
                          const GradcheckOptions& options = {}) {
  return gradcheck(std::forward<F>(f), std::vector<Var<T, D>>(inputs), options);
}

// Single-input form: gradcheck([](const auto& x) { return et::tanh(x); }, x).
template <class T, class D, class F>
  requires std::invocable<F, const Var<T, D>&>
GradcheckResult gradcheck(F&& f, const Var<T, D>& input, const GradcheckOptions& options = {}) {
  return gradcheck(
      [&](const std::vector<Var<T, D>>& in) { return f(in[0]); }, std::vector<Var<T, D>>{input},
      options);
}

}  // namespace etna
