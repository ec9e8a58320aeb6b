// How a module describes itself: PyTorch's printed repr and a Keras-style summary table with
// output shapes, recorded by Module::operator() while a ShapeRecorder is active on the thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "etna/nn/module_ref.hpp"

namespace etna::nn::detail {

// Output shapes seen per module during one summary() forward pass (first call wins).
struct ShapeRecorder {
  std::vector<std::pair<const void*, Shape>> shapes;
  void record(const void* module, Shape shape) {
    for (auto& [m, s] : shapes)
      if (m == module) return;
    shapes.emplace_back(module, std::move(shape));
  }
  const Shape* find(const void* module) const {
    for (auto& [m, s] : shapes)
      if (m == module) return &s;
    return nullptr;
  }
};

// Null except inside summary(): one thread-local pointer test per module call.
inline ShapeRecorder*& active_shape_recorder() {
  thread_local ShapeRecorder* recorder = nullptr;
  return recorder;
}

struct ShapeRecorderScope {
  explicit ShapeRecorderScope(ShapeRecorder& r) : previous(active_shape_recorder()) {
    active_shape_recorder() = &r;
  }
  ~ShapeRecorderScope() { active_shape_recorder() = previous; }
  ShapeRecorderScope(const ShapeRecorderScope&) = delete;
  ShapeRecorderScope& operator=(const ShapeRecorderScope&) = delete;
  ShapeRecorder* previous;
};

template <class T, class D>
std::vector<std::pair<std::string, ModuleRef<T, D>>> direct_children(const ModuleRef<T, D>& m) {
  struct Collect : StateVisitor<T, D> {
    std::vector<std::pair<std::string, ModuleRef<T, D>>> out;
    bool module(const std::string& name, const ModuleRef<T, D>& child) override {
      out.emplace_back(name, child);
      return false;
    }
  } visitor;
  m.visit("", visitor);
  return std::move(visitor.out);
}

template <class T, class D>
std::pair<std::int64_t, std::int64_t> count_parameters(const ModuleRef<T, D>& m) {
  struct Count : StateVisitor<T, D> {
    std::int64_t total = 0, trainable = 0;
    std::vector<const void*> seen;
    void parameter(const std::string&, Var<T, D>& p) override {
      if (std::find(seen.begin(), seen.end(), &p.value()) != seen.end()) return;
      seen.push_back(&p.value());
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
  } visitor;
  m.visit("", visitor);
  return {visitor.total, visitor.trainable};
}

template <class T, class D>
void print_module(std::ostream& os, const ModuleRef<T, D>& m, int indent) {
  const auto children = direct_children(m);
  const std::string extra = m.extra_repr();
  os << m.type_name() << '(';
  if (children.empty()) {
    os << extra << ')';
    return;
  }
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  os << '\n';
  if (!extra.empty()) os << pad << extra << '\n';
  for (auto& [name, child] : children) {
    os << pad << '(' << name << "): ";
    print_module(os, child, indent + 2);
    os << '\n';
  }
  os << std::string(static_cast<std::size_t>(indent), ' ') << ')';
}

// 1234567 -> "1,234,567".
inline std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

template <class T, class D>
std::string summary_table(const ModuleRef<T, D>& root,
                          const std::vector<std::pair<std::string, ModuleRef<T, D>>>& modules,
                          const ShapeRecorder* shapes) {
  struct Row {
    std::string layer, shape, params;
  };
  std::vector<Row> rows;
  for (std::size_t i = 1; i < modules.size(); ++i) {  // modules[0] is the root itself
    const auto& [name, m] = modules[i];
    const auto depth = static_cast<std::size_t>(std::count(name.begin(), name.end(), '.'));
    std::string shape = "-";
    if (shapes)
      if (const Shape* s = shapes->find(m.address())) {
        std::ostringstream ss;
        ss << *s;
        shape = ss.str();
      }
    rows.push_back({std::string(2 * depth, ' ') + name + " (" + m.type_name() + ")", shape,
                    with_thousands(count_parameters(m).first)});
  }
  Row header{"Layer (type)", shapes ? "Output Shape" : "", "Param #"};
  std::size_t w0 = header.layer.size(), w1 = header.shape.size(), w2 = header.params.size();
  for (auto& r : rows) {
    w0 = std::max(w0, r.layer.size());
    w1 = std::max(w1, shapes ? r.shape.size() : 0);
    w2 = std::max(w2, r.params.size());
  }
  const std::size_t width = w0 + (shapes ? w1 + 3 : 0) + w2 + 3;
  std::ostringstream os;
  auto line = [&](const Row& r) {
    os << r.layer << std::string(w0 - r.layer.size() + 3, ' ');
    if (shapes) os << r.shape << std::string(w1 - r.shape.size() + 3, ' ');
    os << std::string(w2 - r.params.size(), ' ') << r.params << '\n';
  };
  os << "Model: " << root.type_name() << '\n' << std::string(width, '=') << '\n';
  line(header);
  os << std::string(width, '-') << '\n';
  for (auto& r : rows) line(r);
  const auto [total, trainable] = count_parameters(root);
  os << std::string(width, '=') << '\n'
     << "Total params: " << with_thousands(total) << '\n'
     << "Trainable params: " << with_thousands(trainable) << '\n'
     << "Non-trainable params: " << with_thousands(total - trainable) << '\n';
  return os.str();
}

}  // namespace etna::nn::detail
