// Device tags (`cpu`, `cuda`) and the traits that name them. The device is part of a tensor's
// type, so mixing devices is a compile error and moving data is always explicit.
#pragma once

#include <concepts>
#include <string_view>

namespace etna {

struct cpu {
  static constexpr std::string_view name = "cpu";
};
struct cuda {
  static constexpr std::string_view name = "cuda";
};

template <class D>
concept Device = std::same_as<D, cpu> || std::same_as<D, cuda>;

}  // namespace etna
