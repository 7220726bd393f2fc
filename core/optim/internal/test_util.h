// Helpers for the optim tests: arrays from and to vectors, deterministic values, closeness checks.
#ifndef POLYMIX_CORE_OPTIM_INTERNAL_TEST_UTIL_H_
#define POLYMIX_CORE_OPTIM_INTERNAL_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/array/ndarray.h"
#include "gtest/gtest.h"

namespace pmx {
namespace optim {
namespace testing {

// An array of `shape` and `dtype` holding `values` (converted from float64).
inline NDArray Array(const std::vector<double>& values, const Shape& shape, DType dtype = DType::kFloat64) {
  NDArray array = NDArray::FromHostBuffer(values.data(), values.size() * sizeof(double), shape, DType::kFloat64);
  return dtype == DType::kFloat64 ? array : array.AsType(dtype);
}

// The elements of any array as doubles, waiting for pending work.
inline std::vector<double> ToVector(const NDArray& array) {
  std::vector<double> values(array.size());
  const NDArray source = array.dtype() == DType::kFloat64 ? array : array.AsType(DType::kFloat64);
  source.CopyToHost(values.data(), values.size() * sizeof(double));
  return values;
}

// Deterministic, irregular values in [low, high).
inline std::vector<double> Values(int64_t count, double low, double high, int seed) {
  std::vector<double> values;
  for (int64_t i = 0; i < count; ++i) {
    const double unit = std::fmod(std::abs(std::sin(12.9898 * (i + 1) + 78.233 * seed)) * 43758.5453, 1.0);
    values.push_back(low + (high - low) * unit);
  }
  return values;
}

// Expects two vectors to agree elementwise within `tolerance` relative to max(1, |value|).
inline void ExpectClose(const std::vector<double>& actual, const std::vector<double>& expected, double tolerance,
                        const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double scale = std::max(1.0, std::max(std::abs(actual[i]), std::abs(expected[i])));
    EXPECT_NEAR(actual[i], expected[i], tolerance * scale) << what << " at " << i;
  }
}

}  // namespace testing
}  // namespace optim
}  // namespace pmx

#endif  // POLYMIX_CORE_OPTIM_INTERNAL_TEST_UTIL_H_
