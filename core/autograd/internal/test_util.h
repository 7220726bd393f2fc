// Helpers for the autograd tests: float64 arrays to and from vectors, and central finite differences.
#ifndef POLYMIX_CORE_AUTOGRAD_INTERNAL_TEST_UTIL_H_
#define POLYMIX_CORE_AUTOGRAD_INTERNAL_TEST_UTIL_H_

#include <cmath>
#include <functional>
#include <vector>

#include "core/array/ndarray.h"
#include "core/autograd/autograd.h"
#include "gtest/gtest.h"

namespace pmx {
namespace autograd {
namespace testing {

// A float64 array of `shape` holding `values`.
inline NDArray Array(const std::vector<double>& values, const Shape& shape) {
  return NDArray::FromHostBuffer(values.data(), values.size() * sizeof(double), shape, DType::kFloat64);
}

// Deterministic, irregular float64 values in [low, high).
inline std::vector<double> Values(int64_t count, double low, double high, int seed) {
  std::vector<double> values;
  for (int64_t i = 0; i < count; ++i) {
    const double unit = std::fmod(std::abs(std::sin(12.9898 * (i + 1) + 78.233 * seed)) * 43758.5453, 1.0);
    values.push_back(low + (high - low) * unit);
  }
  return values;
}

// The elements of a float64 (or float32) array, waiting for pending work.
inline std::vector<double> ToVector(const NDArray& array) {
  if (array.dtype() == DType::kFloat32) {
    std::vector<float> values(array.size());
    array.CopyToHost(values.data(), values.size() * sizeof(float));
    return std::vector<double>(values.begin(), values.end());
  }
  std::vector<double> values(array.size());
  array.CopyToHost(values.data(), values.size() * sizeof(double));
  return values;
}

// The single element of a one-element array.
inline double Scalar(const NDArray& array) { return ToVector(array).at(0); }

// The sum of all elements of an array.
inline double Total(const NDArray& array) {
  double total = 0;
  for (double value : ToVector(array)) total += value;
  return total;
}

// Central differences of the scalar function `f` of several float64 arrays, with respect to argument `which`.
// `f` runs with recording off.
inline std::vector<double> FiniteDifference(const std::function<double(const std::vector<NDArray>&)>& f,
                                            const std::vector<NDArray>& arguments, int which, double eps = 1e-6) {
  PauseScope pause;
  std::vector<double> base = ToVector(arguments[which]);
  std::vector<double> gradient(base.size());
  for (size_t i = 0; i < base.size(); ++i) {
    std::vector<NDArray> moved = arguments;
    std::vector<double> values = base;
    values[i] = base[i] + eps;
    moved[which] = Array(values, arguments[which].shape());
    const double plus = f(moved);
    values[i] = base[i] - eps;
    moved[which] = Array(values, arguments[which].shape());
    const double minus = f(moved);
    gradient[i] = (plus - minus) / (2 * eps);
  }
  return gradient;
}

// Expects two vectors to agree elementwise within a tolerance relative to the larger magnitude.
inline void ExpectClose(const std::vector<double>& actual, const std::vector<double>& expected, double tolerance,
                        const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double scale = std::max(1.0, std::max(std::abs(actual[i]), std::abs(expected[i])));
    EXPECT_NEAR(actual[i], expected[i], tolerance * scale) << what << " element " << i;
  }
}

}  // namespace testing
}  // namespace autograd
}  // namespace pmx

#endif  // POLYMIX_CORE_AUTOGRAD_INTERNAL_TEST_UTIL_H_
