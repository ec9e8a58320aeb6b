// et::io::save / et::io::load: a module's state_dict as one safetensors file, with PyTorch's
// names and layouts, so `safetensors.torch.save_file(model.state_dict(), path)` loads into the
// equivalent etna network and etna's files load into torch with load_state_dict(strict=True).
#pragma once

#include <map>
#include <string>

#include "etna/core/error.hpp"
#include "etna/io/safetensors_reader.hpp"
#include "etna/io/safetensors_writer.hpp"
#include "etna/io/state_dict.hpp"
#include "etna/nn/module.hpp"

namespace etna::io {

// The version of the state_dict file layout save() writes ("etna.format_version"); load()
// reads files without it (PyTorch's) and refuses newer ones.
inline constexpr int state_dict_format_version = 1;

// Writes the module's state_dict (parameters, float buffers such as running_mean/var, int64
// buffers such as num_batches_tracked; tied tensors once) in the module's dtype (float -> F32,
// double -> F64), atomically: an interrupted save leaves any previous file at `path` intact.
// The metadata gets "format" = "pt" (the tensors are PyTorch's layout; the user's metadata may
// override it), "etna.format" = "state_dict" and "etna.format_version"; the user's keys starting
// with "etna." are reserved (value_error). Cuda modules are copied to the host.
template <nn::Layer M>
void save(const M& net, const std::string& path,
          const std::map<std::string, std::string>& metadata = {}) {
  std::map<std::string, std::string> all = {{"format", "pt"}};
  for (const auto& [key, value] : metadata) {
    if (key.starts_with("etna."))
      throw value_error(etna::detail::str("et::io::save: '", path, "': metadata key '", key,
                                          "' is reserved (keys starting with 'etna.' are "
                                          "etna's own)"));
    all[key] = value;
  }
  all["etna.format"] = "state_dict";
  all["etna.format_version"] = std::to_string(state_dict_format_version);
  SafeTensorsWriter w;
  for (const auto& [key, value] : all) w.set_metadata(key, value);
  add_state_dict(w, net);
  w.save(path);
}

// Loads the file's state_dict into the module in place (see LoadOptions, LoadResult and
// load_state_dict): a parameter keeps its storage, so an optimizer holding it trains the loaded
// values. Floating-point tensors load F16, BF16, F32 or F64 entries (converted to the module's
// dtype), int64 buffers I64 or I32. Everything is checked (the file, keys, shapes, dtypes,
// values) before the module changes: on any error it is unchanged. A corrupt file, strict key
// mismatches and dtypes that do not fit are io_errors, a shape mismatch is a shape_error
// naming the key and both shapes. Works for cuda modules (values are copied host -> device).
template <nn::Layer M>
LoadResult load(M& net, const std::string& path, LoadOptions options = {}) {
  const SafeTensorsFile f(path);
  const auto& meta = f.metadata();
  if (auto it = meta.find("etna.format"); it != meta.end() && it->second == "state_dict") {
    const auto version = meta.find("etna.format_version");
    if (version == meta.end() || version->second != std::to_string(state_dict_format_version))
      throw io_error(etna::detail::str(
          "et::io::load: '", path, "': state_dict format version ",
          version == meta.end() ? std::string("(none)") : version->second,
          " is not one this etna reads (", state_dict_format_version, "); a newer etna wrote it?"));
  }
  return detail::load_into(net, f, options, "", "et::io::load");
}

}  // namespace etna::io
