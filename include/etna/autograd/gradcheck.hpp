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

// Checks the gradient of L = sum(f(inputs) * r), r a fixed random tensor, with respect to
// every input that requires grad; f must be deterministic. Inputs are perturbed in place and
// restored.
template <class T, class D, class F>
GradcheckResult gradcheck(F&& f, const std::vector<Var<T, D>>& inputs,
                          const GradcheckOptions& options = {}) {
  static_assert(FloatingScalar<T>, "etna: gradcheck needs floating-point Vars (double advised)");
  const Var<T, D> y0 = as_var(f(inputs));
  Generator gen(20240607);  // fixed projection, independent of the global seed
  const Tensor<T, D> r = randn<T>(y0.shape(), gen);
  auto project = [&](const Tensor<T, D>& y) {
    double s = 0;
    auto ri = r.begin();
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
    const Tensor<T, D> analytic_s = analytic[s].contiguous();
    auto a = analytic_s.begin();
    std::int64_t flat = 0;
    for (auto it = x.begin(); it != x.end(); ++it, ++a, ++flat) {
      const T saved = *it;
      double plus, minus;
      {
        NoGradGuard no_grad;
        *it = static_cast<T>(saved + options.eps);
        plus = project(as_var(f(inputs)).value());
        *it = static_cast<T>(saved - options.eps);
        minus = project(as_var(f(inputs)).value());
        *it = saved;
      }
      const double numeric = (plus - minus) / (2 * options.eps);
      const double got = static_cast<double>(*a);
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
