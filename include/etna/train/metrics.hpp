// Training metrics: running mean (the loss), accuracy, top-k accuracy, confusion matrix,
// precision / recall / F1 (per class and macro), MAE, RMSE; accumulating classes + functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "etna/autograd/var.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"

namespace etna::train {
namespace detail {

// Metrics read values on the host, contiguous: a Var gives its value, a tensor itself.
template <class X>
auto host_values(const X& x) {
  if constexpr (requires { x.value(); x.impl_ptr(); }) {
    return host_values(x.value());
  } else {
    using D = typename X::device_type;
    if constexpr (std::is_same_v<D, cpu>) return x.contiguous();
    else return x.template to<cpu>().contiguous();
  }
}

// The class of each row: the index of the row's largest score, the first one on ties (argmax).
// Logits [N, C] give N classes; an integer tensor [N] is taken as classes already.
template <class X>
std::vector<std::int64_t> classes_of(const X& logits, const char* who) {
  const auto t = host_values(logits);
  using T = typename decltype(t)::value_type;
  std::vector<std::int64_t> out;
  if constexpr (std::is_integral_v<T>) {
    if (t.dim() != 1)
      throw shape_error(etna::detail::str(who, ": predicted classes must be 1-d [N], got shape ",
                                          t.shape()));
    out.assign(t.data(), t.data() + t.numel());
  } else {
    if (t.dim() != 2)
      throw shape_error(etna::detail::str(who, ": expected scores of shape [N, C], got shape ",
                                          t.shape()));
    const std::int64_t n = t.size(0), c = t.size(1);
    out.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const T* row = t.data() + i * c;
      out[static_cast<std::size_t>(i)] = std::max_element(row, row + c) - row;
    }
  }
  return out;
}

template <class Y>
std::vector<std::int64_t> labels_of(const Y& target, std::size_t n, const char* who) {
  const auto t = host_values(target);
  using T = typename decltype(t)::value_type;
  static_assert(std::is_integral_v<T>,
                "et::train metrics: class targets must be an integer tensor");
  if (t.dim() != 1 || static_cast<std::size_t>(t.numel()) != n)
    throw shape_error(etna::detail::str(who, ": expected targets of shape [", n, "], got shape ",
                                        t.shape()));
  return std::vector<std::int64_t>(t.data(), t.data() + t.numel());
}

inline double ratio(double num, double den) { return den == 0 ? 0.0 : num / den; }

}  // namespace detail

// The class of each row of logits [N, C] (argmax, first index on ties), as an int64 tensor [N].
template <class X>
Tensor<std::int64_t> predicted_classes(const X& logits) {
  const auto c = detail::classes_of(logits, "predicted_classes");
  return tensor<std::int64_t>(c, Shape{static_cast<std::int64_t>(c.size())});
}

// A weighted running mean: fit's epoch loss is the mean of batch losses weighted by batch size,
// which is the per-sample mean whatever the size of the last batch.
class RunningMean {
 public:
  void update(double value, double weight = 1) {
    sum_ += value * weight;
    weight_ += weight;
  }
  double compute() const { return detail::ratio(sum_, weight_); }
  double count() const { return weight_; }
  void reset() { sum_ = weight_ = 0; }

 private:
  double sum_ = 0, weight_ = 0;
};

// Fraction of rows whose argmax equals the target class.
class Accuracy {
 public:
  template <class X, class Y>
  void update(const X& logits, const Y& target) {
    const auto pred = detail::classes_of(logits, "Accuracy");
    const auto y = detail::labels_of(target, pred.size(), "Accuracy");
    for (std::size_t i = 0; i < y.size(); ++i) correct_ += pred[i] == y[i];
    total_ += static_cast<std::int64_t>(y.size());
  }
  double compute() const { return detail::ratio(double(correct_), double(total_)); }
  void reset() { correct_ = total_ = 0; }

 private:
  std::int64_t correct_ = 0, total_ = 0;
};

// Fraction of rows whose target class is among the k highest scores. Ties rank as argmax does
// (the lower index first), so top-1 accuracy equals accuracy exactly.
class TopKAccuracy {
 public:
  explicit TopKAccuracy(std::int64_t k = 5) : k_(k) {
    if (k < 1) throw value_error(etna::detail::str("TopKAccuracy: k must be >= 1, got ", k));
  }
  template <class X, class Y>
  void update(const X& logits, const Y& target) {
    const auto t = detail::host_values(logits);
    if (t.dim() != 2)
      throw shape_error(etna::detail::str("TopKAccuracy: expected scores of shape [N, C], got ",
                                          t.shape()));
    const std::int64_t n = t.size(0), c = t.size(1);
    const auto y = detail::labels_of(target, static_cast<std::size_t>(n), "TopKAccuracy");
    for (std::int64_t i = 0; i < n; ++i) {
      const auto* row = t.data() + i * c;
      const std::int64_t label = y[static_cast<std::size_t>(i)];
      if (label < 0 || label >= c)
        throw value_error(etna::detail::str("TopKAccuracy: target ", label, " out of range for ",
                                            c, " classes"));
      std::int64_t ahead = 0;  // classes ranked before the target
      for (std::int64_t j = 0; j < c; ++j)
        ahead += row[j] > row[label] || (row[j] == row[label] && j < label);
      correct_ += ahead < k_;
    }
    total_ += n;
  }
  double compute() const { return detail::ratio(double(correct_), double(total_)); }
  std::int64_t k() const { return k_; }
  void reset() { correct_ = total_ = 0; }

 private:
  std::int64_t k_;
  std::int64_t correct_ = 0, total_ = 0;
};

// Per-class and macro precision / recall / F1 with their support (true count per class).
struct ClassificationReport {
  std::vector<double> precision, recall, f1;
  std::vector<std::int64_t> support;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0, accuracy = 0;
};

// counts(t, p): rows of true class t predicted as p (sklearn's layout: rows true, columns
// predicted). A class with no predictions has precision 0, one with no examples recall 0, and F1
// is 2 tp / (2 tp + fp + fn) or 0 (sklearn's zero_division=0). Macro averages run over all
// num_classes classes (sklearn with labels=range(num_classes)).
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::int64_t num_classes, std::vector<std::string> class_names = {})
      : c_(num_classes), names_(std::move(class_names)),
        counts_(static_cast<std::size_t>(std::max<std::int64_t>(num_classes, 0) *
                                         std::max<std::int64_t>(num_classes, 0))) {
    if (num_classes < 1)
      throw value_error(etna::detail::str("ConfusionMatrix: num_classes must be >= 1, got ",
                                          num_classes));
    if (!names_.empty() && static_cast<std::int64_t>(names_.size()) != c_)
      throw value_error(etna::detail::str("ConfusionMatrix: ", names_.size(),
                                          " class names for ", c_, " classes"));
  }

  // logits [N, C] (or predicted classes, an int64 tensor [N]) and int64 targets [N].
  template <class X, class Y>
  void update(const X& logits_or_classes, const Y& target) {
    const auto pred = detail::classes_of(logits_or_classes, "ConfusionMatrix");
    const auto y = detail::labels_of(target, pred.size(), "ConfusionMatrix");
    for (std::size_t i = 0; i < y.size(); ++i) add(y[i], pred[i]);
  }
  void add(std::int64_t true_class, std::int64_t predicted_class, std::int64_t count = 1) {
    for (std::int64_t k : {true_class, predicted_class})
      if (k < 0 || k >= c_)
        throw value_error(etna::detail::str("ConfusionMatrix: class ", k, " out of range for ",
                                            c_, " classes"));
    counts_[static_cast<std::size_t>(true_class * c_ + predicted_class)] += count;
  }
  void reset() { std::fill(counts_.begin(), counts_.end(), 0); }

  std::int64_t num_classes() const { return c_; }
  const std::vector<std::string>& class_names() const { return names_; }
  std::int64_t counts(std::int64_t true_class, std::int64_t predicted_class) const {
    return counts_.at(static_cast<std::size_t>(true_class * c_ + predicted_class));
  }
  // The matrix as an int64 tensor [C, C].
  Tensor<std::int64_t> compute() const { return tensor<std::int64_t>(counts_, Shape{c_, c_}); }
  std::int64_t total() const {
    std::int64_t s = 0;
    for (auto v : counts_) s += v;
    return s;
  }
  // Share of examples on the diagonal (0 when empty).
  double accuracy() const {
    std::int64_t diagonal = 0;
    for (std::int64_t k = 0; k < c_; ++k) diagonal += counts(k, k);
    const std::int64_t n = total();
    return n == 0 ? 0.0 : static_cast<double>(diagonal) / static_cast<double>(n);
  }

  ClassificationReport report() const {
    ClassificationReport r;
    std::int64_t diagonal = 0;
    for (std::int64_t k = 0; k < c_; ++k) {
      std::int64_t tp = counts(k, k), predicted = 0, actual = 0;
      for (std::int64_t j = 0; j < c_; ++j) {
        predicted += counts(j, k);
        actual += counts(k, j);
      }
      diagonal += tp;
      r.precision.push_back(detail::ratio(double(tp), double(predicted)));
      r.recall.push_back(detail::ratio(double(tp), double(actual)));
      r.f1.push_back(detail::ratio(2.0 * double(tp), double(predicted + actual)));
      r.support.push_back(actual);
    }
    auto mean = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x;
      return s / static_cast<double>(v.size());
    };
    r.macro_precision = mean(r.precision);
    r.macro_recall = mean(r.recall);
    r.macro_f1 = mean(r.f1);
    r.accuracy = detail::ratio(double(diagonal), double(total()));
    return r;
  }

  // An aligned table, rows true classes and columns predicted ones, labelled with the class
  // names when given, else with the class indices.
  std::string to_string() const {
    std::vector<std::string> labels;
    for (std::int64_t k = 0; k < c_; ++k)
      labels.push_back(names_.empty() ? std::to_string(k) : names_[static_cast<std::size_t>(k)]);
    const std::string corner = "true\\pred";
    std::size_t first = corner.size(), width = 1;
    for (const auto& l : labels) {
      first = std::max(first, l.size());
      width = std::max(width, l.size());
    }
    for (auto v : counts_) width = std::max(width, std::to_string(v).size());
    std::ostringstream os;
    os << std::left << std::setw(static_cast<int>(first)) << corner << std::right;
    for (const auto& l : labels) os << "  " << std::setw(static_cast<int>(width)) << l;
    os << '\n';
    for (std::int64_t t = 0; t < c_; ++t) {
      os << std::left << std::setw(static_cast<int>(first)) << labels[static_cast<std::size_t>(t)]
         << std::right;
      for (std::int64_t p = 0; p < c_; ++p)
        os << "  " << std::setw(static_cast<int>(width)) << counts(t, p);
      os << '\n';
    }
    return os.str();
  }
  friend std::ostream& operator<<(std::ostream& os, const ConfusionMatrix& m) {
    return os << m.to_string();
  }

 private:
  std::int64_t c_;
  std::vector<std::string> names_;
  std::vector<std::int64_t> counts_;
};

// Precision / recall / F1 accumulated over batches (a confusion matrix underneath).
class PrecisionRecallF1 {
 public:
  explicit PrecisionRecallF1(std::int64_t num_classes) : m_(num_classes) {}
  template <class X, class Y>
  void update(const X& logits, const Y& target) { m_.update(logits, target); }
  ClassificationReport compute() const { return m_.report(); }
  void reset() { m_.reset(); }
  const ConfusionMatrix& confusion_matrix() const { return m_; }

 private:
  ConfusionMatrix m_;
};

namespace detail {
// sum |p - t| and sum (p - t)^2 over equally sized prediction and target tensors.
template <class P, class Y>
void error_sums(const P& pred, const Y& target, const char* who, double& abs_sum, double& sq_sum,
                std::int64_t& n) {
  const auto p = host_values(pred);
  const auto t = host_values(target);
  if (p.numel() != t.numel())
    throw shape_error(etna::detail::str(who, ": prediction of shape ", p.shape(),
                                        " and target of shape ", t.shape(),
                                        " have different numbers of elements"));
  for (std::int64_t i = 0; i < p.numel(); ++i) {
    const double d = static_cast<double>(p.data()[i]) - static_cast<double>(t.data()[i]);
    abs_sum += std::abs(d);
    sq_sum += d * d;
  }
  n += p.numel();
}
}  // namespace detail

// Mean absolute error over every element seen.
class MeanAbsoluteError {
 public:
  template <class P, class Y>
  void update(const P& pred, const Y& target) {
    double unused = 0;
    detail::error_sums(pred, target, "MeanAbsoluteError", sum_, unused, n_);
  }
  double compute() const { return detail::ratio(sum_, double(n_)); }
  void reset() { sum_ = 0, n_ = 0; }

 private:
  double sum_ = 0;
  std::int64_t n_ = 0;
};

// Root of the mean squared error over every element seen (not the mean of batch RMSEs).
class RootMeanSquaredError {
 public:
  template <class P, class Y>
  void update(const P& pred, const Y& target) {
    double unused = 0;
    detail::error_sums(pred, target, "RootMeanSquaredError", unused, sum_, n_);
  }
  double compute() const { return std::sqrt(detail::ratio(sum_, double(n_))); }
  void reset() { sum_ = 0, n_ = 0; }

 private:
  double sum_ = 0;
  std::int64_t n_ = 0;
};

// ---- one-shot forms ---------------------------------------------------------------------------
template <class X, class Y>
double accuracy(const X& logits, const Y& target) {
  Accuracy m;
  m.update(logits, target);
  return m.compute();
}
template <class X, class Y>
double top_k_accuracy(const X& logits, const Y& target, std::int64_t k) {
  TopKAccuracy m(k);
  m.update(logits, target);
  return m.compute();
}
template <class X, class Y>
ConfusionMatrix confusion_matrix(const X& logits_or_classes, const Y& target,
                                 std::int64_t num_classes,
                                 std::vector<std::string> class_names = {}) {
  ConfusionMatrix m(num_classes, std::move(class_names));
  m.update(logits_or_classes, target);
  return m;
}
template <class X, class Y>
ClassificationReport precision_recall_f1(const X& logits_or_classes, const Y& target,
                                         std::int64_t num_classes) {
  return confusion_matrix(logits_or_classes, target, num_classes).report();
}
template <class P, class Y>
double mae(const P& pred, const Y& target) {
  MeanAbsoluteError m;
  m.update(pred, target);
  return m.compute();
}
template <class P, class Y>
double rmse(const P& pred, const Y& target) {
  RootMeanSquaredError m;
  m.update(pred, target);
  return m.compute();
}

}  // namespace etna::train
