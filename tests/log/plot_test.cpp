// plot_history and the SVG line plots: well-formed XML (tests/log/xml_check.hpp), one polyline
// per series with one point per epoch, monotone value-to-pixel mapping, ticks, legend, edge
// cases (one epoch, NaN / inf, constant series, no validation) and the atomic file write.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "etna/log/plot.hpp"
#include "log/xml_check.hpp"

namespace et = etna;
namespace fs = std::filesystem;
using et::test::XmlElement;
using et::test::XmlParser;

namespace {

et::train::History make_history(const std::vector<et::train::Logs>& epochs) {
  et::train::History h;
  h.on_train_begin();
  for (std::size_t i = 0; i < epochs.size(); ++i) h.on_epoch_end(static_cast<int>(i), epochs[i]);
  return h;
}

// loss falling, accuracy rising, with validation twins and the lr, over n epochs.
et::train::History typical(int n) {
  std::vector<et::train::Logs> epochs;
  for (int e = 0; e < n; ++e)
    epochs.push_back({{"loss", 1.0 / (e + 1)},
                      {"accuracy", 0.5 + 0.08 * e},
                      {"val_loss", 1.2 / (e + 1) + 0.05},
                      {"val_accuracy", 0.45 + 0.07 * e},
                      {"lr", 1e-3}});
  return make_history(epochs);
}

std::vector<std::pair<double, double>> points_of(const XmlElement& polyline) {
  std::vector<std::pair<double, double>> out;
  std::istringstream in(polyline.attr("points"));
  std::string pair;
  while (in >> pair) {
    const auto comma = pair.find(',');
    REQUIRE(comma != std::string::npos);
    out.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
  }
  return out;
}

// The data polylines by their data-key.
std::map<std::string, const XmlElement*> series_of(const XmlElement& svg) {
  std::map<std::string, const XmlElement*> out;
  for (const auto* p : svg.find_all("polyline")) {
    REQUIRE(p->attr("class") == "series");
    REQUIRE(out.emplace(p->attr("data-key"), p).second);  // exactly one polyline per series
  }
  return out;
}

std::vector<std::string> texts_with_class(const XmlElement& svg, const std::string& cls) {
  std::vector<std::string> out;
  for (const auto* t : svg.find_all("text"))
    if (t->attr("class") == cls) out.push_back(t->text);
  return out;
}

// Every coordinate attribute is a finite number (no NaN or inf leaked into the drawing).
bool coordinates_finite(const XmlElement& e) {
  for (const auto& [key, value] : e.attributes) {
    if (key == "points") {
      for (const auto& [x, y] : points_of(e))
        if (!std::isfinite(x) || !std::isfinite(y)) return false;
    } else if (key == "x" || key == "y" || key == "x1" || key == "x2" || key == "y1" ||
               key == "y2" || key == "cx" || key == "cy") {
      if (!std::isfinite(std::stod(value))) return false;
    }
  }
  for (const auto& c : e.children)
    if (!coordinates_finite(c)) return false;
  return true;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("log xml_check: the test parser rejects what is not well-formed", "[log][plot]") {
  const auto root = XmlParser::parse(
      "<?xml version=\"1.0\"?>\n<!-- c --><a x=\"1\" y='&lt;&#65;'><b/>t&amp;u<c></c></a>\n");
  CHECK(root.name == "a");
  CHECK(root.attr("y") == "<A");
  CHECK(root.text == "t&u");
  CHECK(root.find_all("c").size() == 1);
  for (const char* bad : {"<a><b></a></b>", "<a x=1/>", "<a x=\"1\" x=\"2\"/>", "<a>&</a>",
                          "<a>&nbsp;</a>", "<a/><b/>", "<a>", "<a x=\"<\"/>", "text<a/>",
                          "<a><!-- x -- y --></a>", "<a/>\n<?xml version=\"1.0\"?>", ""}) {
    INFO(bad);
    CHECK_THROWS_AS(XmlParser::parse(bad), et::test::XmlError);
  }
}

TEST_CASE("log plot: nice axes use 1, 2, 5 x 10^k steps", "[log][plot]") {
  using et::logging::plot_detail::nice_axis;
  using et::logging::plot_detail::tick_label;
  CHECK(et::logging::plot_detail::nice_step(0.148) == Approx(0.2));
  CHECK(et::logging::plot_detail::nice_step(3.0) == Approx(5));
  CHECK(et::logging::plot_detail::nice_step(0.0009) == Approx(0.001));
  const auto y = nice_axis(0.13, 0.87, true, false);
  CHECK(y.lo == Approx(0.0).margin(1e-12));
  CHECK(y.hi == Approx(1.0));
  REQUIRE(y.ticks.size() == 6);
  CHECK(tick_label(y.ticks[1], y.step) == "0.2");
  CHECK(tick_label(y.ticks[0], y.step) == "0.0");
  const auto constant = nice_axis(0.5, 0.5, true, false);  // a constant series still has a span
  CHECK(constant.hi > constant.lo);
  CHECK(constant.ticks.size() >= 2);
  const auto zero = nice_axis(0, 0, true, false);
  CHECK(zero.hi > zero.lo);
  const auto epochs = nice_axis(1, 1, false, true);  // one epoch: a single tick at 1
  REQUIRE(epochs.ticks.size() == 1);
  CHECK(tick_label(epochs.ticks[0], epochs.step) == "1");
  CHECK(nice_axis(1, 3, false, true).step == 1);  // whole epochs only
  CHECK(tick_label(1e-5, 2e-6) == "1e-05");
  CHECK(tick_label(2500000, 500000) == "2.5e+06");
  CHECK(tick_label(-0.0, 0.1) == "0.0");
}

TEST_CASE("log plot: plot_history draws loss and accuracy, train and validation",
          "[log][plot]") {
  const auto history = typical(5);
  const std::string doc = et::logging::history_svg(history);
  const XmlElement svg = XmlParser::parse(doc);
  CHECK(svg.name == "svg");
  CHECK(svg.attr("xmlns") == "http://www.w3.org/2000/svg");
  // Self-contained: no scripts, no links to anything.
  CHECK(svg.find_all("script").empty());
  CHECK(doc.find("href") == std::string::npos);
  CHECK(coordinates_finite(svg));
  CHECK(svg.find_all("g").size() == 2);  // two panels

  const auto series = series_of(svg);
  REQUIRE(series.size() == 4);
  for (const char* key : {"loss", "val_loss", "accuracy", "val_accuracy"}) {
    INFO(key);
    REQUIRE(series.count(key) == 1);
    const auto pts = points_of(*series.at(key));
    REQUIRE(pts.size() == 5);  // one point per epoch
    const auto values = history.values(key);
    for (std::size_t i = 1; i < pts.size(); ++i) {
      CHECK(pts[i].first > pts[i - 1].first);  // epochs left to right
      // Higher values are drawn higher (smaller y), for every pair of epochs.
      for (std::size_t j = 0; j < i; ++j)
        CHECK((values[i] > values[j]) == (pts[i].second < pts[j].second));
    }
  }
  // Solid train, dashed validation, in two distinct colours.
  CHECK(series.at("loss")->attr("stroke-dasharray").empty());
  CHECK(series.at("val_loss")->attr("stroke-dasharray") == "6 4");
  CHECK(series.at("loss")->attr("stroke") != series.at("val_loss")->attr("stroke"));
  CHECK(svg.find_all("circle").size() == 20);  // a marker per point

  const auto ticks = texts_with_class(svg, "tick");
  CHECK(contains(ticks, "1"));    // epochs
  CHECK(contains(ticks, "5"));
  CHECK(contains(ticks, "0.5"));  // loss (0.2 .. 1.29): steps of 0.5
  CHECK(contains(ticks, "1.5"));
  CHECK(contains(ticks, "0.4"));  // accuracy (0.45 .. 0.82): steps of 0.1
  CHECK(contains(ticks, "0.9"));
  const auto legend = texts_with_class(svg, "legend");
  CHECK(std::count(legend.begin(), legend.end(), "train") == 2);
  CHECK(std::count(legend.begin(), legend.end(), "validation") == 2);
  std::vector<std::string> all;
  for (const auto* t : svg.find_all("text")) all.push_back(t->text);
  CHECK(contains(all, "Training history"));
  CHECK(contains(all, "loss"));
  CHECK(contains(all, "accuracy"));
  CHECK(contains(all, "epoch"));
}

TEST_CASE("log plot: edge cases: one epoch, NaN and inf, constant, no validation",
          "[log][plot]") {
  SECTION("one epoch: one point per series") {
    const XmlElement svg = XmlParser::parse(et::logging::history_svg(typical(1)));
    const auto series = series_of(svg);
    REQUIRE(series.size() == 4);
    for (const auto& [key, p] : series) CHECK(points_of(*p).size() == 1);
  }
  SECTION("NaN and infinite values are skipped") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const auto h = make_history({{{"loss", 1.0}}, {{"loss", nan}}, {{"loss", 0.5}},
                                 {{"loss", inf}}, {{"loss", 0.25}}});
    const XmlElement svg = XmlParser::parse(et::logging::history_svg(h));
    CHECK(coordinates_finite(svg));
    const auto series = series_of(svg);
    REQUIRE(series.size() == 1);  // no accuracy, no validation
    const auto pts = points_of(*series.at("loss"));
    REQUIRE(pts.size() == 3);
    CHECK(pts[0].second < pts[1].second);
    CHECK(pts[1].second < pts[2].second);
  }
  SECTION("a constant series gets a real axis") {
    const auto h = make_history({{{"loss", 0.5}}, {{"loss", 0.5}}, {{"loss", 0.5}}});
    const XmlElement svg = XmlParser::parse(et::logging::history_svg(h));
    const auto pts = points_of(*series_of(svg).at("loss"));
    REQUIRE(pts.size() == 3);
    for (const auto& [x, y] : pts) CHECK(std::isfinite(y));
    CHECK(pts[0].second == pts[2].second);
    CHECK(texts_with_class(svg, "tick").size() >= 4);
  }
  SECTION("missing validation: train series only, no validation legend") {
    const auto h = make_history({{{"loss", 0.9}, {"accuracy", 0.6}},
                                 {{"loss", 0.7}, {"accuracy", 0.7}}});
    const XmlElement svg = XmlParser::parse(et::logging::history_svg(h));
    const auto series = series_of(svg);
    CHECK(series.size() == 2);
    CHECK(series.count("loss") == 1);
    CHECK(series.count("accuracy") == 1);
    CHECK(!contains(texts_with_class(svg, "legend"), "validation"));
  }
  SECTION("a validation value missing from one epoch leaves a gap") {
    const auto h = make_history({{{"loss", 0.9}, {"val_loss", 1.0}},
                                 {{"loss", 0.7}},
                                 {{"loss", 0.6}, {"val_loss", 0.8}}});
    const XmlElement svg = XmlParser::parse(et::logging::history_svg(h));
    const auto series = series_of(svg);
    CHECK(points_of(*series.at("loss")).size() == 3);
    CHECK(points_of(*series.at("val_loss")).size() == 2);
  }
}

TEST_CASE("log plot: options choose the metrics; text is escaped", "[log][plot]") {
  const auto history = typical(4);
  const XmlElement svg = XmlParser::parse(
      et::logging::history_svg(history, {.title = "run <a&b> \"1\"", .metrics = {"loss", "lr"}}));
  const auto series = series_of(svg);
  CHECK(series.size() == 3);  // loss, val_loss, lr
  CHECK(series.count("lr") == 1);
  CHECK(contains(texts_with_class(svg, "legend"), "lr"));
  CHECK(svg.find_all("title").at(0)->text == "run <a&b> \"1\"");

  CHECK_THROWS_WITH(et::logging::history_svg(history, {.metrics = {"f1"}}),
                    Catch::Contains("none of the metrics [f1]") && Catch::Contains("val_loss"));
  CHECK_THROWS_AS(et::logging::history_svg(et::train::History{}), et::value_error);

  // The lower-level API: any series on any axis.
  et::logging::LinePlot p{.title = "y = x^2", .x_label = "x", .y_label = "y"};
  p.series.push_back({.label = "x^2", .x = {-2, -1, 0, 1, 2}, .y = {4, 1, 0, 1, 4}, .key = "sq"});
  const XmlElement plain = XmlParser::parse(et::logging::render_svg({p}));
  const auto one = series_of(plain);
  CHECK(points_of(*one.at("sq")).size() == 5);
  p.series[0].y.pop_back();
  CHECK_THROWS_WITH(et::logging::render_svg({p}), Catch::Contains("'x^2'") &&
                                                      Catch::Contains("5 x values but 4 y values"));
}

TEST_CASE("log plot: plot_history writes the file atomically, errors name the path",
          "[log][plot]") {
  const fs::path dir =
      fs::temp_directory_path() / ("etna_plot_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path path = dir / "curves.svg";
  const auto history = typical(3);
  et::logging::plot_history(history, path.string());
  CHECK(read(path) == et::logging::history_svg(history));
  et::logging::plot_history(typical(4), path.string());  // replaces the file
  CHECK(read(path) == et::logging::history_svg(typical(4)));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  CHECK(files == 1);  // no temporary file left behind

  const std::string bad = (dir / "missing" / "curves.svg").string();
  CHECK_THROWS_AS(et::logging::plot_history(history, bad), et::io_error);
  CHECK_THROWS_WITH(et::logging::plot_history(history, bad), Catch::Contains(bad));
  fs::remove_all(dir);
}
