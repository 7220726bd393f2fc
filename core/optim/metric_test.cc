// Metrics against hand-computed values (several from MXNet's docstrings), accumulated over two updates,
// then reset.
#include "core/optim/metric.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/optim/internal/test_util.h"
#include "gtest/gtest.h"

namespace pmx {
namespace optim {
namespace {

using testing::Array;

// The single value of a metric.
double Value(const EvalMetric& metric) { return metric.Get().second.at(0); }

// MXNet's docstring example: three samples, two classes.
NDArray DocPreds() { return Array({0.3, 0.7, 0, 1, 0.4, 0.6}, Shape({3, 2}), DType::kFloat32); }
NDArray DocLabels() { return Array({0, 1, 1}, Shape({3}), DType::kFloat32); }

TEST(MetricTest, Accuracy) {
  Accuracy accuracy;
  accuracy.Update({DocLabels()}, {DocPreds()});
  EXPECT_DOUBLE_EQ(Value(accuracy), 2.0 / 3);
  accuracy.Update({Array({0, 0}, Shape({2}))}, {Array({0.9, 0.1, 0.2, 0.8}, Shape({2, 2}))});
  EXPECT_DOUBLE_EQ(Value(accuracy), 3.0 / 5);
  EXPECT_EQ(accuracy.num_inst(), 5);
  EXPECT_EQ(accuracy.Get().first.at(0), "accuracy");
  accuracy.Reset();
  EXPECT_TRUE(std::isnan(Value(accuracy)));
  // Predictions shaped like the labels are class indices, truncated as astype('int32') does.
  accuracy.Update({Array({1, 2, 3}, Shape({3}))}, {Array({1, 2, 3.7}, Shape({3}))});
  EXPECT_DOUBLE_EQ(Value(accuracy), 1.0);
  // Classes along axis 0: three samples as columns.
  Accuracy by_column(0);
  by_column.Update({DocLabels()}, {Array({0.3, 0, 0.4, 0.7, 1, 0.6}, Shape({2, 3}))});
  EXPECT_DOUBLE_EQ(Value(by_column), 2.0 / 3);
}

TEST(MetricTest, TopKAccuracy) {
  TopKAccuracy top2(2);
  EXPECT_EQ(top2.name(), "top_k_accuracy_2");
  const NDArray preds = Array({0.1, 0.5, 0.3, 0.2, 0.4, 0.3, 0.2, 0.1, 0.1, 0.2, 0.3, 0.4}, Shape({3, 4}));
  top2.Update({Array({2, 0, 1}, Shape({3}))}, {preds});
  EXPECT_DOUBLE_EQ(Value(top2), 2.0 / 3);
  top2.Update({Array({3}, Shape({1}))}, {Array({0.1, 0.2, 0.3, 0.4}, Shape({1, 4}))});
  EXPECT_DOUBLE_EQ(Value(top2), 3.0 / 4);
  // top_k beyond the class count counts every label.
  TopKAccuracy top9(9);
  top9.Update({Array({2, 0, 1}, Shape({3}))}, {preds});
  EXPECT_DOUBLE_EQ(Value(top9), 1.0);
  EXPECT_THROW(TopKAccuracy(1), Error);
}

TEST(MetricTest, F1MacroAndMicro) {
  const NDArray second_preds = Array({0.6, 0.4, 0.2, 0.8}, Shape({2, 2}));
  const NDArray second_labels = Array({1, 0}, Shape({2}));
  F1 macro;
  macro.Update({DocLabels()}, {DocPreds()});
  EXPECT_NEAR(Value(macro), 0.8, 1e-12);  // tp 2, fp 1, fn 0.
  macro.Update({second_labels}, {second_preds});  // tp 0, fp 1, fn 1: F1 0.
  EXPECT_NEAR(Value(macro), 0.4, 1e-12);
  EXPECT_EQ(macro.num_inst(), 2);
  F1 micro("micro");
  micro.Update({DocLabels()}, {DocPreds()});
  micro.Update({second_labels}, {second_preds});
  // All five samples: tp 2, fp 2, fn 1: precision 1/2, recall 2/3, F1 4/7.
  EXPECT_NEAR(Value(micro), 4.0 / 7, 1e-12);
  EXPECT_EQ(micro.num_inst(), 5);
  micro.Reset();
  micro.Update({second_labels}, {second_preds});
  EXPECT_NEAR(Value(micro), 0.0, 1e-12);
  EXPECT_THROW(macro.Update({Array({0, 1, 2}, Shape({3}))}, {DocPreds()}), Error);  // Not binary.
  EXPECT_THROW(F1("weighted"), Error);
}

TEST(MetricTest, RegressionMetrics) {
  // MXNet's docstring example: MAE 0.5, MSE 0.375, RMSE sqrt(0.375).
  const NDArray preds = Array({3, -0.5, 2, 7}, Shape({4, 1}));
  const NDArray labels = Array({2.5, 0.0, 2, 8}, Shape({4, 1}));
  MAE mae;
  MSE mse;
  RMSE rmse;
  for (EvalMetric* metric : std::vector<EvalMetric*>{&mae, &mse, &rmse}) metric->Update({labels}, {preds});
  EXPECT_DOUBLE_EQ(Value(mae), 0.5);
  EXPECT_DOUBLE_EQ(Value(mse), 0.375);
  EXPECT_DOUBLE_EQ(Value(rmse), std::sqrt(0.375));
  // A second pair of 1-D arrays (taken as columns): each pair counts once, whatever its size.
  const NDArray labels2 = Array({1, 2}, Shape({2})), preds2 = Array({2, 4}, Shape({2}));
  for (EvalMetric* metric : std::vector<EvalMetric*>{&mae, &mse, &rmse}) metric->Update({labels2}, {preds2});
  EXPECT_DOUBLE_EQ(Value(mae), (0.5 + 1.5) / 2);
  EXPECT_DOUBLE_EQ(Value(mse), (0.375 + 2.5) / 2);
  EXPECT_DOUBLE_EQ(Value(rmse), (std::sqrt(0.375) + std::sqrt(2.5)) / 2);
  EXPECT_EQ(mae.num_inst(), 2);
  // Labels (2,) become a column and broadcast against (2, 2) predictions.
  MAE broadcast;
  broadcast.Update({labels2}, {Array({1, 3, 2, 2}, Shape({2, 2}))});
  EXPECT_DOUBLE_EQ(Value(broadcast), 0.5);
  EXPECT_THROW(broadcast.Update({Array({1, 2, 3}, Shape({3}))}, {Array({1, 2}, Shape({2}))}), Error);
}

TEST(MetricTest, CrossEntropyAndPerplexity) {
  const double eps = 1e-12;
  const double doc_loss = -(std::log(0.3 + eps) + std::log(1 + eps) + std::log(0.6 + eps)) / 3;
  CrossEntropy ce;
  ce.Update({DocLabels()}, {DocPreds()});
  EXPECT_NEAR(Value(ce), doc_loss, 1e-7);  // MXNet's docstring: 0.57159948.
  ce.Update({Array({0}, Shape({1}))}, {Array({0.5, 0.5}, Shape({1, 2}))});
  EXPECT_NEAR(Value(ce), (3 * doc_loss - std::log(0.5 + eps)) / 4, 1e-7);

  Perplexity all(std::nullopt);
  all.Update({DocLabels()}, {DocPreds()});
  EXPECT_NEAR(Value(all), 1.7710976285155853, 1e-6);  // MXNet's docstring.
  Perplexity ignoring(1);
  ignoring.Update({DocLabels()}, {DocPreds()});
  EXPECT_NEAR(Value(ignoring), 1 / 0.3, 1e-6);  // Only sample 0 counts.
  // (batch 2, time 2, classes 2) along the last axis; a 0 probability is floored at 1e-10.
  ignoring.Update({Array({0, 1, 0, 0}, Shape({2, 2}))},
                  {Array({0.5, 0.5, 0.9, 0.1, 0.25, 0.75, 0.0, 1.0}, Shape({2, 2, 2}))});
  const double loss = -std::log(0.3) - std::log(0.5) - std::log(0.25) - std::log(1e-10);
  EXPECT_NEAR(Value(ignoring), std::exp(loss / 4), 1e-3);
  EXPECT_EQ(ignoring.num_inst(), 4);
}

TEST(MetricTest, LossAndComposite) {
  Loss loss;
  loss.Update({}, {Array({1, 2, 3, 4}, Shape({2, 2}))});
  EXPECT_DOUBLE_EQ(Value(loss), 2.5);
  loss.Update({}, {Array({6}, Shape({1}))});
  EXPECT_DOUBLE_EQ(Value(loss), 16.0 / 5);

  CompositeEvalMetric composite;
  composite.Add(CreateMetric("acc"));
  composite.Add(CreateMetric("f1"));
  composite.Update({DocLabels()}, {DocPreds()});
  auto [names, values] = composite.Get();
  EXPECT_EQ(names, (std::vector<std::string>{"accuracy", "f1"}));
  EXPECT_NEAR(values.at(0), 2.0 / 3, 1e-12);
  EXPECT_NEAR(values.at(1), 0.8, 1e-12);
  composite.Reset();
  EXPECT_TRUE(std::isnan(composite.Get().second.at(0)));
}

TEST(MetricTest, FactoryAndErrors) {
  EXPECT_EQ(CreateMetric("ce")->name(), "cross-entropy");
  EXPECT_EQ(CreateMetric("Top_K_Acc", {{"top_k", "3"}})->name(), "top_k_accuracy_3");
  EXPECT_EQ(CreateMetric("mse", {{"name", "my-mse"}})->name(), "my-mse");
  EXPECT_EQ(CreateMetric("perplexity", {{"ignore_label", "None"}})->name(), "perplexity");
  EXPECT_THROW(CreateMetric("auc"), Error);
  EXPECT_THROW(CreateMetric("acc", {{"top_k", "3"}}), Error);
  EXPECT_THROW(CreateMetric("f1", {{"average", "weighted"}}), Error);
  Accuracy accuracy;
  try {
    accuracy.Update({DocLabels(), DocLabels()}, {DocPreds()});
    ADD_FAILURE() << "expected ValueError";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("given 2 label(s) and 1 prediction(s)"), std::string::npos) << error.message();
  }
}

}  // namespace
}  // namespace optim
}  // namespace pmx
