// CSV files as typed tables: read_csv (header row, quoted fields, inferred or explicit column
// types), to_tensor over chosen columns, and CsvDataset (feature columns -> row, target column).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "etna/core/error.hpp"
#include "etna/core/factory.hpp"
#include "etna/core/tensor.hpp"
#include "etna/data/dataset.hpp"
#include "etna/data/tensor_dataset.hpp"

namespace etna::data {

// A column's type. `infer` picks integer if every field is a whole number, floating if every
// field is a number or empty (empty means missing: NaN), string otherwise (as pandas does).
enum class ColumnType { infer, floating, integer, string };

namespace detail {
struct CsvBuilder;
}

struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  bool header = true;  // without one, columns are named "0", "1", ...
  // Explicit types by column name; the other columns are inferred.
  std::map<std::string, ColumnType, std::less<>> types = {};
};

// One typed column: exactly one of its value vectors is filled, the one of its type.
class CsvColumn {
 public:
  const std::string& name() const { return name_; }
  ColumnType type() const { return type_; }
  bool is_numeric() const { return type_ != ColumnType::string; }
  std::size_t size() const {
    return type_ == ColumnType::floating  ? floats_.size()
           : type_ == ColumnType::integer ? ints_.size()
                                          : strings_.size();
  }

  const std::vector<double>& floats() const {
    expect(ColumnType::floating);
    return floats_;
  }
  const std::vector<std::int64_t>& ints() const {
    expect(ColumnType::integer);
    return ints_;
  }
  const std::vector<std::string>& strings() const {
    expect(ColumnType::string);
    return strings_;
  }
  // Row i of a numeric column as a double.
  double number(std::size_t i) const {
    if (type_ == ColumnType::string)
      throw value_error(
          etna::detail::str("CsvColumn: column '", name_, "' holds strings, not numbers"));
    return type_ == ColumnType::floating ? floats_.at(i) : static_cast<double>(ints_.at(i));
  }

 private:
  friend struct detail::CsvBuilder;
  static const char* type_name(ColumnType t) {
    return t == ColumnType::floating ? "floating" : t == ColumnType::integer ? "integer" : "string";
  }
  void expect(ColumnType t) const {
    if (type_ != t)
      throw value_error(etna::detail::str("CsvColumn: column '", name_, "' is ", type_name(type_),
                                          ", not ", type_name(t)));
  }

  std::string name_;
  ColumnType type_ = ColumnType::string;
  std::vector<double> floats_;
  std::vector<std::int64_t> ints_;
  std::vector<std::string> strings_;
};

// A parsed CSV file: named, typed columns of equal length.
class CsvTable {
 public:
  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return columns_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  const std::filesystem::path& path() const { return path_; }
  bool has_column(std::string_view name) const {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
  }
  const CsvColumn& column(std::size_t i) const {
    if (i >= columns_.size())
      throw index_error(etna::detail::str("CsvTable: column index ", i, " is out of range for ",
                                          columns_.size(), " columns"));
    return columns_[i];
  }
  const CsvColumn& column(std::string_view name) const {
    const auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end())
      throw value_error(etna::detail::str("CsvTable: no column '", name, "' in ", path_.string(),
                                          " (columns: ", joined_names(), ")"));
    return columns_[static_cast<std::size_t>(it - names_.begin())];
  }
  std::string joined_names() const {
    std::string s;
    for (const auto& n : names_) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

 private:
  friend struct detail::CsvBuilder;
  std::filesystem::path path_;
  std::vector<std::string> names_;
  std::vector<CsvColumn> columns_;
  std::size_t rows_ = 0;
};

namespace detail {

// A record: its fields as written (quotes removed) and the line it starts on, for messages.
struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  // 1-based line the record starts on
};

// RFC 4180 records: fields split at the delimiter, quoted fields may hold delimiters, newlines
// and doubled quotes; CRLF ends a line like LF; blank lines are skipped.
inline std::vector<CsvRecord> split_csv(const std::string& text, const CsvOptions& opt,
                                        const std::string& file) {
  std::vector<CsvRecord> records;
  std::size_t pos = 0, line = 1;
  const std::size_t n = text.size();
  auto at_line_end = [&](std::size_t p) {
    return p >= n || text[p] == '\n' || (text[p] == '\r' && (p + 1 >= n || text[p + 1] == '\n'));
  };
  while (pos < n) {
    if (at_line_end(pos)) {  // blank line
      pos += text[pos] == '\r' ? 2 : 1;
      ++line;
      continue;
    }
    CsvRecord rec;
    rec.line = line;
    while (true) {
      std::string field;
      if (text[pos] == opt.quote) {
        const std::size_t open_line = line;
        ++pos;
        while (true) {
          if (pos >= n)
            throw io_error(etna::detail::str("read_csv: ", file, " line ", open_line, ", field ",
                                             rec.fields.size() + 1, ": quoted field never closed"));
          if (text[pos] == opt.quote) {
            if (pos + 1 < n && text[pos + 1] == opt.quote) {
              field += opt.quote;
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (text[pos] == '\n') ++line;
          field += text[pos++];
        }
        if (!at_line_end(pos) && text[pos] != opt.delimiter)
          throw io_error(etna::detail::str("read_csv: ", file, " line ", line, ", field ",
                                           rec.fields.size() + 1,
                                           ": unexpected character after a closing quote"));
      } else {
        const std::size_t start = pos;
        while (!at_line_end(pos) && text[pos] != opt.delimiter) ++pos;
        field.assign(text, start, pos - start);
      }
      rec.fields.push_back(std::move(field));
      if (at_line_end(pos)) break;
      ++pos;  // the delimiter; a line ending right after it gives an empty last field
      if (at_line_end(pos)) {
        rec.fields.emplace_back();
        break;
      }
    }
    if (pos < n) {
      pos += text[pos] == '\r' ? 2 : 1;
      ++line;
    }
    records.push_back(std::move(rec));
  }
  return records;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

// Builds typed columns from raw records; a friend of the table types, nothing more.
struct CsvBuilder {
  static CsvTable build(const std::filesystem::path& path, std::vector<std::string> names,
                        const std::vector<detail::CsvRecord>& records, const CsvOptions& opt) {
    const std::string file = path.string();
    CsvTable table;
    table.path_ = path;
    table.rows_ = records.size();
    for (const auto& [name, type] : opt.types)
      if (std::find(names.begin(), names.end(), name) == names.end())
        throw value_error(etna::detail::str("read_csv: a type is given for column '", name,
                                            "', which ", file, " does not have"));
    for (std::size_t c = 0; c < names.size(); ++c) {
      CsvColumn col;
      col.name_ = names[c];
      const auto it = opt.types.find(names[c]);
      const ColumnType wanted = it == opt.types.end() ? ColumnType::infer : it->second;
      col.type_ = wanted == ColumnType::infer ? infer(records, c) : wanted;
      auto bad = [&](const detail::CsvRecord& r, const char* what) {
        return io_error(etna::detail::str("read_csv: ", file, " line ", r.line, ", column '",
                                          names[c], "' (field ", c + 1, "): cannot parse '",
                                          r.fields[c], "' as ", what));
      };
      for (const auto& r : records) {
        const std::string& f = r.fields[c];
        if (col.type_ == ColumnType::integer) {
          std::int64_t v = 0;
          if (!detail::parse_number(f, v)) throw bad(r, "an integer (int64)");
          col.ints_.push_back(v);
        } else if (col.type_ == ColumnType::floating) {
          double v = std::numeric_limits<double>::quiet_NaN();
          if (!detail::trim(f).empty() && !detail::parse_number(f, v)) throw bad(r, "a number");
          col.floats_.push_back(v);
        } else {
          col.strings_.push_back(f);
        }
      }
      table.columns_.push_back(std::move(col));
    }
    table.names_ = std::move(names);
    return table;
  }

 private:
  static ColumnType infer(const std::vector<detail::CsvRecord>& records, std::size_t c) {
    bool all_int = !records.empty(), all_number = true;
    for (const auto& r : records) {
      const std::string& f = r.fields[c];
      std::int64_t i = 0;
      double d = 0;
      if (detail::parse_number(f, i)) continue;
      all_int = false;
      if (detail::trim(f).empty() || detail::parse_number(f, d)) continue;
      all_number = false;
      break;
    }
    return all_int ? ColumnType::integer : all_number ? ColumnType::floating : ColumnType::string;
  }
};

}  // namespace detail

// Reads a CSV file. Every record must have as many fields as the header; a wrong count, an
// unclosed quote or a field that does not parse as its column's explicit type is an io_error
// naming the file, the line and the column.
inline CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    throw io_error(
        etna::detail::str("read_csv: ", file,
                          std::filesystem::exists(path, ec) ? ": cannot open" : ": no such file"));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = std::move(buffer).str();
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // UTF-8 BOM

  auto records = detail::split_csv(text, options, file);
  std::vector<std::string> names;
  if (options.header) {
    if (records.empty())
      throw io_error(etna::detail::str("read_csv: ", file, ": empty file, expected a header row"));
    for (auto& f : records.front().fields) names.push_back(std::string(detail::trim(f)));
    for (std::size_t i = 0; i < names.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (names[i] == names[j])
          throw io_error(etna::detail::str("read_csv: ", file, " line ", records.front().line,
                                           ": column name '", names[i], "' appears twice"));
    records.erase(records.begin());
  } else if (!records.empty()) {
    for (std::size_t i = 0; i < records.front().fields.size(); ++i)
      names.push_back(std::to_string(i));
  }
  for (const auto& r : records)
    if (r.fields.size() != names.size())
      throw io_error(etna::detail::str(
          "read_csv: ", file, " line ", r.line, ": expected ", names.size(), " fields",
          options.header ? " (as in the header)" : "", ", found ", r.fields.size()));
  return detail::CsvBuilder::build(path, std::move(names), records, options);
}

// Columns side by side as a [rows, columns.size()] tensor (all columns when the list is empty).
// Integer columns convert to any numeric T; floating columns only to float or double.
template <Scalar T = float>
requires(!std::is_same_v<T, bool>) Tensor<T> to_tensor(
    const CsvTable& table, const std::vector<std::string>& columns = {}) {
  const std::vector<std::string>& names = columns.empty() ? table.names() : columns;
  const auto rows = static_cast<std::int64_t>(table.rows());
  const auto cols = static_cast<std::int64_t>(names.size());
  auto out = empty<T>({rows, cols});
  for (std::int64_t c = 0; c < cols; ++c) {
    const CsvColumn& col = table.column(names[static_cast<std::size_t>(c)]);
    if (col.type() == ColumnType::string)
      throw value_error(etna::detail::str("to_tensor: column '", col.name(), "' of ",
                                          table.path().string(), " holds strings, not numbers"));
    if (col.type() == ColumnType::floating && !FloatingScalar<T>)
      throw value_error(etna::detail::str("to_tensor<", dtype_name<T>(), ">: column '", col.name(),
                                          "' holds floating-point values; use float or double"));
    T* dst = out.data() + c;
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto i = static_cast<std::size_t>(r);
      dst[r * cols] = col.type() == ColumnType::integer ? static_cast<T>(col.ints()[i])
                                                        : static_cast<T>(col.floats()[i]);
    }
  }
  return out;
}

// Rows of a CSV table as examples: the feature columns as a float tensor [features], the target
// column as Target. String targets become class indices in sorted order (see classes()).
template <Scalar Target = std::int64_t>
class CsvDataset {
 public:
  // `features` empty: every column except the target.
  CsvDataset(const CsvTable& table, const std::string& target,
             std::vector<std::string> features = {})
      : inner_(make(table, target, features, classes_)), feature_names_(std::move(features)) {}
  CsvDataset(const std::filesystem::path& path, const std::string& target,
             std::vector<std::string> features = {}, const CsvOptions& options = {})
      : CsvDataset(read_csv(path, options), target, std::move(features)) {}

  std::size_t size() const { return inner_.size(); }
  Example<Tensor<float>, Target> get(std::size_t i) const { return inner_.get(i); }

  const Tensor<float>& features() const { return inner_.data(); }     // [N, F]
  const Tensor<Target>& targets() const { return inner_.targets(); }  // [N]
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  // Class names of a string target, index i naming class i; empty for a numeric target.
  const std::vector<std::string>& classes() const { return classes_; }

 private:
  static TensorDataset<float, Target> make(const CsvTable& table, const std::string& target,
                                           std::vector<std::string>& features,
                                           std::vector<std::string>& classes) {
    const CsvColumn& y = table.column(target);
    if (features.empty())
      for (const auto& n : table.names())
        if (n != target) features.push_back(n);
    for (const auto& n : features)
      if (!table.column(n).is_numeric())
        throw value_error(etna::detail::str("CsvDataset: feature column '", n, "' of ",
                                            table.path().string(),
                                            " holds strings; list the numeric feature columns"));
    Tensor<Target> targets;
    if (y.type() == ColumnType::string) {
      if constexpr (FloatingScalar<Target>) {
        throw value_error(etna::detail::str("CsvDataset: target column '", target,
                                            "' holds strings; use an integer Target for classes"));
      } else {
        classes = y.strings();
        std::sort(classes.begin(), classes.end());
        classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
        targets = empty<Target>({static_cast<std::int64_t>(table.rows())});
        for (std::size_t i = 0; i < table.rows(); ++i)
          targets.data()[i] = static_cast<Target>(
              std::lower_bound(classes.begin(), classes.end(), y.strings()[i]) - classes.begin());
      }
    } else {
      targets = to_tensor<Target>(table, {target}).flatten();
    }
    return TensorDataset<float, Target>(to_tensor<float>(table, features), targets);
  }

  std::vector<std::string> classes_;
  TensorDataset<float, Target> inner_;
  std::vector<std::string> feature_names_;
};

}  // namespace etna::data
