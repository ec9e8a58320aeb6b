// MNIST-format image classification sets: IdxImageDataset (any images/labels IDX pair),
// MNIST and FashionMNIST (files found under a root folder), with torchvision's [0, 1] scaling.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etna/backend/cpu/thread_pool.hpp"
#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"
#include "etna/data/dataset.hpp"
#include "etna/data/idx.hpp"

namespace etna::data {

enum class Split { train, test };

namespace detail {
// byte / 255 as torchvision's ToTensor computes it (a float division), looked up, not divided.
inline const std::array<float, 256>& byte_to_unit() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int b = 0; b < 256; ++b) t[b] = static_cast<float>(b) / 255.0f;
    return t;
  }();
  return table;
}

// root/stem.gz if present, else root/stem; neither is an io_error that says where to get them.
inline std::filesystem::path find_idx_file(std::string_view who, const std::filesystem::path& root,
                                           const std::string& stem, std::string_view hint) {
  std::error_code ec;
  const auto gz = root / (stem + ".gz");
  if (std::filesystem::exists(gz, ec)) return gz;
  const auto plain = root / stem;
  if (std::filesystem::exists(plain, ec)) return plain;
  throw io_error(etna::detail::str(who, ": ", gz.string(), " not found (nor ", plain.string(), ")",
                                   hint.empty() ? "" : "; ", hint));
}
}  // namespace detail

// An images IDX file [N, rows, cols] with its labels IDX file [N], kept as raw bytes in
// memory (shared by copies). get(i) is one allocation and one scaling pass.
class IdxImageDataset {
 public:
  IdxImageDataset(const std::filesystem::path& images_file,
                  const std::filesystem::path& labels_file) {
    IdxArray images = read_idx(images_file, 3);
    IdxArray labels = read_idx(labels_file, 1);
    if (images.dims[0] != labels.dims[0])
      throw io_error(etna::detail::str("IdxImageDataset: ", images_file.string(), " holds ",
                                       images.dims[0], " images but ", labels_file.string(),
                                       " holds ", labels.dims[0], " labels"));
    size_ = static_cast<std::size_t>(images.dims[0]);
    rows_ = images.dims[1];
    cols_ = images.dims[2];
    images_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(images.data));
    labels_ = std::make_shared<const std::vector<std::uint8_t>>(std::move(labels.data));
    labels_file_ = labels_file;
  }
  explicit IdxImageDataset(const std::pair<std::filesystem::path, std::filesystem::path>& files)
      : IdxImageDataset(files.first, files.second) {}

  std::size_t size() const { return size_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }

  // Image i as [1, rows, cols] floats in [0, 1] and its label.
  Example<Tensor<float>, std::int64_t> get(std::size_t i) const {
    if (i >= size_)
      throw index_error(
          etna::detail::str("get: index ", i, " is out of range for a dataset of size ", size_));
    auto image = empty<float>({1, rows_, cols_});
    const std::size_t pixels = static_cast<std::size_t>(rows_ * cols_);
    const std::uint8_t* src = images_->data() + i * pixels;
    const auto& unit = detail::byte_to_unit();
    float* dst = image.data();
    for (std::size_t k = 0; k < pixels; ++k) dst[k] = unit[src[k]];
    return {std::move(image), std::int64_t{(*labels_)[i]}};
  }

  // The whole set at once: [N, 1, rows, cols] floats in [0, 1], and [N] labels.
  Tensor<float> images_as_tensor() const {
    auto all = empty<float>({static_cast<std::int64_t>(size_), 1, rows_, cols_});
    const std::uint8_t* src = images_->data();
    float* dst = all.data();
    const auto& unit = detail::byte_to_unit();
    cpu_backend::parallel_for(0, all.numel(), 1 << 16, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t k = b; k < e; ++k) dst[k] = unit[src[k]];
    });
    return all;
  }
  Tensor<std::int64_t> labels_as_tensor() const {
    auto all = empty<std::int64_t>({static_cast<std::int64_t>(size_)});
    for (std::size_t i = 0; i < size_; ++i) all.data()[i] = (*labels_)[i];
    return all;
  }

  // The bytes as stored: N * rows * cols pixels (row-major) and N labels.
  std::span<const std::uint8_t> raw_images() const { return *images_; }
  std::span<const std::uint8_t> raw_labels() const { return *labels_; }

 protected:
  // Every label must name one of the dataset's classes; a corrupt labels file is caught here.
  void check_labels(std::string_view who, std::size_t num_classes) const {
    for (std::size_t i = 0; i < size_; ++i)
      if ((*labels_)[i] >= num_classes)
        throw io_error(etna::detail::str(who, ": ", labels_file_.string(), ": label ",
                                         unsigned{(*labels_)[i]}, " at index ", i,
                                         " is not a class (there are ", num_classes, ")"));
  }

 private:
  std::size_t size_ = 0;
  std::int64_t rows_ = 0, cols_ = 0;
  std::shared_ptr<const std::vector<std::uint8_t>> images_, labels_;
  std::filesystem::path labels_file_;
};

namespace detail {
// The images and labels files of a split, looked up in that order (so a message about a
// missing root names the images file).
inline std::pair<std::filesystem::path, std::filesystem::path> find_split_files(
    std::string_view who, const std::filesystem::path& root, Split split, std::string_view hint) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  auto images = find_idx_file(who, root, prefix + "-images-idx3-ubyte", hint);
  auto labels = find_idx_file(who, root, prefix + "-labels-idx1-ubyte", hint);
  return {std::move(images), std::move(labels)};
}
}  // namespace detail

// LeCun's handwritten digits: root holds {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].
class MNIST : public IdxImageDataset {
 public:
  explicit MNIST(const std::filesystem::path& root, Split split = Split::train)
      : IdxImageDataset(detail::find_split_files("MNIST", root, split, "")) {
    check_labels("MNIST", classes().size());
  }

  static const std::array<std::string_view, 10>& classes() {
    static constexpr std::array<std::string_view, 10> names{
        "0 - zero", "1 - one", "2 - two",   "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"};
    return names;
  }
};

// Zalando's Fashion-MNIST, same layout as MNIST. The default root is where Debian's
// dataset-fashion-mnist package installs it.
class FashionMNIST : public IdxImageDataset {
 public:
  static constexpr std::string_view default_root = "/usr/share/datasets/fashion-mnist";

  explicit FashionMNIST(const std::filesystem::path& root = default_root,
                        Split split = Split::train)
      : IdxImageDataset(find(root, split)) {
    check_labels("FashionMNIST", classes().size());
  }
  explicit FashionMNIST(Split split) : FashionMNIST(default_root, split) {}

  static const std::array<std::string_view, 10>& classes() {
    static constexpr std::array<std::string_view, 10> names{
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
  }

 private:
  static std::pair<std::filesystem::path, std::filesystem::path> find(
      const std::filesystem::path& root, Split split) {
    // Compared with trailing separators dropped: ".../fashion-mnist/" is the default too.
    const bool is_default = (root / "").lexically_normal() ==
                            (std::filesystem::path(default_root) / "").lexically_normal();
    return detail::find_split_files(
        "FashionMNIST", root, split,
        is_default ? "install the Debian package dataset-fashion-mnist "
                     "(apt install dataset-fashion-mnist) or pass the folder holding the files"
                   : "");
  }
};

}  // namespace etna::data
