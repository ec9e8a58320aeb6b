// prune::Amount: how much to prune, as torch.nn.utils.prune reads it: a fraction in [0, 1] of
// the elements (or slices) still unpruned, or an exact count of them.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>

#include "etna/core/error.hpp"

namespace etna::prune {

class Amount {
 public:
  // A fraction of the still-unpruned elements: 0.3 prunes round(0.3 * n) of the n left.
  template <std::floating_point F>
  Amount(F fraction) : fraction_(static_cast<double>(fraction)), is_count_(false) {}  // NOLINT
  // A count of elements (PyTorch's int amount): 5 prunes 5 more.
  template <std::integral I>
  requires(!std::same_as<I, bool>) Amount(I count)
      : count_(static_cast<std::int64_t>(count)), is_count_(true) {}  // NOLINT

  bool is_count() const { return is_count_; }
  double fraction() const { return fraction_; }
  std::int64_t count() const { return count_; }

  std::string str() const {
    return is_count_ ? std::to_string(count_) : etna::detail::str(fraction_);
  }

  // Checks the amount alone (PyTorch's _validate_pruning_amount_init): `what` names the caller.
  void validate(const std::string& what) const {
    if (is_count_ ? count_ < 0 : !(fraction_ >= 0.0 && fraction_ <= 1.0))
      throw value_error(etna::detail::str(what, ": amount=", str(),
                                          " should either be a fraction in [0, 1] (a double) or a "
                                          "non-negative count (an integer)"));
  }

  // How many of `available` elements (or slices) to prune: the count itself, or the fraction
  // rounded as Python's round() does (half to even), like PyTorch's _compute_nparams_toprune.
  // A count larger than what is left is a value_error.
  std::int64_t to_prune(std::int64_t available, const std::string& what) const {
    validate(what);
    if (is_count_) {
      if (count_ > available)
        throw value_error(etna::detail::str(what, ": amount=", count_,
                                            " should be at most the number of elements (or "
                                            "slices) still unpruned, ",
                                            available));
      return count_;
    }
    return static_cast<std::int64_t>(std::nearbyint(fraction_ * static_cast<double>(available)));
  }

 private:
  double fraction_ = 0;
  std::int64_t count_ = 0;
  bool is_count_ = false;
};

}  // namespace etna::prune
