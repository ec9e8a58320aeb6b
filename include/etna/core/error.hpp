// The exception hierarchy: every error etna raises derives from etna::error, and its message
// names the operation and the shapes or values involved.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace etna {

struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct shape_error : error {
  using error::error;
};
struct index_error : error {
  using error::error;
};
struct value_error : error {
  using error::error;
};
struct io_error : error {
  using error::error;
};
struct device_error : error {
  using error::error;
};

namespace detail {
// Concatenates anything printable into one message: str("matmul: ", a, " x ", b).
template <class... Parts>
std::string str(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

}  // namespace etna
