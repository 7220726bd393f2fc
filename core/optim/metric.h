// Evaluation metrics (MXNet 1.x's mx.metric): Accuracy, TopKAccuracy, F1, MAE, MSE, RMSE, CrossEntropy,
// Perplexity, Loss and CompositeEvalMetric, with MXNet's formulas and sum_metric / num_inst accounting.
// Values are read back to the host (a synchronisation point), as MXNet's asnumpy() does.
#ifndef POLYMIX_CORE_OPTIM_METRIC_H_
#define POLYMIX_CORE_OPTIM_METRIC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/array/ndarray.h"
#include "core/optim/internal/kwargs.h"

namespace pmx {
namespace optim {

// Note [Metric accounting]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// A metric accumulates sum_metric and num_inst over Update calls; Get() returns sum_metric / num_inst (NaN
// before any instance). What counts as an instance is MXNet's choice per metric:
// - Accuracy, TopKAccuracy, CrossEntropy: one per sample; Loss: one per element; Perplexity: one per label
//   that is not ignore_label (and Get() returns exp(sum / num)).
// - MAE, MSE, RMSE: one per (label, pred) pair, each adding that pair's mean error, so batches of different
//   sizes weigh the same (RMSE averages per-batch roots).
// - F1 "macro": one per Update call, each adding that call's F1; "micro": counts over all calls, so Get()
//   is the F1 of everything seen.
// Every metric checks that it is given as many labels as predictions (except Loss, which reads only preds).

// The base of every metric.
class EvalMetric {
 public:
  virtual ~EvalMetric() = default;
  // Accumulates one batch: `labels[i]` goes with `preds[i]`.
  virtual void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) = 0;
  // Clears the accumulated values.
  virtual void Reset();
  // The names and values of the result (one each, several for CompositeEvalMetric).
  virtual std::pair<std::vector<std::string>, std::vector<double>> Get() const;
  // The display name, e.g. "accuracy".
  const std::string& name() const { return name_; }
  // The accumulated sum (Note [Metric accounting]).
  double sum_metric() const { return sum_metric_; }
  // The accumulated number of instances (Note [Metric accounting]).
  double num_inst() const { return num_inst_; }

 protected:
  // A metric displayed as `name`.
  explicit EvalMetric(std::string name) : name_(std::move(name)) {}
  // "[metric <name>]", the prefix of error messages.
  std::string Where() const { return "[metric " + name_ + "]"; }
  // ValueError unless there are as many labels as predictions.
  void CheckCounts(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) const;

  std::string name_;
  double sum_metric_ = 0;
  double num_inst_ = 0;
};

// Fraction of samples whose predicted class (argmax over `axis` when the prediction's shape differs from
// the label's, else the prediction itself) equals the label, both truncated to integers.
class Accuracy : public EvalMetric {
 public:
  explicit Accuracy(int axis = 1, std::string name = "accuracy") : EvalMetric(std::move(name)), axis_(axis) {}
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 private:
  int axis_;
};

// Fraction of samples whose label is among the top_k scores of their 2-D (samples, classes) prediction;
// displayed as "top_k_accuracy_<k>". top_k must exceed 1 (use Accuracy otherwise).
class TopKAccuracy : public EvalMetric {
 public:
  explicit TopKAccuracy(int top_k = 1, std::string name = "top_k_accuracy");
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 private:
  int top_k_;
};

// F1 of binary classification (class 1 positive; predictions are (samples, 2) scores), averaged per Update
// ("macro") or over all samples ("micro"). Labels with more than two distinct values are a ValueError.
class F1 : public EvalMetric {
 public:
  // average is "macro" or "micro" (ValueError otherwise).
  explicit F1(const std::string& average = "macro", std::string name = "f1");
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
  void Reset() override;

 private:
  // precision/recall/F1 of the current counts (0 where undefined).
  double FScore() const;

  bool micro_;
  double true_positives_ = 0, false_positives_ = 0, false_negatives_ = 0, true_negatives_ = 0;
};

// The kind of per-pair error a regression metric averages.
enum class RegressionError { kAbsolute, kSquared, kRootSquared };

// Mean absolute / squared / root-mean-squared error per (label, pred) pair, 1-D arrays taken as columns and
// the difference broadcast as NumPy does. Use the MAE, MSE and RMSE classes.
class RegressionMetric : public EvalMetric {
 public:
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 protected:
  RegressionMetric(RegressionError error, std::string name) : EvalMetric(std::move(name)), error_(error) {}

 private:
  RegressionError error_;
};

// Mean absolute error (name "mae").
class MAE : public RegressionMetric {
 public:
  explicit MAE(std::string name = "mae") : RegressionMetric(RegressionError::kAbsolute, std::move(name)) {}
};

// Mean squared error (name "mse").
class MSE : public RegressionMetric {
 public:
  explicit MSE(std::string name = "mse") : RegressionMetric(RegressionError::kSquared, std::move(name)) {}
};

// Root mean squared error (name "rmse").
class RMSE : public RegressionMetric {
 public:
  explicit RMSE(std::string name = "rmse") : RegressionMetric(RegressionError::kRootSquared, std::move(name)) {}
};

// Mean of -log(p + eps), p the 2-D prediction's probability of each sample's label.
class CrossEntropy : public EvalMetric {
 public:
  explicit CrossEntropy(double eps = 1e-12, std::string name = "cross-entropy")
      : EvalMetric(std::move(name)), eps_(eps) {}
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;

 private:
  double eps_;
};

// exp of the mean of -log(max(p, 1e-10)), p the prediction's probability (picked along `axis`, labels
// clipped into range) of each label other than ignore_label.
class Perplexity : public EvalMetric {
 public:
  explicit Perplexity(std::optional<int64_t> ignore_label, int axis = -1, std::string name = "perplexity")
      : EvalMetric(std::move(name)), ignore_label_(ignore_label), axis_(axis) {}
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
  std::pair<std::vector<std::string>, std::vector<double>> Get() const override;

 private:
  std::optional<int64_t> ignore_label_;
  int axis_;
};

// The mean of every element of the predictions (labels are ignored): for printing a loss.
class Loss : public EvalMetric {
 public:
  explicit Loss(std::string name = "loss") : EvalMetric(std::move(name)) {}
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
};

// Several metrics updated together; Get() concatenates their names and values.
class CompositeEvalMetric : public EvalMetric {
 public:
  explicit CompositeEvalMetric(std::string name = "composite") : EvalMetric(std::move(name)) {}
  // Adds a child (shared: updating the composite updates it).
  void Add(std::shared_ptr<EvalMetric> metric);
  // The children, in order.
  const std::vector<std::shared_ptr<EvalMetric>>& metrics() const { return metrics_; }
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) override;
  void Reset() override;
  std::pair<std::vector<std::string>, std::vector<double>> Get() const override;

 private:
  std::vector<std::shared_ptr<EvalMetric>> metrics_;
};

// Creates a metric by MXNet's registered name or alias ("accuracy"/"acc", "top_k_accuracy"/"top_k_acc"/
// "topkaccuracy", "f1", "mae", "mse", "rmse", "crossentropy"/"ce", "perplexity", "loss",
// "composite"/"compositeevalmetric"; case-insensitive) with string keyword arguments (name, axis, top_k,
// average, eps, ignore_label). ValueError for an unknown name or parameter, or a bad value.
std::unique_ptr<EvalMetric> CreateMetric(const std::string& name, const KwArgs& kwargs = {});

// The registered metric names and aliases, sorted.
std::vector<std::string> MetricNames();

}  // namespace optim
}  // namespace pmx

#endif  // POLYMIX_CORE_OPTIM_METRIC_H_
