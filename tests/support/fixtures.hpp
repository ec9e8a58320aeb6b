// Loads PyTorch reference fixtures (JSON written by the scripts in tests/reference/) as etna
// tensors, and compares tensors with readable failure messages.
#pragma once

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "etna/etna.hpp"

namespace etna::test {

// A fixture file: {"name": {"shape": [...], "dtype": "float32", "data": [...]}, ...}.
// Non-tensor values (numbers, strings) may sit beside tensors and are read with value().
class Fixtures {
 public:
  explicit Fixtures(const std::string& file) : path_(std::string(ETNA_TEST_DATA_DIR) + "/" + file) {
    std::ifstream in(path_);
    if (!in) throw std::runtime_error("fixture file not found: " + path_ +
                                      " (regenerate with tests/reference/*.py)");
    in >> json_;
  }

  template <Scalar T = float>
  Tensor<T> tensor(const std::string& name) const {
    const auto& entry = at(name);
    Shape shape;
    for (auto d : entry.at("shape")) shape.push_back(d.get<std::int64_t>());
    auto t = empty<T>(shape);
    const auto& data = entry.at("data");
    if (static_cast<std::int64_t>(data.size()) != t.numel())
      throw std::runtime_error("fixture " + name + ": data size does not match shape");
    T* p = t.data();
    for (const auto& v : data) {
      if (v.is_string()) *p++ = static_cast<T>(std::stod(v.get<std::string>()));  // "nan", "inf"
      else if (v.is_boolean()) *p++ = static_cast<T>(v.get<bool>());
      else *p++ = static_cast<T>(v.get<double>());
    }
    return t;
  }

  template <class V>
  V value(const std::string& name) const {
    return at(name).get<V>();
  }
  bool contains(const std::string& name) const { return json_.contains(name); }
  const nlohmann::json& json() const { return json_; }

 private:
  const nlohmann::json& at(const std::string& name) const {
    if (!json_.contains(name)) throw std::runtime_error("fixture " + path_ + " has no entry " + name);
    return json_.at(name);
  }
  std::string path_;
  nlohmann::json json_;
};

// Describes the first mismatch between two tensors (empty string when they match):
// |a - b| <= atol + rtol * |b| elementwise, NaNs equal to NaNs, shapes equal.
template <class A, class B>
std::string mismatch(const A& actual_x, const B& expected_x, double rtol = 1e-5, double atol = 1e-6) {
  auto actual = eval(actual_x);
  auto expected = eval(expected_x);
  if (!(actual.shape() == expected.shape()))
    return "shape " + actual.shape().str() + " != expected " + expected.shape().str();
  auto a = actual.begin();
  std::int64_t i = 0;
  for (auto b = expected.begin(); b != expected.end(); ++a, ++b, ++i) {
    const double x = static_cast<double>(*a), y = static_cast<double>(*b);
    if (std::isnan(x) && std::isnan(y)) continue;
    if (x == y) continue;
    if (!(std::fabs(x - y) <= atol + rtol * std::fabs(y))) {
      std::ostringstream out;
      out.precision(9);
      out << "element " << i << " (flat, row-major): " << x << " != expected " << y
          << " (rtol " << rtol << ", atol " << atol << ")";
      return out.str();
    }
  }
  return "";
}

}  // namespace etna::test

// CHECK_CLOSE(actual, expected[, rtol, atol]): tensors or expressions, reports the first mismatch.
#define ETNA_CHECK_CLOSE(actual, ...)                                           \
  do {                                                                          \
    const std::string etna_mismatch_ = ::etna::test::mismatch(actual, __VA_ARGS__); \
    INFO(etna_mismatch_);                                                       \
    CHECK(etna_mismatch_.empty());                                              \
  } while (0)
