// Helpers for the graph-execution tests: arrays from and to vectors, seeded random arrays, closeness checks,
// and the imperative reference: a symbol evaluated node by node with pmx::Invoke (or autograd::Invoke).
#ifndef POLYMIX_CORE_GRAPH_INTERNAL_EXEC_TEST_UTIL_H_
#define POLYMIX_CORE_GRAPH_INTERNAL_EXEC_TEST_UTIL_H_

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/array/ndarray.h"
#include "core/graph/symbol.h"
#include "core/ops/invoke.h"
#include "gtest/gtest.h"

namespace pmx {
namespace graph {
namespace testing {

// A float32 (or `dtype`) array holding `values`.
inline NDArray FromVector(const std::vector<double>& values, const Shape& shape, DType dtype = DType::kFloat32) {
  std::vector<double> copy = values;
  return NDArray::FromHostBuffer(copy.data(), shape, DType::kFloat64).AsType(dtype);
}

// The elements of `array` as doubles (waits for pending writes).
inline std::vector<double> ToVector(const NDArray& array) {
  const NDArray converted = array.dtype() == DType::kFloat64 ? array : array.AsType(DType::kFloat64);
  std::vector<double> values(array.size());
  converted.CopyToHost(values.data(), values.size() * sizeof(double));
  return values;
}

// An array of uniform values in [low, high) drawn from a generator seeded with `seed`.
inline NDArray RandomArray(const Shape& shape, uint32_t seed, double low = -1, double high = 1,
                           DType dtype = DType::kFloat32) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<double> uniform(low, high);
  std::vector<double> values(shape.size());
  for (double& value : values) value = uniform(generator);
  return FromVector(values, shape, dtype);
}

// Expects |a - b| <= atol + rtol * |b| elementwise, naming `what` and the first differing index.
inline void ExpectClose(const NDArray& actual, const NDArray& expected, double rtol, double atol,
                        const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  const std::vector<double> a = ToVector(actual), b = ToVector(expected);
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(std::abs(a[i] - b[i]) <= atol + rtol * std::abs(b[i]))) {
      ADD_FAILURE() << what << ": element " << i << " is " << a[i] << ", expected " << b[i];
      return;
    }
  }
}

// How the reference runs one operator: (op, inputs, params) -> all outputs.
using InvokeFn = std::function<std::vector<NDArray>(const OpDef& op, const std::vector<NDArray>& inputs,
                                                    const OpParams& params)>;

// pmx::Invoke in training mode `is_train`.
inline InvokeFn PlainInvoke(bool is_train) {
  return [is_train](const OpDef& op, const std::vector<NDArray>& inputs, const OpParams& params) {
    InvokeOptions options;
    options.is_train = is_train;
    return Invoke(op, inputs, params, options);
  };
}

// Evaluates `symbol` node by node in topological order, variables from `values` by name; returns its outputs.
inline std::vector<NDArray> EvaluateImperatively(const Symbol& symbol, const std::map<std::string, NDArray>& values,
                                                 const InvokeFn& invoke) {
  std::unordered_map<const Node*, std::vector<NDArray>> results;
  for (const auto& node : TopologicalOrder(symbol.outputs())) {
    if (node->is_variable()) {
      auto found = values.find(node->name);
      if (found == values.end()) {
        ADD_FAILURE() << "no value for variable " << node->name;
        return {};
      }
      results[node.get()] = {found->second};
      continue;
    }
    std::vector<NDArray> inputs;
    for (const NodeEntry& input : node->inputs) inputs.push_back(results.at(input.node.get()).at(input.index));
    results[node.get()] = invoke(*node->op, inputs, node->parsed);
  }
  std::vector<NDArray> outputs;
  for (const NodeEntry& output : symbol.outputs()) outputs.push_back(results.at(output.node.get()).at(output.index));
  return outputs;
}

// sum(head * output 0 of `symbol`) evaluated imperatively (predict mode) from `values`, in float64.
inline double Objective(const Symbol& symbol, const std::map<std::string, NDArray>& values, const NDArray& head) {
  const std::vector<double> out = ToVector(EvaluateImperatively(symbol, values, PlainInvoke(false))[0]);
  const std::vector<double> h = ToVector(head);
  double total = 0;
  for (size_t i = 0; i < out.size(); ++i) total += out[i] * h[i];
  return total;
}

// Central finite differences of Objective with respect to variable `name` (computed in float64).
inline std::vector<double> NumericGradient(const Symbol& symbol, std::map<std::string, NDArray> values,
                                           const NDArray& head, const std::string& name, double step = 1e-6) {
  for (auto& [key, value] : values) value = value.AsType(DType::kFloat64);
  std::vector<double> x = ToVector(values[name]);
  std::vector<double> grad(x.size());
  const Shape shape = values[name].shape();
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + step;
    values[name] = FromVector(x, shape, DType::kFloat64);
    const double plus = Objective(symbol, values, head);
    x[i] = saved - step;
    values[name] = FromVector(x, shape, DType::kFloat64);
    const double minus = Objective(symbol, values, head);
    x[i] = saved;
    grad[i] = (plus - minus) / (2 * step);
  }
  return grad;
}

// A variable symbol.
inline Symbol Var(const std::string& name) { return Symbol::Variable(name); }

// Calls `op` on positional inputs (missing ones become variables named "<name>_<input>").
inline Symbol Call(const std::string& op, const std::vector<Symbol>& inputs, const ParamMap& params = {},
                   const std::string& name = "") {
  return Symbol::Create(op, inputs, {}, params, name);
}

}  // namespace testing
}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_INTERNAL_EXEC_TEST_UTIL_H_
