// Pooling and _pooling_backward where the C ABI's op calls cannot reach: the accumulating write mode
// (WriteMode::kAdd, gradient accumulation) on every kernel path (oneDNN, the 2x2 max-pooling gradient, the
// generic loops in float32/float64 and in float for 16-bit types), and bfloat16. Values are checked in
// tests/ops/test_pooling_extra.py against NumPy.
#include <cmath>
#include <string>
#include <vector>

#include "core/ops/invoke.h"
#include "gtest/gtest.h"

namespace pmx {
namespace {

std::vector<double> Read(const NDArray& array) {
  std::vector<double> values(array.size());
  const NDArray wide = array.AsType(DType::kFloat64);
  wide.CopyToHost(values.data(), wide.nbytes());
  return values;
}

NDArray Make(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return NDArray::FromHostBuffer(values.data(), shape, DType::kFloat64).AsType(dtype);
}

// Data with many ties (values from {-1, 0, 1, 2}) and exactly representable gradients (multiples of 1/8),
// so 16-bit runs route and sum exactly like float64 ones.
std::vector<double> Tied(int64_t size, int salt) {
  std::vector<double> values(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) values[i] = static_cast<double>((i * 7 + salt * 3 + i / 5) % 4) - 1;
  return values;
}
std::vector<double> Eighths(int64_t size) {
  std::vector<double> values(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) values[i] = static_cast<double>((i * 5) % 17 - 8) / 8;
  return values;
}

// Pooling's output and _pooling_backward's result for data of `shape` in `dtype`.
struct Pass {
  NDArray x, y, dy, dx;
};

Pass RunBoth(const Shape& shape, const ParamMap& params, DType dtype) {
  Pass pass;
  pass.x = Make(Tied(shape.size(), 1), shape, dtype);
  pass.y = Invoke("Pooling", {pass.x}, params)[0];
  pass.dy = Make(Eighths(pass.y.size()), pass.y.shape(), dtype);
  pass.dx = Invoke("_pooling_backward", {pass.dy, pass.x, pass.y}, params)[0];
  return pass;
}

// Runs `op` again adding into an output holding 1 everywhere: the result must be the plain one plus 1.
void CheckAdds(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params,
               const NDArray& plain, DType dtype, const std::string& what) {
  InvokeOptions options;
  options.outputs = {NDArray::Full(plain.shape(), 1.0, dtype)};
  options.modes = {WriteMode::kAdd};
  const OpDef& def = OpRegistry::Get()->Lookup(op);
  Invoke(def, inputs, def.ParseParams(params), options);
  const std::vector<double> want = Read(plain), got = Read(options.outputs[0]);
  ASSERT_EQ(got.size(), want.size());
  const double tolerance = dtype == DType::kBfloat16 ? 1e-2 : dtype == DType::kFloat16 ? 1e-3 : 1e-6;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i] + 1, tolerance * (1 + std::abs(want[i]))) << op << " " << what << " at " << i;
  }
}

struct Setting {
  Shape shape;
  ParamMap params;
};

std::vector<Setting> Settings() {
  return {
      {Shape({2, 3, 6, 8}), {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}}},  // oneDNN forward, 2x2 gradient.
      {Shape({2, 3, 7, 5}), {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pooling_convention", "full"}}},
      {Shape({2, 3, 6, 7}), {{"kernel", "(3, 3)"}, {"stride", "(1, 2)"}, {"pad", "(1, 1)"}}},
      {Shape({2, 6, 7, 3}), {{"kernel", "(3, 2)"}, {"stride", "(1, 2)"}, {"pad", "(1, 0)"}, {"layout", "NHWC"}}},
      {Shape({1, 2, 4, 5, 6}), {{"kernel", "(2, 3, 2)"}, {"stride", "(1, 2, 2)"}, {"pad", "(1, 1, 0)"}}},
      {Shape({2, 3, 9}), {{"kernel", "(3,)"}, {"stride", "(2,)"}, {"pool_type", "avg"}, {"pad", "(1,)"}}},
      {Shape({2, 3, 6, 7}),
       {{"kernel", "(3, 3)"}, {"stride", "(2, 2)"}, {"pool_type", "avg"}, {"pooling_convention", "full"}}},
      {Shape({2, 9, 3}), {{"kernel", "(2,)"}, {"pool_type", "sum"}, {"layout", "NWC"}}},
      {Shape({2, 3, 5, 6}), {{"kernel", "(2, 2)"}, {"pool_type", "lp"}, {"p_value", "2"}}},
  };
}

TEST(PoolingWriteModeTest, ForwardAndGradientAddIntoTheirOutputs) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBfloat16}) {
    for (const Setting& s : Settings()) {
      const std::string what = std::string(DTypeName(dtype)) + " " + s.shape.ToString();
      const Pass pass = RunBoth(s.shape, s.params, dtype);
      CheckAdds("Pooling", {pass.x}, s.params, pass.y, dtype, what);
      CheckAdds("_pooling_backward", {pass.dy, pass.x, pass.y}, s.params, pass.dx, dtype, what);
    }
  }
}

// Tied data and gradients in eighths are exact in every float dtype, so max and sum pooling's gradients must
// agree exactly across dtypes: the same elements win the ties and receive the same sums.
TEST(PoolingDTypeTest, SixteenBitGradientsMatchFloat64) {
  for (const Setting& s : Settings()) {
    const std::string type = s.params.count("pool_type") ? s.params.at("pool_type") : "max";
    if (type != "max" && type != "sum") continue;
    const std::vector<double> want = Read(RunBoth(s.shape, s.params, DType::kFloat64).dx);
    for (DType dtype : {DType::kFloat32, DType::kFloat16, DType::kBfloat16}) {
      const std::vector<double> got = Read(RunBoth(s.shape, s.params, dtype).dx);
      ASSERT_EQ(got.size(), want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i], want[i]) << DTypeName(dtype) << " " << s.shape.ToString() << " at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace pmx
