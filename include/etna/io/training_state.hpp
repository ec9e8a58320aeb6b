// The small, non-tensor state of a training run as JSON for a checkpoint's metadata: numbers
// that round-trip exactly, a scheduler's SchedulerState and the global RNG's position.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "etna/core/error.hpp"
#include "etna/core/random.hpp"
#include "etna/optim/lr_scheduler.hpp"

namespace etna::io {
namespace detail {

// A double as JSON that reads back bit for bit: finite values as JSON numbers (nlohmann
// prints the shortest decimal that parses back to the same double), and the values JSON
// cannot hold as strings: "inf", "-inf", "nan" (ReduceLROnPlateau's best starts at +inf).
inline nlohmann::json exact_double_json(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

// The inverse; `what` names the value in the io_error a malformed one raises.
inline double exact_double_from_json(const nlohmann::json& j, const std::string& what) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  }
  throw io_error(etna::detail::str(what, ": expected a number, got ", j.dump()));
}

// Parses a metadata value as JSON; `what` names it in the io_error for malformed text.
inline nlohmann::json parse_json(const std::string& text, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw io_error(etna::detail::str(what, ": malformed JSON (", e.what(), ")"));
  }
}

// j[key] of a JSON object, io_error naming `what` and the key when absent or of another type.
inline const nlohmann::json& json_member(const nlohmann::json& j, const char* key,
                                         nlohmann::json::value_t type, const std::string& what) {
  if (!j.is_object()) throw io_error(etna::detail::str(what, ": expected a JSON object"));
  const auto it = j.find(key);
  if (it == j.end()) throw io_error(etna::detail::str(what, ": missing '", key, "'"));
  const bool ok = type == nlohmann::json::value_t::number_unsigned  ? it->is_number_unsigned()
                  : type == nlohmann::json::value_t::number_integer ? it->is_number_integer()
                                                                    : it->type() == type;
  if (!ok)
    throw io_error(etna::detail::str(what, ": '", key, "' has the wrong type (", it->dump(), ")"));
  return *it;
}

}  // namespace detail

// SchedulerState as {"values": {"last_epoch": 5, ...}, "base_lrs": [0.1, ...]}.
inline nlohmann::json scheduler_state_to_json(const optim::SchedulerState& s) {
  nlohmann::json values = nlohmann::json::object(), base_lrs = nlohmann::json::array();
  for (const auto& [key, value] : s.values) values[key] = detail::exact_double_json(value);
  for (double lr : s.base_lrs) base_lrs.push_back(detail::exact_double_json(lr));
  return {{"values", values}, {"base_lrs", base_lrs}};
}

inline optim::SchedulerState scheduler_state_from_json(const nlohmann::json& j,
                                                       const std::string& what) {
  using vt = nlohmann::json::value_t;
  optim::SchedulerState s;
  for (const auto& [key, value] : detail::json_member(j, "values", vt::object, what).items())
    s.values[key] = detail::exact_double_from_json(value, what + ": value '" + key + "'");
  for (const auto& lr : detail::json_member(j, "base_lrs", vt::array, what))
    s.base_lrs.push_back(detail::exact_double_from_json(lr, what + ": base_lrs"));
  return s;
}

// The global generator's position as {"seed": ..., "offset": ...} (unsigned 64-bit integers,
// which nlohmann writes and reads exactly).
inline nlohmann::json rng_state_to_json(const RandomStream& s) {
  return {{"seed", s.seed}, {"offset", s.offset}};
}

inline RandomStream rng_state_from_json(const nlohmann::json& j, const std::string& what) {
  using vt = nlohmann::json::value_t;
  return {detail::json_member(j, "seed", vt::number_unsigned, what).get<std::uint64_t>(),
          detail::json_member(j, "offset", vt::number_unsigned, what).get<std::uint64_t>()};
}

}  // namespace etna::io
