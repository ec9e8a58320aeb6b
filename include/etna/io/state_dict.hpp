// A module's state_dict (PyTorch's names: parameters, float buffers, int64 buffers) written into
// a SafeTensorsWriter, and loaded back in place from a SafeTensorsFile with key matching
// (strict / non-strict, prefix renaming), shape and dtype checks made before anything changes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/io/dtype.hpp"
#include "etna/io/safetensors_reader.hpp"
#include "etna/io/safetensors_writer.hpp"
#include "etna/nn/module.hpp"

namespace etna::io {

struct LoadOptions {
  // Missing keys (in the module, not in the file) or unexpected keys (in the file, not in the
  // module) are an io_error listing them; non-strict loading loads the keys both have and
  // returns the others in LoadResult.
  bool strict = true;
  // Renames the FILE's keys before matching: a key starting with .first gets that prefix
  // replaced by .second (the first matching rule wins; a key matching no rule is kept as is).
  // {{"backbone.", ""}} loads a file's backbone into a network that is only the backbone;
  // {{"", "backbone."}} (an empty .first matches every key) loads a backbone-only file into
  // the backbone of a bigger network.
  std::vector<std::pair<std::string, std::string>> prefix_map = {};
  // Names to leave alone, as globs (`*` any characters, `?` one; nn::glob_match) over the names
  // after prefix_map: a file key so named is ignored (not loaded, not unexpected) and a module
  // tensor so named keeps its values (not missing). {.exclude = {"fc.*"}} loads a pretrained
  // network into one with a new head of another shape, strictly for everything else.
  std::vector<std::string> exclude = {};
};

// Sorted. missing_keys: the module's names the file lacks; unexpected_keys: the file's keys
// (as written in the file) that no module tensor took.
struct LoadResult {
  std::vector<std::string> missing_keys, unexpected_keys;
};

namespace detail {

using etna::detail::str;

// One tensor of a module's state: a parameter's value or a float buffer (value), or an int64
// buffer (index); exactly one is defined. The tensors share the module's storage.
template <class T, class D>
struct StateEntry {
  std::string name;
  std::vector<std::string> aliases;  // later names of a tied parameter (listed once, as here)
  Tensor<T, D> value;
  Tensor<std::int64_t, D> index;

  bool is_index() const { return index.defined(); }
  Shape shape() const { return is_index() ? index.shape() : value.shape(); }
};

template <class M>
using module_value_t = typename nn::detail::param_var_t<M>::value_type;
template <class M>
using module_device_t = typename nn::detail::param_var_t<M>::device_type;

// Collects the entries in registration order (a module's members, depth first), as PyTorch's
// state_dict. A tensor met twice (tied parameters, a module registered under two names) is
// listed once under its first name, like named_parameters(): one tensor, one stored copy.
template <class T, class D>
struct StateWalk : nn::StateVisitor<T, D> {
  std::vector<StateEntry<T, D>> entries;
  std::map<const void*, std::size_t> seen;

  template <class Fill>
  void add(const std::string& name, const void* id, Fill fill) {
    if (id != nullptr) {
      auto [it, fresh] = seen.try_emplace(id, entries.size());
      if (!fresh) {
        entries[it->second].aliases.push_back(name);
        return;
      }
    }
    StateEntry<T, D> e;
    e.name = name;
    fill(e);
    entries.push_back(std::move(e));
  }
  // A parameter is identified as named_parameters() does: by its shared Var state.
  void parameter(const std::string& name, Var<T, D>& p) override {
    add(name, &p.value(), [&](StateEntry<T, D>& e) { e.value = p.value(); });
  }
  void buffer(const std::string& name, Tensor<T, D>& b) override {
    add(name, b.data(), [&](StateEntry<T, D>& e) { e.value = b; });
  }
  void index_buffer(const std::string& name, Tensor<std::int64_t, D>& b) override {
    add(name, b.data(), [&](StateEntry<T, D>& e) { e.index = b; });
  }
};

template <nn::Layer M>
std::vector<StateEntry<module_value_t<M>, module_device_t<M>>> state_entries(const M& net) {
  StateWalk<module_value_t<M>, module_device_t<M>> walk;
  net.module_ref().visit("", walk);
  return std::move(walk.entries);
}

// Every parameter of a module tree under each of its names (tied parameters: all of them).
template <class T, class D>
struct ParameterWalk : nn::StateVisitor<T, D> {
  std::map<std::string, Var<T, D>> by_name;
  void parameter(const std::string& name, Var<T, D>& p) override { by_name.emplace(name, p); }
};

// A pruned model's file ("fc1.weight_mask" beside "fc1.weight", see et::prune) loading into a
// model whose parameter has no mask yet: the mask is attached (all ones) so that the traversal
// shows the "<name>_mask" buffer and the load fills it. Undone on destruction unless commit()
// was called, so a load that fails leaves the module as it was.
template <class T, class D>
class MaskAttach {
 public:
  // `names`: the file's tensor names as the module would call them (after any renaming).
  template <nn::Layer M, class Names>
  MaskAttach(M& net, const Names& names) {
    ParameterWalk<T, D> walk;
    net.module_ref().visit("", walk);
    for (auto& [name, p] : walk.by_name) {
      auto& impl = *p.impl_ptr();
      if (impl.mask.defined() || !names.count(name + "_mask")) continue;
      impl.mask = ones<T, D>(impl.value.shape());
      attached_.push_back(p);
    }
  }
  MaskAttach(const MaskAttach&) = delete;
  MaskAttach& operator=(const MaskAttach&) = delete;
  ~MaskAttach() {
    if (!committed_)
      for (auto& p : attached_) p.impl_ptr()->mask = Tensor<T, D>();
  }
  void commit() { committed_ = true; }

 private:
  std::vector<Var<T, D>> attached_;
  bool committed_ = false;
};

// After a load, for each loaded parameter (or mask): a pruned parameter's value is masked again
// (as PyTorch's weight = weight_orig * weight_mask: loading a dense weight into a pruned model
// keeps the pruning), and what layers derived from it for inference (a pruned Linear's
// compressed weight) is dropped as stale.
template <class T, class D>
void after_load(ParameterWalk<T, D>& walk, const std::vector<std::string>& loaded) {
  for (const std::string& name : loaded) {
    auto it = walk.by_name.find(name);
    if (it == walk.by_name.end() && name.ends_with("_mask"))
      it = walk.by_name.find(name.substr(0, name.size() - 5));
    if (it == walk.by_name.end()) continue;
    auto& impl = *it->second.impl_ptr();
    if (impl.mask.defined()) impl.value.assign(impl.value * impl.mask);
    impl.inference_cache.reset();
  }
}

// "a, b, c, ... (17 more)": a readable list however many keys there are.
inline std::string key_list(const std::vector<std::string>& keys, std::size_t shown = 10) {
  std::string out;
  for (std::size_t i = 0; i < keys.size() && i < shown; ++i) out += (i ? ", " : "") + keys[i];
  if (keys.size() > shown) out += str(", ... (", keys.size() - shown, " more)");
  return out;
}

// When a missing key and an unexpected one differ by a leading "prefix.", says which
// prefix_map would match them (the usual cause: a backbone saved inside a bigger network).
inline std::string prefix_hint(const std::vector<std::string>& missing,
                               const std::vector<std::string>& unexpected_renamed) {
  if (missing.empty()) return {};
  const std::string& m = missing.front();
  for (const std::string& u : unexpected_renamed) {
    if (u.size() > m.size() && u.ends_with(m) && u[u.size() - m.size() - 1] == '.')
      return str(" (the file's keys seem to carry the prefix '", u.substr(0, u.size() - m.size()),
                 "': try LoadOptions{.prefix_map = {{\"", u.substr(0, u.size() - m.size()),
                 "\", \"\"}}})");
    if (m.size() > u.size() && m.ends_with(u) && m[m.size() - u.size() - 1] == '.')
      return str(" (the module's keys carry the prefix '", m.substr(0, m.size() - u.size()),
                 "' that the file's lack: try LoadOptions{.prefix_map = {{\"\", \"",
                 m.substr(0, m.size() - u.size()), "\"}}})");
  }
  return {};
}

// Everything load_state_dict and load do: `what` names the caller in messages.
template <nn::Layer M>
LoadResult load_into(M& net, const SafeTensorsFile& f, const LoadOptions& options,
                     const std::string& key_prefix, const char* what) {
  using T = module_value_t<M>;
  using D = module_device_t<M>;

  const auto excluded = [&](const std::string& name) {
    for (const std::string& pattern : options.exclude)
      if (nn::glob_match(pattern, name)) return true;
    return false;
  };
  // The file's keys under key_prefix, renamed by prefix_map and not excluded: module name ->
  // file key.
  std::map<std::string, std::string> by_name;
  for (const std::string& key : f.keys()) {
    if (!key.starts_with(key_prefix)) continue;
    std::string name = key.substr(key_prefix.size());
    for (const auto& [from, to] : options.prefix_map)
      if (name.starts_with(from)) {
        name = to + name.substr(from.size());
        break;
      }
    if (excluded(name)) continue;
    if (auto [it, fresh] = by_name.emplace(name, key); !fresh)
      throw io_error(str(what, ": '", f.path(), "': the keys '", it->second, "' and '", key,
                         "' both become '", name, "' after prefix_map"));
  }
  MaskAttach<T, D> masks(net, by_name);
  const auto entries = state_entries(net);

  // Match: an entry takes its own name, else a tied alias the file holds (PyTorch-side tools
  // that drop duplicate tensors may keep either name).
  LoadResult result;
  std::vector<std::string> used;
  std::vector<std::pair<const StateEntry<T, D>*, std::string>> matched;  // entry, file key
  const auto file_key = [&](const std::string& name) -> const std::string* {
    const auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &it->second;
  };
  for (const auto& e : entries) {
    if (excluded(e.name)) continue;
    const std::string* key = file_key(e.name);
    for (std::size_t a = 0; !key && a < e.aliases.size(); ++a) key = file_key(e.aliases[a]);
    if (!key) {
      result.missing_keys.push_back(e.name);
      continue;
    }
    matched.emplace_back(&e, *key);
    used.push_back(e.name);
    used.insert(used.end(), e.aliases.begin(), e.aliases.end());
  }
  std::sort(used.begin(), used.end());
  std::vector<std::string> unexpected_renamed;
  for (const auto& [name, key] : by_name)
    if (!std::binary_search(used.begin(), used.end(), name)) {
      unexpected_renamed.push_back(name);
      result.unexpected_keys.push_back(key);
    }
  std::sort(result.missing_keys.begin(), result.missing_keys.end());
  std::sort(result.unexpected_keys.begin(), result.unexpected_keys.end());

  if (options.strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty())) {
    std::string msg = str(what, ": '", f.path(), "' does not match the module (strict loading):");
    if (!result.missing_keys.empty())
      msg +=
          str(" ", result.missing_keys.size(),
              " missing key(s), in the module but not in the file: ", key_list(result.missing_keys),
              ";");
    if (!result.unexpected_keys.empty())
      msg += str(" ", result.unexpected_keys.size(),
                 " unexpected key(s), in the file but not in the module: ",
                 key_list(result.unexpected_keys), ";");
    msg += " LoadOptions{.strict = false} loads the keys both have";
    const auto format = f.metadata().find("etna.format");
    if (key_prefix.empty() && format != f.metadata().end() && format->second == "checkpoint")
      throw io_error(msg +
                     " (this file is an etna checkpoint: load it with et::io::load_checkpoint)");
    throw io_error(msg + prefix_hint(result.missing_keys, unexpected_renamed));
  }

  // Shapes and dtypes of everything first, then the values converted on the host: all the
  // checks and conversions that can fail happen before the module changes.
  const auto describe = [&](const StateEntry<T, D>& e, const std::string& key) {
    return key == e.name ? str("'", e.name, "'") : str("'", e.name, "' (file key '", key, "')");
  };
  for (const auto& [e, key] : matched) {
    const TensorEntry& stored = f.entry(key);
    if (!(stored.shape == e->shape()))
      throw shape_error(str(what, ": ", describe(*e, key), " has shape ", stored.shape, " in '",
                            f.path(), "' but ", e->shape(), " in the module"));
    const bool ok = e->is_index() ? (stored.dtype == DType::I64 || stored.dtype == DType::I32)
                                  : is_floating(stored.dtype);
    if (!ok)
      throw io_error(str(what, ": ", describe(*e, key), " is ", dtype_name(stored.dtype), " in '",
                         f.path(), "'; ",
                         e->is_index() ? "an integer buffer loads I64 or I32"
                                       : "a floating-point tensor loads F16, BF16, F32 or F64"));
  }
  // Staged on the module's device (a host -> device copy for cuda modules), then assigned.
  std::vector<Tensor<T, D>> values;
  std::vector<Tensor<std::int64_t, D>> indices;
  for (const auto& [e, key] : matched) {
    if (e->is_index())
      indices.push_back(f.template tensor<std::int64_t>(key).template to<D>());
    else
      values.push_back(f.template tensor<T>(key).template to<D>());
  }
  // Copies into the existing storage: Vars keep their identity, so an optimizer built before
  // the load trains the loaded values.
  std::size_t v = 0, i = 0;
  for (const auto& [e, key] : matched) {
    if (e->is_index())
      e->index.assign(indices[i++]);
    else
      e->value.assign(values[v++]);
  }
  masks.commit();
  ParameterWalk<T, D> walk;
  net.module_ref().visit("", walk);
  after_load(walk, used);
  return result;
}

}  // namespace detail

// Adds the module's state_dict to `w`, each key prefixed by key_prefix ("model." in a
// checkpoint), in the module's dtype (float -> F32, double -> F64, int64 buffers -> I64).
// Tensors of cuda modules are copied to the host.
template <nn::Layer M>
void add_state_dict(SafeTensorsWriter& w, const M& net, const std::string& key_prefix = "") {
  for (const auto& e : detail::state_entries(net)) {
    if (e.is_index())
      w.add(key_prefix + e.name, e.index.template to<cpu>());
    else
      w.add(key_prefix + e.name, e.value.template to<cpu>());
  }
}

// Loads the module's state_dict from the file's keys under key_prefix (keys outside it are
// ignored), in place; see LoadOptions and LoadResult. Missing/unexpected keys (strict) or a
// dtype that does not fit: io_error; a shape mismatch: shape_error naming the key and both
// shapes. On any error the module is unchanged.
template <nn::Layer M>
LoadResult load_state_dict(M& net, const SafeTensorsFile& f, LoadOptions options = {},
                           const std::string& key_prefix = "") {
  return detail::load_into(net, f, options, key_prefix, "et::io::load_state_dict");
}

}  // namespace etna::io
