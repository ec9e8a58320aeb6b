// Metrics against hand-computed values, and the progress display's output format.
#include "etna/train/metrics.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <vector>

#include "etna/etna.hpp"
#include "etna/train/progress.hpp"

namespace et = etna;

namespace {
// One-hot logits [N, C] whose argmax is `pred`.
et::Tensor<float> one_hot_logits(const std::vector<std::int64_t>& pred, std::int64_t c) {
  auto t = et::zeros<float>({static_cast<std::int64_t>(pred.size()), c});
  for (std::size_t i = 0; i < pred.size(); ++i) t.at({static_cast<std::int64_t>(i), pred[i]}) = 1;
  return t;
}
et::Tensor<std::int64_t> labels(const std::vector<std::int64_t>& v) {
  return et::tensor<std::int64_t>(v, {static_cast<std::int64_t>(v.size())});
}
}  // namespace

TEST_CASE("train metrics: running mean weights values", "[train][metrics]") {
  et::train::RunningMean m;
  CHECK(m.compute() == 0);
  m.update(1.0, 2);
  m.update(4.0, 1);
  CHECK(m.compute() == Approx(2.0));
  CHECK(m.count() == 3);
  m.reset();
  CHECK(m.compute() == 0);
}

TEST_CASE("train metrics: accuracy uses argmax, first index on ties", "[train][metrics]") {
  auto logits = et::tensor<float>({{0.1f, 0.9f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.5f, 0.5f}});
  auto y = labels({1, 0, 0, 0});
  CHECK(et::train::accuracy(logits, y) == Approx(0.75));
  et::train::Accuracy acc;  // accumulates across batches
  acc.update(logits, y);
  acc.update(et::tensor<float>({{0.f, 1.f}}), labels({1}));
  CHECK(acc.compute() == Approx(4.0 / 5));
  CHECK(et::train::accuracy(et::Var<float>(logits), y) == Approx(0.75));  // a Var works too
  auto classes = et::train::predicted_classes(logits);
  CHECK(std::vector<std::int64_t>(classes.begin(), classes.end()) ==
        std::vector<std::int64_t>{1, 0, 1, 0});
  CHECK_THROWS_AS(et::train::accuracy(logits, labels({1, 0})), et::shape_error);
}

TEST_CASE("train metrics: top-k accuracy", "[train][metrics]") {
  auto logits = et::tensor<float>(
      {{0.1f, 0.2f, 0.3f, 0.4f}, {0.4f, 0.3f, 0.2f, 0.1f}, {0.25f, 0.25f, 0.25f, 0.25f}});
  auto y = labels({0, 1, 2});
  CHECK(et::train::top_k_accuracy(logits, y, 1) == Approx(0.0));
  CHECK(et::train::top_k_accuracy(logits, y, 1) == et::train::accuracy(logits, y));
  CHECK(et::train::top_k_accuracy(logits, y, 2) == Approx(1.0 / 3));
  CHECK(et::train::top_k_accuracy(logits, y, 3) == Approx(2.0 / 3));
  CHECK(et::train::top_k_accuracy(logits, y, 4) == Approx(1.0));
  CHECK_THROWS_AS(et::train::TopKAccuracy(0), et::value_error);
  CHECK_THROWS_AS(et::train::top_k_accuracy(logits, labels({0, 1, 4}), 2), et::value_error);
}

TEST_CASE("train metrics: 3-class confusion matrix, precision, recall, F1", "[train][metrics]") {
  // Class 2 is never predicted: its precision divides by zero and is 0 (sklearn zero_division=0).
  const std::vector<std::int64_t> truth{0, 0, 1, 1, 1, 2, 2, 0};
  const std::vector<std::int64_t> pred{0, 1, 1, 1, 0, 1, 1, 0};
  auto cm = et::train::confusion_matrix(one_hot_logits(pred, 3), labels(truth), 3);
  const std::int64_t expected[3][3] = {{2, 1, 0}, {1, 2, 0}, {0, 2, 0}};
  for (int t = 0; t < 3; ++t)
    for (int p = 0; p < 3; ++p) CHECK(cm.counts(t, p) == expected[t][p]);
  CHECK(cm.total() == 8);
  auto m = cm.compute();
  CHECK(m.shape() == et::Shape{3, 3});
  CHECK(m.at({2, 1}) == 2);

  const auto r = cm.report();
  CHECK(r.precision[0] == Approx(2.0 / 3));
  CHECK(r.precision[1] == Approx(0.4));
  CHECK(r.precision[2] == 0.0);
  CHECK(r.recall[0] == Approx(2.0 / 3));
  CHECK(r.recall[1] == Approx(2.0 / 3));
  CHECK(r.recall[2] == 0.0);
  CHECK(r.f1[0] == Approx(2.0 / 3));
  CHECK(r.f1[1] == Approx(0.5));
  CHECK(r.f1[2] == 0.0);
  CHECK(r.support == std::vector<std::int64_t>{3, 3, 2});
  CHECK(r.macro_precision == Approx((2.0 / 3 + 0.4) / 3));
  CHECK(r.macro_recall == Approx(4.0 / 9));
  CHECK(r.macro_f1 == Approx((2.0 / 3 + 0.5) / 3));
  CHECK(r.accuracy == Approx(0.5));

  // Predicted classes given directly (int64 [N]) give the same matrix, accumulated in batches.
  et::train::PrecisionRecallF1 prf(3);
  prf.update(labels({0, 1, 1, 1}), labels({0, 0, 1, 1}));
  prf.update(labels({0, 1, 1, 0}), labels({1, 2, 2, 0}));
  CHECK(prf.compute().macro_f1 == Approx(r.macro_f1));
  CHECK(prf.confusion_matrix().counts(2, 1) == 2);

  CHECK_THROWS_AS(cm.add(3, 0), et::value_error);
  CHECK_THROWS_AS(et::train::ConfusionMatrix(0), et::value_error);
  CHECK_THROWS_AS(et::train::ConfusionMatrix(3, {"a", "b"}), et::value_error);
}

TEST_CASE("train metrics: confusion matrix prints an aligned table", "[train][metrics]") {
  const std::vector<std::int64_t> truth{0, 0, 1, 1, 1, 2, 2, 0};
  const std::vector<std::int64_t> pred{0, 1, 1, 1, 0, 1, 1, 0};
  auto named = et::train::confusion_matrix(labels(pred), labels(truth), 3, {"cat", "dog", "bird"});
  CHECK(named.to_string() ==
        "true\\pred   cat   dog  bird\n"
        "cat           2     1     0\n"
        "dog           1     2     0\n"
        "bird          0     2     0\n");
  et::train::ConfusionMatrix plain(2);
  plain.add(0, 0, 120);
  plain.add(1, 0, 3);
  std::ostringstream os;
  os << plain;
  CHECK(os.str() ==
        "true\\pred    0    1\n"
        "0          120    0\n"
        "1            3    0\n");
}

TEST_CASE("train metrics: MAE and RMSE", "[train][metrics]") {
  auto p = et::tensor<float>({1.f, 2.f, 3.f, 4.f});
  auto t = et::tensor<float>({1.5f, 2.f, 2.f, 6.f});
  CHECK(et::train::mae(p, t) == Approx(0.875));
  CHECK(et::train::rmse(p, t) == Approx(1.1456439237389600));
  et::train::RootMeanSquaredError rmse;  // over all elements, not a mean of batch RMSEs
  rmse.update(p.narrow(0, 0, 1), t.narrow(0, 0, 1));
  rmse.update(p.narrow(0, 1, 3), t.narrow(0, 1, 3));
  CHECK(rmse.compute() == Approx(1.1456439237389600));
  et::train::MeanAbsoluteError mae;
  mae.update(p.view({2, 2}), t.view({4}));  // same number of elements
  CHECK(mae.compute() == Approx(0.875));
  mae.reset();
  CHECK(mae.compute() == 0);
  CHECK_THROWS_AS(et::train::mae(p, t.narrow(0, 0, 2)), et::shape_error);
}

TEST_CASE("train progress: one plain line per epoch when not a terminal", "[train][progress]") {
  std::ostringstream os;
  double now = 10;
  et::train::ProgressBar bar(os, false, [&] { return now; });
  CHECK_FALSE(et::train::is_terminal(os));
  bar.begin_epoch(1, 5, 4);
  for (int s = 1; s <= 4; ++s) {
    now += 0.5;
    bar.update(s, {{"loss", 0.9}});
  }
  CHECK(os.str().empty());  // nothing until the epoch ends
  bar.end_epoch(
      {{"loss", 0.5}, {"accuracy", 0.75}, {"val_accuracy", 0.7}, {"val_loss", 0.6}, {"lr", 1e-4}});
  CHECK(os.str() ==
        "Epoch 2/5 - 4/4 - 2.0s - 2.0 it/s - loss: 0.5000 - accuracy: 0.7500 - val_loss: 0.6000 "
        "- val_accuracy: 0.7000 - lr: 1.000e-04\n");
}

TEST_CASE("train progress: log keys in canonical order", "[train][progress]") {
  et::train::Logs logs{{"lr", 0.1},       {"val_f1", 0.5}, {"f1", 0.6},          {"val_loss", 1},
                       {"accuracy", 0.9}, {"loss", 0.2},   {"val_accuracy", 0.8}};
  CHECK(et::train::ordered_keys(logs) == std::vector<std::string>{"loss", "accuracy", "f1",
                                                                  "val_loss", "val_accuracy",
                                                                  "val_f1", "lr"});
  CHECK(et::train::format_value(0.5) == "0.5000");
  CHECK(et::train::format_value(2e-5) == "2.000e-05");
  CHECK(et::train::format_value(0) == "0.0000");
}

TEST_CASE("train progress: the terminal bar redraws in place", "[train][progress]") {
  std::ostringstream os;
  double now = 0;
  et::train::ProgressBar bar(os, true, [&] { return now; });
  bar.begin_epoch(0, 3, 4);
  now = 1;
  bar.update(1, {{"loss", 1.0}});
  CHECK(os.str() == "\rEpoch 1/3 [=====>              ] 1/4 - ETA 3.0s - 1.0 it/s - loss: 1.0000");
  now = 1.05;
  bar.update(2, {{"loss", 0.8}});  // within 0.1 s of the last draw: skipped
  CHECK(os.str().find("2/4") == std::string::npos);
  now = 4;
  bar.update(4, {{"loss", 0.5}});  // the last step always draws
  CHECK(os.str().find("[====================] 4/4 - ETA 0.0s") != std::string::npos);
  bar.end_epoch({{"loss", 0.5}});
  const std::string s = os.str();
  CHECK(s.substr(s.rfind('\r')) ==
        "\rEpoch 1/3 - 4/4 - 4.0s - 1.0 it/s - loss: 0.5000" + std::string(25, ' ') + "\n");
  CHECK(et::train::detail::format_duration(75) == "1:15");
  CHECK(et::train::detail::format_duration(3723) == "1:02:03");
  CHECK(et::train::detail::format_rate(1, 4) == "4.00 s/it");
}
