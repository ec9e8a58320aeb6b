// Encodes TensorBoard's protos with the field numbers of tensorflow's event.proto and
// summary.proto (Event, Summary.Value, HistogramProto, Summary.Image, TensorProto,
// SummaryMetadata) and of the hparams plugin's plugin_data.proto / api.proto.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "etna/log/histogram.hpp"
#include "etna/log/protobuf.hpp"

namespace etna::logging {

// A hyperparameter's value as the hparams plugin types it: FLOAT64, STRING or BOOL.
using HParamValue = std::variant<double, std::string, bool>;

namespace event {
using protobuf::Message;

// Event{wall_time = 1, step = 2, file_version = 3}: the record every event file starts with.
inline std::string file_version(double wall_time) {
  return Message().float64(1, wall_time).bytes(3, "brain.Event:2").release();
}

// Event{wall_time = 1, step = 2, summary = 5 (Summary{repeated Value value = 1})}.
inline std::string summary(double wall_time, std::int64_t step, const Message& value) {
  Message summary;
  summary.message(1, value);
  return Message().float64(1, wall_time).varint(2, step).message(5, summary).release();
}

// SummaryMetadata{plugin_data = 1 (PluginData{plugin_name = 1, content = 2})}.
inline Message plugin_metadata(const std::string& plugin_name, const std::string& content) {
  Message plugin;
  plugin.bytes(1, plugin_name);
  if (!content.empty()) plugin.bytes(2, content);
  return std::move(Message().message(1, plugin));
}

// Summary.Value{tag = 1, simple_value = 2}: what TensorBoard's SCALARS tab reads.
inline Message scalar_value(const std::string& tag, float value) {
  return std::move(Message().bytes(1, tag).float32(2, value));
}

// Summary.Value{tag = 1, histo = 5}; HistogramProto{min 1, max 2, num 3, sum 4, sum_squares 5,
// bucket_limit 6, bucket 7}, the repeated doubles packed.
inline Message histogram_value(const std::string& tag, const Histogram& h) {
  Message histo;
  histo.float64(1, h.min).float64(2, h.max).float64(3, h.num).float64(4, h.sum);
  histo.float64(5, h.sum_squares).packed_float64(6, h.bucket_limit).packed_float64(7, h.bucket);
  return std::move(Message().bytes(1, tag).message(5, histo));
}

// Summary.Value{tag = 1, image = 4}; Summary.Image{height 1, width 2, colorspace 3 (the number
// of channels), encoded_image_string 4}.
inline Message image_value(const std::string& tag, int height, int width, int channels,
                           const std::string& png) {
  Message image;
  image.varint(1, height).varint(2, width).varint(3, channels).bytes(4, png);
  return std::move(Message().bytes(1, tag).message(4, image));
}

// PyTorch's text summary: Summary.Value{tag = "<tag>/text_summary", metadata = 9 (plugin "text",
// content TextPluginData{version 0}, which encodes to nothing), tensor = 8 (TensorProto{dtype = 1:
// DT_STRING = 7, tensor_shape = 2 (TensorShapeProto{dim = 2 {size = 1: 1}}), string_val = 8})}.
inline Message text_value(const std::string& tag, const std::string& text) {
  Message dim, shape, tensor;
  dim.varint(1, 1);
  shape.message(2, dim);
  tensor.varint(1, 7).message(2, shape).bytes(8, text);
  return std::move(Message()
                       .bytes(1, tag + "/text_summary")
                       .message(9, plugin_metadata("text", ""))
                       .message(8, tensor));
}

// Summary.Value{tag = 1, metadata = 9} with no value: how the hparams plugin stores its protos.
inline Message metadata_value(const std::string& tag, const std::string& plugin_name,
                              const std::string& content) {
  return std::move(Message().bytes(1, tag).message(9, plugin_metadata(plugin_name, content)));
}

// ---- hparams plugin (tensorboard/plugins/hparams) ----------------------------------------
namespace hparams {
inline constexpr const char* plugin_name = "hparams";
inline constexpr const char* experiment_tag = "_hparams_/experiment";
inline constexpr const char* session_start_tag = "_hparams_/session_start_info";
inline constexpr const char* session_end_tag = "_hparams_/session_end_info";
enum DataType { data_type_string = 1, data_type_bool = 2, data_type_float64 = 3 };

inline DataType data_type(const HParamValue& v) {
  if (std::holds_alternative<double>(v)) return data_type_float64;
  return std::holds_alternative<std::string>(v) ? data_type_string : data_type_bool;
}

// google.protobuf.Value{number_value = 2, string_value = 3, bool_value = 4}.
inline Message value(const HParamValue& v) {
  Message m;
  if (const double* d = std::get_if<double>(&v))
    m.float64(2, *d);
  else if (const std::string* s = std::get_if<std::string>(&v))
    m.bytes(3, *s);
  else
    m.boolean(4, std::get<bool>(v));
  return m;
}

// HParamsPluginData{version = 1 (0, so omitted), experiment = 2 | session_start_info = 3 |
// session_end_info = 4}.
inline std::string plugin_data(int field, const Message& data) {
  return Message().message(field, data).release();
}

// Experiment{hparam_infos = 4 (HParamInfo{name 1, type 4}), metric_infos = 5 (MetricInfo{name =
// 1 (MetricName{tag = 2})})}.
inline std::string experiment(const std::map<std::string, HParamValue>& hparams,
                              const std::map<std::string, double>& metrics) {
  Message exp;
  for (const auto& [name, v] : hparams) {
    Message info;
    info.bytes(1, name).varint(4, data_type(v));
    exp.message(4, info);
  }
  for (const auto& [name, v] : metrics) {
    Message metric_name, info;
    metric_name.bytes(2, name);
    info.message(1, metric_name);
    exp.message(5, info);
  }
  return plugin_data(2, exp);
}

// SessionStartInfo{hparams = 1: map<string, Value>, each entry a message {key 1, value 2}}.
inline std::string session_start(const std::map<std::string, HParamValue>& hparams) {
  Message start;
  for (const auto& [name, v] : hparams) {
    Message entry;
    entry.bytes(1, name).message(2, value(v));
    start.message(1, entry);
  }
  return plugin_data(3, start);
}

// SessionEndInfo{status = 1: STATUS_SUCCESS = 1}.
inline std::string session_end() { return plugin_data(4, std::move(Message().varint(1, 1))); }
}  // namespace hparams

}  // namespace event
}  // namespace etna::logging
