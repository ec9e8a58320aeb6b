// An optimizer's StateDict in a safetensors file: its tensors as "optimizer.state.<i>.<key>"
// and its kind, parameter groups (options, parameter indices) and parameter names as JSON.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/io/safetensors_reader.hpp"
#include "etna/io/safetensors_writer.hpp"
#include "etna/io/training_state.hpp"
#include "etna/optim/optimizer.hpp"

namespace etna::io {

// The key prefix of the optimizer's state tensors.
inline const std::string optimizer_state_prefix = "optimizer.state.";

// What a checkpoint records about an optimizer besides its tensors. `param_names[i]` is the
// model's name of the optimizer's parameter i ("" when it is not one of the model's), so a
// resumed optimizer over the parameters in another order is caught instead of mixing moments.
template <class T>
struct OptimizerRecord {
  std::string name;  // optimizer.name(): "Adam", "SGD"...
  optim::StateDict<T> state;
  std::vector<std::string> param_names;
};

// Adds the state tensors to `w` and returns the JSON of everything else:
// {"name": "Adam", "param_groups": [{"options": {"lr": 0.001, ...}, "params": [0, 1]}],
//  "param_names": ["0.weight", "0.bias"]}.
template <class T>
nlohmann::json add_optimizer_state(SafeTensorsWriter& w, const OptimizerRecord<T>& r) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : r.state.param_groups) {
    nlohmann::json options = nlohmann::json::object();
    for (const auto& [key, value] : g.options) options[key] = detail::exact_double_json(value);
    groups.push_back({{"options", options}, {"params", g.params}});
  }
  for (const auto& [index, entries] : r.state.state)
    for (const auto& [key, t] : entries)
      w.add(etna::detail::str(optimizer_state_prefix, index, ".", key), t);
  return {{"name", r.name}, {"param_groups", groups}, {"param_names", r.param_names}};
}

namespace detail {
// "<i>.<key>" after the prefix: the parameter index and the state's name.
inline std::pair<std::int64_t, std::string> parse_state_key(const std::string& key,
                                                            const std::string& what) {
  const std::string rest = key.substr(optimizer_state_prefix.size());
  const auto dot = rest.find('.');
  std::int64_t index = -1;
  if (dot != std::string::npos && dot > 0 && dot < 19 && dot + 1 < rest.size() &&
      rest.find_first_not_of("0123456789") == dot)
    index = std::stoll(rest.substr(0, dot));
  if (index < 0)
    throw io_error(etna::detail::str(what, ": tensor '", key,
                                     "' is not named optimizer.state.<index>.<name>"));
  return {index, rest.substr(dot + 1)};
}
}  // namespace detail

// Reads back what add_optimizer_state wrote (`j` is its JSON, the tensors come from `f`);
// checks the structure (each group's options are numbers, every parameter index appears once,
// every state tensor belongs to a listed parameter) and throws io_error naming `what`.
template <class T>
OptimizerRecord<T> read_optimizer_state(const SafeTensorsFile& f, const nlohmann::json& j,
                                        const std::string& what) {
  using vt = nlohmann::json::value_t;
  OptimizerRecord<T> r;
  r.name = detail::json_member(j, "name", vt::string, what).get<std::string>();
  std::set<std::int64_t> seen;
  const auto& groups = detail::json_member(j, "param_groups", vt::array, what);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string where = etna::detail::str(what, ": parameter group ", g);
    typename optim::StateDict<T>::Group group;
    for (const auto& [key, value] :
         detail::json_member(groups[g], "options", vt::object, where).items())
      group.options[key] = detail::exact_double_from_json(value, where + ": option '" + key + "'");
    for (const auto& p : detail::json_member(groups[g], "params", vt::array, where)) {
      if (!p.is_number_integer() || p.get<std::int64_t>() < 0 ||
          !seen.insert(p.get<std::int64_t>()).second)
        throw io_error(etna::detail::str(where, ": bad or repeated parameter index ", p.dump()));
      group.params.push_back(p.get<std::int64_t>());
    }
    r.state.param_groups.push_back(std::move(group));
  }
  const auto count = static_cast<std::int64_t>(seen.size());
  if (!seen.empty() && *seen.rbegin() != count - 1)
    throw io_error(etna::detail::str(what, ": the parameter indices are not 0 to ", count - 1));
  for (const auto& name : detail::json_member(j, "param_names", vt::array, what)) {
    if (!name.is_string()) throw io_error(what + ": param_names holds a non-string");
    r.param_names.push_back(name.get<std::string>());
  }
  if (static_cast<std::int64_t>(r.param_names.size()) != count)
    throw io_error(etna::detail::str(what, ": ", r.param_names.size(), " param_names for ", count,
                                     " parameters"));
  for (const auto& key : f.keys()) {
    if (key.rfind(optimizer_state_prefix, 0) != 0) continue;
    const auto [index, name] = detail::parse_state_key(key, what);
    if (index >= count)
      throw io_error(etna::detail::str(what, ": tensor '", key, "' is the state of parameter ",
                                       index, ", the optimizer has ", count, " parameters"));
    r.state.state[index][name] = f.template tensor<T>(key);
  }
  return r;
}

}  // namespace etna::io
