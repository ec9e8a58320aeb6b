// CSV reading (etna/data/csv.hpp): type inference and explicit types, quoting, delimiters,
// to_tensor, CsvDataset with numeric and string targets, and errors naming file, line, column.
#include "etna/data/csv.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace et = etna;
namespace data = etna::data;
using Catch::Contains;

namespace {
// A CSV file in the temp folder, removed when the test ends. The pid keeps concurrent test
// processes apart.
struct TempCsv {
  std::filesystem::path path;
  TempCsv(const std::string& name, const std::string& text)
      : path(std::filesystem::temp_directory_path() /
             ("etna_csv_" + std::to_string(::getpid()) + "_" + name + ".csv")) {
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempCsv() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};
}  // namespace

TEST_CASE("read_csv infers integer, floating and string columns", "[data][csv]") {
  const TempCsv f("infer",
                  "id,height,name,score\n"
                  "1,1.5,ann,3\n"
                  "2, 2 ,bob,\n"
                  "-3,+4e-1,\"cy, jr\",7.25\n");
  const auto t = data::read_csv(f.path);
  CHECK(t.rows() == 3);
  CHECK(t.cols() == 4);
  CHECK(t.names() == std::vector<std::string>{"id", "height", "name", "score"});
  CHECK(t.column("id").type() == data::ColumnType::integer);
  CHECK(t.column("id").ints() == std::vector<std::int64_t>{1, 2, -3});
  // " 2 " parses (spaces around numbers are ignored), "+4e-1" too: floating because of 1.5.
  CHECK(t.column("height").type() == data::ColumnType::floating);
  CHECK(t.column("height").floats() == std::vector<double>{1.5, 2.0, 0.4});
  CHECK(t.column("name").type() == data::ColumnType::string);
  CHECK(t.column("name").strings() == std::vector<std::string>{"ann", "bob", "cy, jr"});
  // An empty field is a missing number: the column becomes floating with NaN there.
  const auto& score = t.column("score");
  CHECK(score.type() == data::ColumnType::floating);
  CHECK(score.floats()[0] == 3.0);
  CHECK(std::isnan(score.floats()[1]));
  CHECK(score.number(2) == 7.25);
  CHECK(t.column(1).name() == "height");
  REQUIRE_THROWS_WITH(t.column("id").floats(), "CsvColumn: column 'id' is integer, not floating");
  REQUIRE_THROWS_AS(t.column("age"), et::value_error);
  REQUIRE_THROWS_WITH(t.column("age"), Contains("no column 'age'") &&
                                           Contains("(columns: id, height, name, score)"));
}

TEST_CASE("read_csv handles quotes, CRLF, blank lines, a BOM and other delimiters", "[data][csv]") {
  const TempCsv f("quotes",
                  "\xEF\xBB\xBF"
                  "a;b\r\n"
                  "\"say \"\"hi\"\"\";\"two\nlines\"\r\n"
                  "\r\n"
                  "x;\n"
                  "\"\";3");
  const auto t = data::read_csv(f.path, {.delimiter = ';'});
  CHECK(t.names() == std::vector<std::string>{"a", "b"});
  REQUIRE(t.rows() == 3);
  CHECK(t.column("a").strings() == std::vector<std::string>{"say \"hi\"", "x", ""});
  CHECK(t.column("b").strings() == std::vector<std::string>{"two\nlines", "", "3"});

  const TempCsv g("noheader", "1\t2\n3\t4\n");
  const auto u = data::read_csv(g.path, {.delimiter = '\t', .header = false});
  CHECK(u.names() == std::vector<std::string>{"0", "1"});
  CHECK(u.column("1").ints() == std::vector<std::int64_t>{2, 4});
}

TEST_CASE("read_csv applies explicit column types", "[data][csv]") {
  const TempCsv f("explicit", "zip,x,y\n01234,1,2\n99999,3,4.5\n");
  const auto t = data::read_csv(
      f.path, {.types = {{"zip", data::ColumnType::string}, {"x", data::ColumnType::floating}}});
  CHECK(t.column("zip").strings() == std::vector<std::string>{"01234", "99999"});
  CHECK(t.column("x").floats() == std::vector<double>{1.0, 3.0});
  CHECK(t.column("y").type() == data::ColumnType::floating);

  REQUIRE_THROWS_AS(data::read_csv(f.path, {.types = {{"y", data::ColumnType::integer}}}),
                    et::io_error);
  REQUIRE_THROWS_WITH(data::read_csv(f.path, {.types = {{"y", data::ColumnType::integer}}}),
                      Contains(f.path.string()) &&
                          Contains("line 3, column 'y' (field 3): cannot parse '4.5' as an "
                                   "integer (int64)"));
  REQUIRE_THROWS_WITH(data::read_csv(f.path, {.types = {{"z", data::ColumnType::integer}}}),
                      Contains("a type is given for column 'z'"));
}

TEST_CASE("read_csv errors name the file, the line and the problem", "[data][csv]") {
  const TempCsv fields("fields", "a,b,c\n1,2,3\n\n4,5\n");
  REQUIRE_THROWS_AS(data::read_csv(fields.path), et::io_error);
  REQUIRE_THROWS_WITH(data::read_csv(fields.path),
                      Contains(fields.path.string()) &&
                          Contains("line 4: expected 3 fields (as in the header), found 2"));
  const TempCsv number("number", "a,b\n1,2\n3,abc\n");
  REQUIRE_THROWS_WITH(data::read_csv(number.path, {.types = {{"b", data::ColumnType::floating}}}),
                      Contains("line 3, column 'b' (field 2): cannot parse 'abc' as a number"));
  const TempCsv quote("quote", "a,b\n1,\"open\n2,3\n");
  REQUIRE_THROWS_WITH(data::read_csv(quote.path),
                      Contains("line 2, field 2: quoted field never closed"));
  const TempCsv after("after", "a,b\n\"x\"y,1\n");
  REQUIRE_THROWS_WITH(data::read_csv(after.path),
                      Contains("line 2, field 1: unexpected character after a closing quote"));
  const TempCsv dup("dup", "a,b,a\n1,2,3\n");
  REQUIRE_THROWS_WITH(data::read_csv(dup.path), Contains("line 1: column name 'a' appears twice"));
  const TempCsv empty("empty", "");
  REQUIRE_THROWS_WITH(data::read_csv(empty.path), Contains("empty file, expected a header row"));
  REQUIRE_THROWS_WITH(data::read_csv("/nonexistent/etna.csv"),
                      "read_csv: /nonexistent/etna.csv: no such file");
}

TEST_CASE("to_tensor stacks chosen columns into [rows, columns]", "[data][csv]") {
  const TempCsv f("tensor", "a,b,c,name\n1,0.5,7,x\n2,1.5,8,y\n");
  const auto t = data::read_csv(f.path);
  const auto x = data::to_tensor<float>(t, {"b", "a"});
  CHECK(x.shape() == et::Shape{2, 2});
  CHECK(std::vector<float>(x.begin(), x.end()) == std::vector<float>{0.5f, 1, 1.5f, 2});
  const auto ints = data::to_tensor<std::int64_t>(t, {"c"});
  CHECK(std::vector<std::int64_t>(ints.begin(), ints.end()) == std::vector<std::int64_t>{7, 8});
  REQUIRE_THROWS_WITH(data::to_tensor<float>(t),
                      Contains("column 'name'") && Contains("holds strings, not numbers"));
  REQUIRE_THROWS_WITH(data::to_tensor<std::int64_t>(t, {"b"}),
                      "to_tensor<int64>: column 'b' holds floating-point values; use float or "
                      "double");
}

TEST_CASE("CsvDataset serves feature rows with numeric or class targets", "[data][csv]") {
  const TempCsv f("dataset",
                  "sepal,petal,species,weight\n"
                  "5.1,1.4,setosa,0.5\n"
                  "7.0,4.7,versicolor,1.5\n"
                  "6.3,6.0,virginica,2.5\n"
                  "4.9,1.4,setosa,3.5\n");
  const data::CsvDataset<> ds(f.path, "species", {"sepal", "petal"});
  STATIC_REQUIRE(data::Dataset<data::CsvDataset<>>);
  REQUIRE(ds.size() == 4);
  CHECK(ds.classes() == std::vector<std::string>{"setosa", "versicolor", "virginica"});
  const auto [x, y] = ds.get(2);
  CHECK(x.shape() == et::Shape{2});
  CHECK(x(0) == 6.3f);
  CHECK(x(1) == 6.0f);
  CHECK(y == 2);
  CHECK(ds.get(3).target == 0);
  CHECK(ds.features().shape() == et::Shape{4, 2});

  // A float target; features default to every other column, which must all be numeric.
  const auto table = data::read_csv(f.path);
  REQUIRE_THROWS_WITH(data::CsvDataset<float>(table, "weight"),
                      Contains("feature column 'species'") && Contains("holds strings"));
  const data::CsvDataset<float> reg(table, "weight", {"sepal"});
  CHECK(reg.get(1).target == 1.5f);
  CHECK(reg.classes().empty());
  const TempCsv g("numeric", "a,b,label\n1,2,0\n3,4,1\n");
  const data::CsvDataset<> all(g.path, "label");
  CHECK(all.feature_names() == std::vector<std::string>{"a", "b"});
  CHECK(all.get(1).data(1) == 4.0f);
  CHECK(all.get(1).target == 1);
  REQUIRE_THROWS_WITH(data::CsvDataset<>(g.path, "missing"), Contains("no column 'missing'"));
}
