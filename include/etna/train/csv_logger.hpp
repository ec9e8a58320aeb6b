// CSVLogger: one CSV row per epoch ("epoch,loss,accuracy,val_loss,val_accuracy,lr"), flushed
// as it is written so that a crashed or running job's history can be read.
#pragma once

#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/train/callback.hpp"

namespace etna::train {

// The columns are "epoch" (0-based, as Keras) and the keys of the first epoch's logs in
// canonical order (ordered_keys: loss, accuracy, other metrics, their val_ twins, lr); a value
// missing from a later epoch's logs is an empty field. Values are written in the shortest form
// that reads back to the same double. append = true keeps an existing file and, if it has a
// header, that header's columns.
struct CSVLogger {
  std::string path = {};
  bool append = false;
  char separator = ',';

  // ---- state ----
  std::vector<std::string> columns = {};     // after "epoch"; fixed by the first row
  std::shared_ptr<std::ofstream> file = {};  // shared, so a copied logger writes one file

  void on_train_begin() {
    columns.clear();
    if (append) {
      std::ifstream in(path);
      std::string header;
      if (in && std::getline(in, header) && !header.empty()) {
        std::stringstream fields(header);
        std::string field;
        std::getline(fields, field, separator);  // "epoch"
        while (std::getline(fields, field, separator)) columns.push_back(field);
      }
    }
    file = std::make_shared<std::ofstream>(path, append ? std::ios::app : std::ios::trunc);
    if (!*file) throw io_error("CSVLogger: cannot open '" + path + "' for writing");
  }

  void on_epoch_end(int epoch, const Logs& logs) {
    if (!file) on_train_begin();
    if (columns.empty()) {
      columns = ordered_keys(logs);
      *file << "epoch";
      for (const auto& c : columns) *file << separator << c;
      *file << '\n';
    }
    *file << epoch;
    for (const auto& c : columns) {
      *file << separator;
      if (auto it = logs.find(c); it != logs.end()) *file << shortest(it->second);
    }
    *file << '\n' << std::flush;
    if (!*file) throw io_error("CSVLogger: writing '" + path + "' failed");
  }

  void on_train_end() { file.reset(); }

  static std::string shortest(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
  }
};

}  // namespace etna::train
