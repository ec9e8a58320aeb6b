// Resumable checkpoints: one safetensors file holding a model's state dict, an optimizer's
// state, a scheduler's state, the global RNG's position and the step, with a format version.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/random.hpp"
#include "etna/io/module_io.hpp"
#include "etna/io/optimizer_state.hpp"
#include "etna/io/safetensors_reader.hpp"
#include "etna/io/safetensors_writer.hpp"
#include "etna/io/training_state.hpp"
#include "etna/nn/module.hpp"
#include "etna/optim/optimizer.hpp"

namespace etna::io {

// The checkpoint layout this etna writes. Files of an older version stay readable; a newer
// version is refused with an io_error saying so.
inline constexpr int checkpoint_format_version = 1;

// What load_checkpoint and checkpoint_info report: the step given to save_checkpoint, the
// file's format version and the user's metadata (the keys that do not start with "etna.").
struct CheckpointInfo {
  std::int64_t step = 0;
  int format_version = 0;
  std::map<std::string, std::string> metadata;
};

namespace detail {

inline const std::string kReservedPrefix = "etna.";
inline const std::string kModelPrefix = "model.";

template <class O>
std::string optimizer_name(const O& o) {
  if constexpr (requires { o.name(); })
    return std::string(o.name());
  else
    return "";
}

// The model's name of each of the optimizer's parameters ("" for one the model lacks); empty
// for an optimizer that does not expose its groups' parameters.
template <nn::Layer M, class O>
std::vector<std::string> optimizer_param_names(const M& model, const O& opt) {
  std::vector<std::string> out;
  if constexpr (requires { opt.param_groups()[0].params[0].impl_ptr(); }) {
    const auto named = model.named_parameters();
    for (const auto& g : opt.param_groups())
      for (const auto& p : g.params) {
        const void* id = p.impl_ptr().get();
        std::string name;
        for (const auto& [n, q] : named)
          if (static_cast<const void*>(q.impl_ptr().get()) == id) {
            name = n;
            break;
          }
        out.push_back(name);
      }
  }
  return out;
}

// A metadata value that must be present.
inline const std::string& required(const SafeTensorsFile& f, const std::string& key,
                                   const std::string& what) {
  const auto it = f.metadata().find(key);
  if (it == f.metadata().end())
    throw io_error(etna::detail::str(what, ": the checkpoint's metadata lacks '", key, "'"));
  return it->second;
}

// A whole decimal integer (no sign for version, no spaces, no trailing text).
inline std::int64_t parse_int(const std::string& s, const std::string& what) {
  std::size_t used = 0;
  std::int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (s.empty() || used != s.size() || s.front() == ' ' || s.front() == '+')
    throw io_error(etna::detail::str(what, ": '", s, "' is not an integer"));
  return v;
}

// Checks the format tag and version and reads the step and the user's metadata.
inline CheckpointInfo read_info(const SafeTensorsFile& f, const std::string& what) {
  const auto& md = f.metadata();
  const auto tag = md.find("etna.format");
  if (tag == md.end())
    throw io_error(what +
                   ": not an etna checkpoint (no 'etna.format' in its metadata); a plain "
                   "state dict loads with et::io::load");
  if (tag->second == "state_dict")
    throw io_error(what +
                   ": not an etna checkpoint but a plain state dict ('etna.format' is "
                   "'state_dict'); it loads with et::io::load");
  if (tag->second != "checkpoint")
    throw io_error(
        etna::detail::str(what, ": 'etna.format' is '", tag->second, "', expected 'checkpoint'"));
  const auto version =
      parse_int(required(f, "etna.format_version", what), what + ": etna.format_version");
  if (version > checkpoint_format_version)
    throw io_error(etna::detail::str(what, ": checkpoint format version ", version,
                                     " is newer than this etna supports (",
                                     checkpoint_format_version, "); update etna to load it"));
  if (version < 1)
    throw io_error(etna::detail::str(what, ": invalid checkpoint format version ", version));
  CheckpointInfo info{parse_int(required(f, "etna.step", what), what + ": etna.step"),
                      static_cast<int>(version),
                      {}};
  for (const auto& [key, value] : md)
    if (key.rfind(kReservedPrefix, 0) != 0) info.metadata[key] = value;
  return info;
}

// "a, b, c, ... (17 more)".
inline std::string short_list(const std::vector<std::string>& keys) {
  std::string out;
  for (std::size_t i = 0; i < keys.size() && i < 10; ++i) out += (i ? ", " : "") + keys[i];
  if (keys.size() > 10) out += etna::detail::str(", ... (", keys.size() - 10, " more)");
  return out;
}

// Before anything changes, and before the optimizer's checks (whose messages would name
// parameter indices): the file's "model." tensors are exactly the model's, with its shapes.
template <nn::Layer M>
void check_model(const SafeTensorsFile& f, const M& model, const std::string& what) {
  std::set<std::string> names;
  std::vector<std::string> missing, unexpected;
  auto check = [&](const std::string& name, const Shape& shape) {
    const std::string key = kModelPrefix + name;
    names.insert(key);
    if (!f.contains(key)) return missing.push_back(key);
    const Shape& saved = f.entry(key).shape;
    if (!(saved == shape))
      throw io_error(etna::detail::str(what, ": model tensor '", key, "' has shape ", saved,
                                       " in the checkpoint, ", shape, " in the model"));
  };
  for (const auto& [name, p] : model.named_parameters()) check(name, p.shape());
  for (const auto& [name, b] : model.named_buffers()) check(name, b.shape());
  for (const auto& [name, b] : model.named_index_buffers()) check(name, b.shape());
  for (const auto& key : f.keys())
    if (key.rfind(kModelPrefix, 0) == 0 && !names.count(key)) unexpected.push_back(key);
  if (missing.empty() && unexpected.empty()) return;
  std::string msg = what + ": the model does not match the checkpoint;";
  if (!missing.empty())
    msg += " missing (in the model, not in the checkpoint): " + short_list(missing) + ";";
  if (!unexpected.empty())
    msg += " unexpected (in the checkpoint, not in the model): " + short_list(unexpected) + ";";
  msg.pop_back();
  throw io_error(msg);
}

template <nn::Layer M, optim::Optimizer O>
void write_checkpoint(const std::string& path, const M& model, const O& optimizer,
                      const std::optional<optim::SchedulerState>& scheduler, std::int64_t step,
                      const std::map<std::string, std::string>& metadata) {
  for (const auto& [key, value] : metadata)
    if (key.rfind(kReservedPrefix, 0) == 0)
      throw value_error(etna::detail::str("save_checkpoint: metadata key '", key,
                                          "' is reserved (keys starting with 'etna.' hold the "
                                          "checkpoint's own fields)"));
  SafeTensorsWriter w;
  add_state_dict(w, model, kModelPrefix);
  const OptimizerRecord<typename O::value_type> record{
      optimizer_name(optimizer), optimizer.state_dict(), optimizer_param_names(model, optimizer)};
  const nlohmann::json opt_json = add_optimizer_state(w, record);
  w.set_metadata("etna.format", "checkpoint");
  w.set_metadata("etna.format_version", std::to_string(checkpoint_format_version));
  w.set_metadata("etna.step", std::to_string(step));
  w.set_metadata("etna.optimizer", opt_json.dump());
  if (scheduler) w.set_metadata("etna.scheduler", scheduler_state_to_json(*scheduler).dump());
  w.set_metadata("etna.rng", rng_state_to_json(default_generator().get_state()).dump());
  for (const auto& [key, value] : metadata) w.set_metadata(key, value);
  w.save(path);
}

// Runs `f`, turning any etna error but an io_error into an io_error prefixed with `what`.
template <class F>
void as_io_error(const std::string& what, F&& f) {
  try {
    f();
  } catch (const io_error&) {
    throw;
  } catch (const etna::error& e) {
    throw io_error(etna::detail::str(what, ": ", e.what()));
  }
}

// Validates everything, then restores model, optimizer, scheduler (when given) and RNG. The
// optimizer and the scheduler are first loaded into copies (handles: they share parameters,
// not state), so a state that does not fit fails before the model changes.
template <nn::Layer M, optim::Optimizer O, class S>
CheckpointInfo read_checkpoint(const std::string& path, M& model, O& optimizer, S* scheduler) {
  const std::string what = "load_checkpoint: '" + path + "'";
  const SafeTensorsFile f(path);
  CheckpointInfo info = read_info(f, what);
  // A pruned model's masks ("model.fc1.weight_mask") attach to a fresh model's parameters
  // (detached again if the load fails).
  std::set<std::string> model_keys;
  for (const std::string& key : f.keys())
    if (key.starts_with(kModelPrefix)) model_keys.insert(key.substr(kModelPrefix.size()));
  detail::MaskAttach<module_value_t<M>, module_device_t<M>> masks(model, model_keys);
  check_model(f, model, what);
  const auto record = read_optimizer_state<typename O::value_type>(
      f, parse_json(required(f, "etna.optimizer", what), what + ": etna.optimizer"),
      what + ": etna.optimizer");
  const std::string kind = optimizer_name(optimizer);
  if (record.name != kind)
    throw io_error(etna::detail::str(what, ": the checkpoint holds the state of optimizer ",
                                     record.name, ", it can't be loaded into ", kind));
  const auto names = optimizer_param_names(model, optimizer);
  if (!record.param_names.empty() && record.param_names.size() == names.size())
    for (std::size_t i = 0; i < names.size(); ++i)
      if (!names[i].empty() && !record.param_names[i].empty() && names[i] != record.param_names[i])
        throw io_error(etna::detail::str(what, ": the optimizer's parameter ", i, " is '", names[i],
                                         "' of the model, in the checkpoint it was '",
                                         record.param_names[i], "'"));
  std::optional<optim::SchedulerState> sched;
  if (scheduler) {
    const auto it = f.metadata().find("etna.scheduler");
    if (it == f.metadata().end())
      throw io_error(what +
                     ": the checkpoint has no scheduler state (it was saved without a "
                     "scheduler); load it without one");
    sched = scheduler_state_from_json(parse_json(it->second, what + ": etna.scheduler"),
                                      what + ": etna.scheduler");
  }
  const RandomStream rng = rng_state_from_json(
      parse_json(required(f, "etna.rng", what), what + ": etna.rng"), what + ": etna.rng");

  constexpr bool probe_optimizer = std::is_copy_constructible_v<O> && std::is_move_assignable_v<O>;
  std::optional<O> loaded;
  if constexpr (probe_optimizer) {
    loaded.emplace(optimizer);
    as_io_error(what + ": optimizer state", [&] { loaded->load_state_dict(record.state); });
  }
  if constexpr (std::is_copy_constructible_v<S>)
    if (scheduler) {
      S probe(*scheduler);
      as_io_error(what + ": scheduler state", [&] { probe.load_state_dict(*sched); });
    }
  // The first change: load_state_dict checks everything before it writes the model.
  as_io_error(what + ": model", [&] { load_state_dict(model, f, LoadOptions{}, kModelPrefix); });
  masks.commit();
  if constexpr (probe_optimizer)
    optimizer = std::move(*loaded);
  else
    as_io_error(what + ": optimizer state", [&] { optimizer.load_state_dict(record.state); });
  if (scheduler)
    as_io_error(what + ": scheduler state", [&] { scheduler->load_state_dict(*sched); });
  default_generator().set_state(rng);
  return info;
}

// Stands in for "no scheduler" in read_checkpoint's type.
struct NoScheduler {
  void load_state_dict(const optim::SchedulerState&) {}
};

}  // namespace detail

// Writes `path` atomically (a crash mid-save leaves the previous file intact). Layout, one
// safetensors file:
//   "model.<name>"               the model's state dict (parameters and buffers, PyTorch names)
//   "optimizer.state.<i>.<key>"  the state of the optimizer's parameter i ("exp_avg", "step"...)
//   __metadata__: "etna.format" = "checkpoint", "etna.format_version" = "1", "etna.step",
//   "etna.optimizer" (JSON: name, param_groups' options and parameter indices, the parameters'
//   model names), "etna.scheduler" (JSON SchedulerState, when given), "etna.rng" (JSON seed and
//   offset of the global generator), and `metadata` under its own keys. Keys starting with
//   "etna." are reserved: value_error. The model part is a plain state dict under "model.":
//   et::io::load(net, path, {.strict = false, .prefix_map = {{"model.", ""}}}) reads it.
template <nn::Layer M, optim::Optimizer O>
void save_checkpoint(const std::string& path, const M& model, const O& optimizer, std::int64_t step,
                     const std::map<std::string, std::string>& metadata = {}) {
  detail::write_checkpoint(path, model, optimizer, std::nullopt, step, metadata);
}

// The same with a scheduler (anything with state_dict() -> SchedulerState).
template <nn::Layer M, optim::Optimizer O, class Scheduler>
requires requires(const Scheduler& s) {
  { s.state_dict() } -> std::same_as<optim::SchedulerState>;
}
void save_checkpoint(const std::string& path, const M& model, const O& optimizer,
                     const Scheduler& scheduler, std::int64_t step,
                     const std::map<std::string, std::string>& metadata = {}) {
  detail::write_checkpoint(path, model, optimizer, scheduler.state_dict(), step, metadata);
}

// Restores the model (in place: an optimizer over its parameters keeps working), the optimizer
// (moments, step counts, parameter groups' options), the global RNG and returns the step and
// metadata. Everything is checked first (format and version, optimizer kind, parameter order
// and shapes, every JSON field); on any problem it throws io_error and changes nothing. A
// checkpoint's scheduler state, if any, is ignored by this overload.
template <nn::Layer M, optim::Optimizer O>
CheckpointInfo load_checkpoint(const std::string& path, M& model, O& optimizer) {
  return detail::read_checkpoint(path, model, optimizer,
                                 static_cast<detail::NoScheduler*>(nullptr));
}

// The same, also restoring `scheduler` (io_error if the checkpoint has no scheduler state).
template <nn::Layer M, optim::Optimizer O, class Scheduler>
requires requires(Scheduler& s, const optim::SchedulerState& st) { s.load_state_dict(st); }
CheckpointInfo load_checkpoint(const std::string& path, M& model, O& optimizer,
                               Scheduler& scheduler) {
  return detail::read_checkpoint(path, model, optimizer, &scheduler);
}

// The step, format version and user metadata of a checkpoint, without loading it.
inline CheckpointInfo checkpoint_info(const std::string& path) {
  return detail::read_info(SafeTensorsFile(path), "checkpoint_info: '" + path + "'");
}

}  // namespace etna::io
