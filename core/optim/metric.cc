#include "core/optim/metric.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/error.h"
#include "core/ops/invoke.h"

namespace pmx {
namespace optim {
namespace {

// The elements of `array` as doubles (waits for pending work, as asnumpy() does).
std::vector<double> HostValues(const NDArray& array) {
  std::vector<double> values(array.size());
  if (values.empty()) return values;
  const NDArray host = array.device().is_host() ? array : array.CopyTo(Device::cpu());
  const NDArray source = host.dtype() == DType::kFloat64 ? host : host.AsType(DType::kFloat64);
  source.CopyToHost(values.data(), values.size() * sizeof(double));
  return values;
}

// The arg-max along `axis`, computed on the host (the values are read back there anyway, as asnumpy()).
NDArray HostArgMax(const NDArray& array, int axis) {
  const NDArray host = array.device().is_host() ? array : array.CopyTo(Device::cpu());
  return Invoke1("argmax", {host}, {{"axis", std::to_string(axis)}});
}

// NumPy's astype('int32') of a real (truncation toward zero).
int64_t Truncate(double value) { return static_cast<int64_t>(std::trunc(value)); }

// Dimensions of `shape` as a vector.
std::vector<int64_t> DimsOf(const Shape& shape) {
  std::vector<int64_t> dims;
  for (int i = 0; i < shape.ndim(); ++i) dims.push_back(shape[i]);
  return dims;
}

// Applies `visit(a_index, b_index)` to every element of NumPy's broadcast of dims `a` and `b` (row-major);
// ValueError naming `where` when they do not broadcast. Returns the broadcast size.
int64_t ForEachBroadcast(const std::string& where, const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                         const std::function<void(int64_t, int64_t)>& visit) {
  const size_t ndim = std::max(a.size(), b.size());
  std::vector<int64_t> da(ndim, 1), db(ndim, 1), out(ndim);
  std::copy(a.begin(), a.end(), da.begin() + (ndim - a.size()));
  std::copy(b.begin(), b.end(), db.begin() + (ndim - b.size()));
  int64_t total = 1;
  for (size_t i = 0; i < ndim; ++i) {
    PMX_CHECK(da[i] == db[i] || da[i] == 1 || db[i] == 1, kValueError,
              "%s labels of shape (%s) and predictions of shape (%s) do not broadcast", where,
              absl::StrJoin(a, ", "), absl::StrJoin(b, ", "));
    out[i] = std::max(da[i], db[i]);
    total *= out[i];
  }
  std::vector<int64_t> index(ndim, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t ia = 0, ib = 0;
    for (size_t i = 0; i < ndim; ++i) {
      ia = ia * da[i] + (da[i] == 1 ? 0 : index[i]);
      ib = ib * db[i] + (db[i] == 1 ? 0 : index[i]);
    }
    visit(ia, ib);
    for (size_t i = ndim; i-- > 0;) {
      if (++index[i] < out[i]) break;
      index[i] = 0;
    }
  }
  return total;
}

}  // namespace

void EvalMetric::Reset() {
  sum_metric_ = 0;
  num_inst_ = 0;
}

std::pair<std::vector<std::string>, std::vector<double>> EvalMetric::Get() const {
  const double value = num_inst_ == 0 ? std::numeric_limits<double>::quiet_NaN() : sum_metric_ / num_inst_;
  return {{name_}, {value}};
}

void EvalMetric::CheckCounts(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) const {
  PMX_CHECK(labels.size() == preds.size(), kValueError,
            "%s expected as many labels as predictions, given %d label(s) and %d prediction(s)", Where(),
            static_cast<int>(labels.size()), static_cast<int>(preds.size()));
}

void Accuracy::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCounts(labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    NDArray pred = preds[i];
    if (!(pred.shape() == labels[i].shape())) pred = HostArgMax(pred, axis_);
    const std::vector<double> predicted = HostValues(pred);
    const std::vector<double> label = HostValues(labels[i]);
    PMX_CHECK(predicted.size() == label.size(), kValueError,
              "%s %d predicted classes (from predictions of shape %s) for %d labels", Where(),
              static_cast<int>(predicted.size()), preds[i].shape().ToString(), static_cast<int>(label.size()));
    for (size_t j = 0; j < label.size(); ++j) sum_metric_ += Truncate(predicted[j]) == Truncate(label[j]) ? 1 : 0;
    num_inst_ += static_cast<double>(label.size());
  }
}

TopKAccuracy::TopKAccuracy(int top_k, std::string name) : EvalMetric(std::move(name)), top_k_(top_k) {
  PMX_CHECK(top_k > 1, kValueError, "[metric top_k_accuracy] top_k must be > 1 (use Accuracy for 1), given %d",
            top_k);
  name_ += absl::StrFormat("_%d", top_k);
}

void TopKAccuracy::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCounts(labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const Shape& shape = preds[i].shape();
    PMX_CHECK(shape.ndim() == 2, kValueError,
              "%s predictions must be 2-D (samples, classes), given shape %s", Where(), shape.ToString());
    const int64_t samples = shape[0], classes = shape[1];
    const std::vector<double> scores = HostValues(preds[i]);
    const std::vector<double> label = HostValues(labels[i]);
    PMX_CHECK(static_cast<int64_t>(label.size()) == samples, kValueError,
              "%s %d label(s) for predictions of shape %s", Where(), static_cast<int>(label.size()),
              shape.ToString());
    const int64_t k = std::min<int64_t>(classes, top_k_);
    std::vector<int64_t> order(classes);
    for (int64_t s = 0; s < samples; ++s) {
      const double* row = scores.data() + s * classes;
      for (int64_t c = 0; c < classes; ++c) order[c] = c;
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [row](int64_t a, int64_t b) { return row[a] > row[b] || (row[a] == row[b] && a > b); });
      const int64_t target = Truncate(label[s]);
      sum_metric_ += std::find(order.begin(), order.begin() + k, target) != order.begin() + k ? 1 : 0;
    }
    num_inst_ += static_cast<double>(samples);
  }
}

F1::F1(const std::string& average, std::string name) : EvalMetric(std::move(name)), micro_(average == "micro") {
  PMX_CHECK(average == "macro" || average == "micro", kValueError,
            "[metric f1] average must be 'macro' or 'micro', given '%s'", average);
}

double F1::FScore() const {
  const double precision = true_positives_ + false_positives_ > 0
                               ? true_positives_ / (true_positives_ + false_positives_) : 0;
  const double recall = true_positives_ + false_negatives_ > 0
                            ? true_positives_ / (true_positives_ + false_negatives_) : 0;
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
}

void F1::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCounts(labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const Shape& shape = preds[i].shape();
    PMX_CHECK(shape.ndim() == 2, kValueError, "%s predictions must be 2-D (samples, classes), given shape %s",
              Where(), shape.ToString());
    const std::vector<double> predicted = HostValues(HostArgMax(preds[i], 1));
    const std::vector<double> label = HostValues(labels[i]);
    PMX_CHECK(label.size() == predicted.size(), kValueError, "%s %d label(s) for predictions of shape %s", Where(),
              static_cast<int>(label.size()), shape.ToString());
    std::set<int64_t> classes;
    for (double value : label) classes.insert(Truncate(value));
    PMX_CHECK(classes.size() <= 2, kValueError,
              "%s F1 supports only binary classification, given labels with %d distinct values", Where(),
              static_cast<int>(classes.size()));
    for (size_t j = 0; j < label.size(); ++j) {
      const bool predicted_true = Truncate(predicted[j]) == 1, label_true = Truncate(label[j]) == 1;
      true_positives_ += predicted_true && label_true;
      false_positives_ += predicted_true && !label_true;
      false_negatives_ += !predicted_true && label_true;
      true_negatives_ += !predicted_true && !label_true;
    }
  }
  if (!micro_) {
    sum_metric_ += FScore();
    num_inst_ += 1;
    true_positives_ = false_positives_ = false_negatives_ = true_negatives_ = 0;
  } else {
    const double total = true_positives_ + false_positives_ + false_negatives_ + true_negatives_;
    sum_metric_ = FScore() * total;
    num_inst_ = total;
  }
}

void F1::Reset() {
  EvalMetric::Reset();
  true_positives_ = false_positives_ = false_negatives_ = true_negatives_ = 0;
}

void RegressionMetric::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCounts(labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<int64_t> label_dims = DimsOf(labels[i].shape()), pred_dims = DimsOf(preds[i].shape());
    if (label_dims.size() == 1) label_dims.push_back(1);
    if (pred_dims.size() == 1) pred_dims.push_back(1);
    const std::vector<double> label = HostValues(labels[i]);
    const std::vector<double> pred = HostValues(preds[i]);
    double total = 0;
    const bool absolute = error_ == RegressionError::kAbsolute;
    const int64_t count = ForEachBroadcast(Where(), label_dims, pred_dims, [&](int64_t a, int64_t b) {
      const double difference = label[a] - pred[b];
      total += absolute ? std::fabs(difference) : difference * difference;
    });
    const double mean = count == 0 ? std::numeric_limits<double>::quiet_NaN() : total / static_cast<double>(count);
    sum_metric_ += error_ == RegressionError::kRootSquared ? std::sqrt(mean) : mean;
    num_inst_ += 1;
  }
}

void CrossEntropy::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCounts(labels, preds);
  for (size_t i = 0; i < labels.size(); ++i) {
    const Shape& shape = preds[i].shape();
    PMX_CHECK(shape.ndim() == 2, kValueError, "%s predictions must be 2-D (samples, classes), given shape %s",
              Where(), shape.ToString());
    const std::vector<double> label = HostValues(labels[i]);
    const std::vector<double> pred = HostValues(preds[i]);
    PMX_CHECK(static_cast<int64_t>(label.size()) == shape[0], kValueError,
              "%s %d label(s) for predictions of shape %s", Where(), static_cast<int>(label.size()),
              shape.ToString());
    for (size_t s = 0; s < label.size(); ++s) {
      int64_t target = Truncate(label[s]);
      if (target < 0) target += shape[1];  // NumPy's negative indexing.
      PMX_CHECK(target >= 0 && target < shape[1], kIndexError, "%s label %g is out of range for %d classes",
                Where(), label[s], static_cast<int>(shape[1]));
      sum_metric_ += -std::log(pred[s * shape[1] + target] + eps_);
    }
    num_inst_ += static_cast<double>(label.size());
  }
}

void Perplexity::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  CheckCounts(labels, preds);
  double loss = 0, count = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const Shape& shape = preds[i].shape();
    PMX_CHECK(shape.ndim() >= 1, kValueError, "%s predictions must have a class axis, given a scalar", Where());
    const int axis = NormalizeAxis(axis_, shape.ndim(), "metric perplexity");
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= shape[d];
    for (int d = axis + 1; d < shape.ndim(); ++d) inner *= shape[d];
    const int64_t classes = shape[axis];
    const std::vector<double> label = HostValues(labels[i]);
    const std::vector<double> pred = HostValues(preds[i]);
    PMX_CHECK(static_cast<int64_t>(label.size()) == outer * inner, kValueError,
              "%s %d label(s) for predictions of shape %s: expected one per position along axis %d", Where(),
              static_cast<int>(label.size()), shape.ToString(), axis);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t in = 0; in < inner; ++in) {
        const double value = label[o * inner + in];
        if (ignore_label_ && value == static_cast<double>(*ignore_label_)) continue;
        // pick's default mode 'clip' clamps out-of-range labels into [0, classes).
        const int64_t target = std::min<int64_t>(std::max<int64_t>(Truncate(value), 0), classes - 1);
        loss -= std::log(std::max(1e-10, pred[(o * classes + target) * inner + in]));
        count += 1;
      }
    }
  }
  sum_metric_ += loss;
  num_inst_ += count;
}

std::pair<std::vector<std::string>, std::vector<double>> Perplexity::Get() const {
  const double value =
      num_inst_ == 0 ? std::numeric_limits<double>::quiet_NaN() : std::exp(sum_metric_ / num_inst_);
  return {{name_}, {value}};
}

void Loss::Update(const std::vector<NDArray>&, const std::vector<NDArray>& preds) {
  for (const NDArray& pred : preds) {
    for (double value : HostValues(pred)) sum_metric_ += value;
    num_inst_ += static_cast<double>(pred.size());
  }
}

void CompositeEvalMetric::Add(std::shared_ptr<EvalMetric> metric) {
  PMX_CHECK(metric != nullptr, kValueError, "%s cannot add a null metric", Where());
  PMX_CHECK(metric.get() != this, kValueError, "%s cannot add itself", Where());
  metrics_.push_back(std::move(metric));
}

void CompositeEvalMetric::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  for (const auto& metric : metrics_) metric->Update(labels, preds);
}

void CompositeEvalMetric::Reset() {
  for (const auto& metric : metrics_) metric->Reset();
}

std::pair<std::vector<std::string>, std::vector<double>> CompositeEvalMetric::Get() const {
  std::pair<std::vector<std::string>, std::vector<double>> result;
  for (const auto& metric : metrics_) {
    auto [names, values] = metric->Get();
    result.first.insert(result.first.end(), names.begin(), names.end());
    result.second.insert(result.second.end(), values.begin(), values.end());
  }
  return result;
}

namespace {

// Builds a metric from its keyword arguments.
using Builder = std::function<std::unique_ptr<EvalMetric>(KwArgsReader&)>;

const std::map<std::string, Builder>& Registry() {
  auto accuracy = [](KwArgsReader& args) {
    const int axis = static_cast<int>(args.Int("axis", 1));
    return std::make_unique<Accuracy>(axis, args.Str("name", "accuracy"));
  };
  auto top_k = [](KwArgsReader& args) {
    const int k = static_cast<int>(args.Int("top_k", 1));
    return std::make_unique<TopKAccuracy>(k, args.Str("name", "top_k_accuracy"));
  };
  auto cross_entropy = [](KwArgsReader& args) {
    const double eps = args.Float("eps", 1e-12);
    return std::make_unique<CrossEntropy>(eps, args.Str("name", "cross-entropy"));
  };
  auto composite = [](KwArgsReader& args) { return std::make_unique<CompositeEvalMetric>(args.Str("name", "composite")); };
  static const auto* registry = new std::map<std::string, Builder>{
      {"accuracy", accuracy},
      {"acc", accuracy},
      {"topkaccuracy", top_k},
      {"top_k_accuracy", top_k},
      {"top_k_acc", top_k},
      {"f1",
       [](KwArgsReader& args) {
         const std::string average = args.Str("average", "macro");
         return std::make_unique<F1>(average, args.Str("name", "f1"));
       }},
      {"mae", [](KwArgsReader& args) { return std::make_unique<MAE>(args.Str("name", "mae")); }},
      {"mse", [](KwArgsReader& args) { return std::make_unique<MSE>(args.Str("name", "mse")); }},
      {"rmse", [](KwArgsReader& args) { return std::make_unique<RMSE>(args.Str("name", "rmse")); }},
      {"crossentropy", cross_entropy},
      {"ce", cross_entropy},
      {"perplexity",
       [](KwArgsReader& args) {
         const std::optional<int64_t> ignore = args.OptionalInt("ignore_label", std::nullopt);
         const int axis = static_cast<int>(args.Int("axis", -1));
         return std::make_unique<Perplexity>(ignore, axis, args.Str("name", "perplexity"));
       }},
      {"loss", [](KwArgsReader& args) { return std::make_unique<Loss>(args.Str("name", "loss")); }},
      {"composite", composite},
      {"compositeevalmetric", composite},
  };
  return *registry;
}

}  // namespace

std::unique_ptr<EvalMetric> CreateMetric(const std::string& name, const KwArgs& kwargs) {
  const std::string key = absl::AsciiStrToLower(name);
  auto it = Registry().find(key);
  PMX_CHECK(it != Registry().end(), kValueError, "[metric] unknown metric '%s': expected one of %s", name,
            absl::StrJoin(MetricNames(), ", "));
  KwArgsReader reader("[metric " + key + "]", kwargs);
  std::unique_ptr<EvalMetric> metric = it->second(reader);
  reader.Finish();
  return metric;
}

std::vector<std::string> MetricNames() {
  std::vector<std::string> names;
  for (const auto& entry : Registry()) names.push_back(entry.first);
  return names;
}

}  // namespace optim
}  // namespace pmx
