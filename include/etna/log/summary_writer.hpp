// SummaryWriter: writes TensorBoard event files natively, with torch.utils.tensorboard's method
// names (add_scalar, add_scalars, add_histogram, add_image, add_text, add_hparams).
#pragma once

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/tensor.hpp"
#include "etna/log/event.hpp"
#include "etna/log/histogram.hpp"
#include "etna/log/png.hpp"
#include "etna/log/record_writer.hpp"

namespace etna::logging {

struct SummaryWriterOptions {
  double flush_secs = 120;     // buffered events are written at least this often (<= 0: no timer)
  std::size_t max_queue = 10;  // ...and whenever this many are pending
  std::string filename_suffix = {};  // appended to the event file name, as PyTorch
};

namespace detail {
inline double unix_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
inline std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}
// PyTorch's default log_dir: runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname>, local time.
inline std::string default_log_dir() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b%d_%H-%M-%S", &local);
  return (std::filesystem::path("runs") / (std::string(stamp) + "_" + hostname())).string();
}
// Python's str(time.time()): the shortest decimal that reads back to the same double.
inline std::string shortest_decimal(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// All elements as doubles in logical order, copying a device tensor to the host first.
template <class T, class D>
std::vector<double> host_values(const Tensor<T, D>& t) {
  if constexpr (!std::is_same_v<D, cpu>) {
    return host_values(t.template to<cpu>());
  } else {
    std::vector<double> out;
    out.reserve(static_cast<std::size_t>(t.numel()));
    for (const T& v : t) out.push_back(static_cast<double>(v));
    return out;
  }
}

// A pixel byte as PyTorch's add_image makes it: floats in [0, 1] are scaled by 255, clipped and
// truncated; etna has no uint8 tensors, so integer tensors are taken as [0, 255] and clipped.
template <class T>
std::uint8_t to_pixel(double v) {
  if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, bool>) v *= 255.0;
  if (!(v > 0)) return 0;  // also NaN
  return v >= 255 ? 255 : static_cast<std::uint8_t>(v);
}
}  // namespace detail

// One event file per writer: <log_dir>/events.out.tfevents.<unix seconds>.<hostname>[suffix],
// with ".<pid>.<counter>" added before the suffix only when that name is already taken. The
// first record is Event{wall_time, file_version "brain.Event:2"}. Records are buffered and
// written when max_queue are pending, every flush_secs (a background thread), on flush(),
// close() and destruction. Every method may be called from several threads. A write error from
// the background flush is rethrown by the next call.
class SummaryWriter {
 public:
  using HParamValue = logging::HParamValue;

  // log_dir "" is PyTorch's default runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname>.
  explicit SummaryWriter(std::string log_dir = "", SummaryWriterOptions options = {})
      : log_dir_(log_dir.empty() ? detail::default_log_dir() : std::move(log_dir)),
        options_(std::move(options)) {
    std::error_code ec;
    std::filesystem::create_directories(log_dir_, ec);
    if (ec || !std::filesystem::is_directory(log_dir_))
      throw io_error("SummaryWriter: cannot create directory '" + log_dir_ +
                     "': " + (ec ? ec.message() : "a file of that name exists"));
    open_event_file();
    records_->write(event::file_version(detail::unix_time_now()));
    records_->flush();  // the file is a valid, readable event file from the start
    if (options_.flush_secs > 0) flusher_ = std::thread([this] { flush_periodically(); });
  }
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;
  ~SummaryWriter() {
    try {
      close();
    } catch (...) {  // destructors cannot throw; call close() to see a final write error
    }
  }

  const std::string& log_dir() const { return log_dir_; }
  const std::string& file_path() const { return file_path_; }

  // TensorBoard stores scalars as float (Summary.Value.simple_value), as PyTorch does.
  void add_scalar(const std::string& tag, double value, std::int64_t global_step = 0,
                  std::optional<double> walltime = std::nullopt) {
    write(event::scalar_value(tag, static_cast<float>(value)), global_step, walltime, "add_scalar");
  }

  // One scalar per key, each written by a child writer in <log_dir>/<main_tag>_<key>/ (a '/' in
  // main_tag becomes '_') under the tag main_tag, so TensorBoard overlays them in one chart.
  void add_scalars(const std::string& main_tag, const std::map<std::string, double>& values,
                   std::int64_t global_step = 0, std::optional<double> walltime = std::nullopt) {
    const double time = walltime.value_or(detail::unix_time_now());
    std::string dir_tag = main_tag;
    for (char& c : dir_tag)
      if (c == '/') c = '_';
    for (const auto& [key, value] : values) {
      SummaryWriter* child = nullptr;
      {
        std::lock_guard lock(mutex_);
        check_open("add_scalars");
        auto& slot = children_[dir_tag + "_" + key];
        if (!slot)
          slot = std::make_unique<SummaryWriter>(
              (std::filesystem::path(log_dir_) / (dir_tag + "_" + key)).string(), options_);
        child = slot.get();
      }
      // children are only destroyed by the destructor, so the pointer outlives this call
      child->add_scalar(main_tag, value, global_step, time);
    }
  }

  // Histogram of all values (any element type, any device). bins: "tensorflow" (PyTorch's
  // default: TensorFlow's exponential buckets, trimmed to the values' support as PyTorch does)
  // "auto" (numpy's rule) or a number of equal-width bins, e.g. "30".
  template <class T, class D>
  void add_histogram(const std::string& tag, const Tensor<T, D>& values,
                     std::int64_t global_step = 0, const std::string& bins = "tensorflow") {
    const std::vector<double> host = detail::host_values(values);
    write(event::histogram_value(tag, make_histogram(host, bins)), global_step, std::nullopt,
          "add_histogram");
  }

  // image: floats in [0, 1] (scaled by 255) or integers in [0, 255]; dataformats "CHW", "HWC"
  // or "HW"; 1 (grey), 3 (RGB) or 4 (RGBA) channels. Stored PNG-encoded.
  template <class T, class D>
  void add_image(const std::string& tag, const Tensor<T, D>& image, std::int64_t global_step = 0,
                 const std::string& dataformats = "CHW") {
    if (dataformats != "CHW" && dataformats != "HWC" && dataformats != "HW")
      throw value_error("add_image: dataformats must be \"CHW\", \"HWC\" or \"HW\", got \"" +
                        dataformats + "\"");
    if (image.dim() != static_cast<int>(dataformats.size()))
      throw shape_error(etna::detail::str("add_image: dataformats \"", dataformats, "\" needs a ",
                                          dataformats.size(), "-d tensor, got shape ",
                                          image.shape()));
    const auto& s = image.shape();
    const bool chw = dataformats == "CHW";
    const std::int64_t h = s[chw ? 1 : 0], w = s[chw ? 2 : 1];
    const std::int64_t c = dataformats == "HW" ? 1 : s[chw ? 0 : 2];
    if (c != 1 && c != 3 && c != 4)
      throw shape_error(etna::detail::str("add_image: 1, 3 or 4 channels expected, got shape ", s,
                                          " (", dataformats, ")"));
    const std::vector<double> v = detail::host_values(image);
    std::vector<std::uint8_t> pixels(v.size());
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        for (std::int64_t k = 0; k < c; ++k) {
          const std::int64_t from = chw ? (k * h + y) * w + x : (y * w + x) * c + k;
          pixels[(y * w + x) * c + k] = detail::to_pixel<T>(v[from]);
        }
    const std::string png =
        encode_png(pixels.data(), static_cast<int>(h), static_cast<int>(w), static_cast<int>(c));
    write(
        event::image_value(tag, static_cast<int>(h), static_cast<int>(w), static_cast<int>(c), png),
        global_step, std::nullopt, "add_image");
  }

  // As PyTorch: tag "<tag>/text_summary", a string tensor with the "text" plugin's metadata.
  void add_text(const std::string& tag, const std::string& text, std::int64_t global_step = 0) {
    write(event::text_value(tag, text), global_step, std::nullopt, "add_text");
  }

  // As PyTorch's add_hparams: a child run <log_dir>/<run_name> (default: the current unix time,
  // as Python's str(time.time())) gets the hparams plugin's experiment, session-start and
  // session-end summaries and one scalar per metric, all at step 0. Numbers are typed FLOAT64,
  // so write {"batch_size", 32.0} (an int does not convert to this variant).
  void add_hparams(const std::map<std::string, HParamValue>& hparams,
                   const std::map<std::string, double>& metrics, const std::string& run_name = "") {
    {
      std::lock_guard lock(mutex_);
      check_open("add_hparams");
    }
    const std::string run =
        run_name.empty() ? detail::shortest_decimal(detail::unix_time_now()) : run_name;
    SummaryWriter child((std::filesystem::path(log_dir_) / run).string(), options_);
    namespace hp = event::hparams;
    child.write(event::metadata_value(hp::experiment_tag, hp::plugin_name,
                                      hp::experiment(hparams, metrics)),
                0, std::nullopt, "add_hparams");
    child.write(
        event::metadata_value(hp::session_start_tag, hp::plugin_name, hp::session_start(hparams)),
        0, std::nullopt, "add_hparams");
    child.write(event::metadata_value(hp::session_end_tag, hp::plugin_name, hp::session_end()), 0,
                std::nullopt, "add_hparams");
    for (const auto& [name, value] : metrics) child.add_scalar(name, value, 0);
    child.close();
  }

  // Writes everything pending (this writer's and its add_scalars children's) to the files.
  void flush() {
    std::lock_guard lock(mutex_);
    rethrow_deferred();
    if (closed_) return;
    records_->flush();
    for (auto& [name, child] : children_) child->flush();
  }

  // Flushes and closes the file(s); idempotent. Later add_* calls throw value_error.
  void close() {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
    }
    wake_.notify_all();
    if (flusher_.joinable()) flusher_.join();
    std::lock_guard lock(mutex_);
    for (auto& [name, child] : children_) child->close();
    records_->close();
    rethrow_deferred();
  }

 private:
  void open_event_file() {
    const auto seconds = static_cast<long long>(detail::unix_time_now());
    char stamp[24];
    std::snprintf(stamp, sizeof stamp, "%010lld", seconds);
    const std::string base =
        (std::filesystem::path(log_dir_) /
         (std::string("events.out.tfevents.") + stamp + "." + detail::hostname()))
            .string();
    static std::atomic<long long> counter{0};
    file_path_ = base + options_.filename_suffix;
    while (!(records_ = RecordWriter::create_new(file_path_)))
      file_path_ = base + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) +
                   options_.filename_suffix;
  }

  void check_open(const char* what) const {
    if (closed_)
      throw value_error(std::string("SummaryWriter: ") + what + " on a writer that is closed ('" +
                        file_path_ + "')");
  }
  void rethrow_deferred() {
    if (deferred_error_) std::rethrow_exception(std::exchange(deferred_error_, nullptr));
  }

  void write(const protobuf::Message& value, std::int64_t step, std::optional<double> walltime,
             const char* what) {
    std::string record = event::summary(walltime.value_or(detail::unix_time_now()), step, value);
    std::lock_guard lock(mutex_);
    check_open(what);
    rethrow_deferred();
    records_->write(record);
    if (records_->pending() >= options_.max_queue) records_->flush();
  }

  // The timer flush: wakes every flush_secs (or at close) and writes what is pending.
  void flush_periodically() {
    std::unique_lock lock(mutex_);
    const auto period = std::chrono::duration<double>(options_.flush_secs);
    while (!closed_) {
      if (wake_.wait_for(lock, period, [this] { return closed_; })) break;
      try {
        records_->flush();
      } catch (...) {
        deferred_error_ = std::current_exception();
      }
    }
  }

  std::string log_dir_;
  std::string file_path_;
  SummaryWriterOptions options_;
  std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::unique_ptr<RecordWriter> records_;
  std::map<std::string, std::unique_ptr<SummaryWriter>> children_;
  std::exception_ptr deferred_error_;
  bool closed_ = false;
  std::thread flusher_;
};

}  // namespace etna::logging
