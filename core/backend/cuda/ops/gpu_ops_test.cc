// The GPU operator kernels against the CPU kernels (themselves checked against NumPy by tests/ops): every
// case runs one op through pmx::Invoke on cpu() and on gpu(0) with the same inputs and parameters, for
// each dtype the op accepts, in kWrite and in kAdd mode, and compares the results. The cases that need a
// GPU skip themselves on machines without one; the registration test runs everywhere.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/backend/cuda/ops/elementwise_table.h"
#include "core/backend/gpu_runtime.h"
#include "core/base/error.h"
#include "core/ops/invoke.h"
#include "core/ops/op.h"

namespace pmx {
namespace {

constexpr DType kFloats[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBfloat16};
constexpr DType kIntegers[] = {DType::kUint8, DType::kInt8, DType::kInt32, DType::kInt64};

// The dtypes of a table row's class (elementwise_table.h): kFloat, kNumeric or kAll.
enum Class { kFloat, kNumeric, kAll };

std::vector<DType> DTypesOf(Class dtypes) {
  std::vector<DType> list(std::begin(kFloats), std::end(kFloats));
  if (dtypes != kFloat) list.insert(list.end(), std::begin(kIntegers), std::end(kIntegers));
  if (dtypes == kAll) list.push_back(DType::kBool);
  return list;
}

bool IsFloat(DType dtype) {
  return dtype == DType::kFloat32 || dtype == DType::kFloat64 || dtype == DType::kFloat16 ||
         dtype == DType::kBfloat16;
}

// Values of an input, before conversion to its dtype.
enum class Domain {
  kReal,       // Uniform in [-3, 3] (integers: whole numbers in [-20, 20], uint8 [0, 40]).
  kPositive,   // (0.1, 4] (integers: [1, 9]).
  kUnit,       // (-0.95, 0.95) (integers: -1, 0, 1 would hit the poles: [0, 0]).
  kAboveOne,   // [1, 4].
  kHalves,     // Multiples of 0.5 in [-4, 4]: rounding ties (integers: [-4, 4]).
  kSmallInts,  // Whole numbers in [-3, 3]: equal values for comparisons (uint8: [0, 3]).
  kNonZero,    // [0.5, 3] with a random sign (integers: [1, 9] with a sign): safe divisors.
  kNearOne,    // [0.8, 1.2] (integers: 1 or 2): products that stay finite.
  kExponent,   // Multiples of 0.5 in [-2, 2] (integers: [0, 3]): powers that fit every integer type.
};

std::vector<double> Values(Domain domain, DType dtype, int64_t count, uint32_t seed) {
  std::mt19937 random(seed);
  auto uniform = [&](double low, double high) { return std::uniform_real_distribution<double>(low, high)(random); };
  auto whole = [&](int low, int high) { return static_cast<double>(std::uniform_int_distribution<int>(low, high)(random)); };
  const bool integer = !IsFloat(dtype);
  const bool unsigned_type = dtype == DType::kUint8 || dtype == DType::kBool;
  std::vector<double> values(count);
  for (double& value : values) {
    if (dtype == DType::kBool) {
      value = whole(0, 1);
      continue;
    }
    switch (domain) {
      case Domain::kReal: value = integer ? (unsigned_type ? whole(0, 40) : whole(-20, 20)) : uniform(-3, 3); break;
      case Domain::kPositive: value = integer ? whole(1, 9) : uniform(0.1, 4); break;
      case Domain::kUnit: value = integer ? 0 : uniform(-0.95, 0.95); break;
      case Domain::kAboveOne: value = integer ? whole(1, 4) : uniform(1, 4); break;
      case Domain::kHalves: value = integer ? whole(unsigned_type ? 0 : -4, 4) : whole(-8, 8) / 2.0; break;
      case Domain::kSmallInts: value = whole(unsigned_type ? 0 : -3, 3); break;
      case Domain::kNonZero: {
        const double sign = unsigned_type || whole(0, 1) ? 1 : -1;
        value = sign * (integer ? whole(1, 9) : uniform(0.5, 3));
        break;
      }
      case Domain::kNearOne: value = integer ? whole(1, 2) : uniform(0.8, 1.2); break;
      case Domain::kExponent: value = integer ? whole(0, 3) : whole(-4, 4) / 2.0; break;
    }
  }
  return values;
}

// A host array of `dtype` holding `values` (converted as the CPU converts).
NDArray HostArray(const std::vector<double>& values, const Shape& shape, DType dtype) {
  return NDArray::FromHostBuffer(values.data(), values.size() * sizeof(double), shape, DType::kFloat64,
                                 Device::cpu())
      .AsType(dtype);
}

NDArray RandomArray(Domain domain, const Shape& shape, DType dtype, uint32_t seed) {
  return HostArray(Values(domain, dtype, shape.size(), seed), shape, dtype);
}

// How far a GPU result may be from the CPU's: |gpu - cpu| <= atol + rtol * |cpu| (integers: exact).
struct Tolerance {
  double rtol, atol;
};

// A few ulp of the dtype, times `scale` for ops whose device math or summation order differs more.
Tolerance TolerancesOf(DType dtype, double scale) {
  switch (dtype) {
    case DType::kFloat32: return {2e-6 * scale, 1e-6 * scale};
    case DType::kFloat64: return {1e-13 * scale, 1e-13 * scale};
    case DType::kFloat16: return {2e-3 * scale, 2e-3 * scale};
    case DType::kBfloat16: return {1.6e-2 * scale, 1.6e-2 * scale};
    default: return {0, 0};
  }
}

// Expects two host arrays to agree: equal shapes and dtypes, then every element within `tolerance`
// (NaN matches NaN, infinities match themselves).
void ExpectClose(const NDArray& expected, const NDArray& actual, Tolerance tolerance, const std::string& what) {
  ASSERT_EQ(expected.shape(), actual.shape()) << what;
  ASSERT_EQ(expected.dtype(), actual.dtype()) << what;
  const int64_t n = expected.size();
  if (!IsFloat(expected.dtype())) {
    std::vector<int64_t> want(n), got(n);
    expected.AsType(DType::kInt64).CopyToHost(want.data(), n * sizeof(int64_t));
    actual.AsType(DType::kInt64).CopyToHost(got.data(), n * sizeof(int64_t));
    int reported = 0;
    for (int64_t i = 0; i < n && reported < 5; ++i) {
      if (want[i] != got[i]) {
        ADD_FAILURE() << what << ": element " << i << " is " << got[i] << " on the GPU, " << want[i] << " on the CPU";
        ++reported;
      }
    }
    return;
  }
  std::vector<double> want(n), got(n);
  expected.AsType(DType::kFloat64).CopyToHost(want.data(), n * sizeof(double));
  actual.AsType(DType::kFloat64).CopyToHost(got.data(), n * sizeof(double));
  int reported = 0;
  for (int64_t i = 0; i < n && reported < 5; ++i) {
    const double w = want[i], g = got[i];
    if (std::isnan(w) && std::isnan(g)) continue;
    if (std::isinf(w) || std::isinf(g)) {
      if (w == g) continue;
    } else if (std::fabs(g - w) <= tolerance.atol + tolerance.rtol * std::fabs(w)) {
      continue;
    }
    ADD_FAILURE() << what << ": element " << i << " is " << g << " on the GPU, " << w << " on the CPU (rtol "
                  << tolerance.rtol << ", atol " << tolerance.atol << ")";
    ++reported;
  }
}

std::string Describe(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params) {
  std::string text = op + "(";
  for (const NDArray& input : inputs) text += input.shape().ToString() + " " + DTypeName(input.dtype()) + ", ";
  for (const auto& [name, value] : params) text += name + "=" + value + ", ";
  return text + ")";
}

std::vector<NDArray> ToDevice(const std::vector<NDArray>& arrays, Device device) {
  std::vector<NDArray> copies;
  for (const NDArray& array : arrays) copies.push_back(array.CopyTo(device));
  return copies;
}

// Runs `op` on the CPU and on gpu(0) with `inputs` (host arrays) and compares output 0: written, then
// added into a random output (kAdd).
void CompareWithCpu(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params,
                    double tolerance_scale = 1) {
  const std::string what = Describe(op, inputs, params);
  SCOPED_TRACE(what);
  const std::vector<NDArray> cpu_outputs = Invoke(op, inputs, params);
  const std::vector<NDArray> gpu_outputs = Invoke(op, ToDevice(inputs, Device::gpu(0)), params);
  ASSERT_EQ(gpu_outputs.size(), cpu_outputs.size());
  const NDArray& cpu = cpu_outputs[0];
  ASSERT_EQ(gpu_outputs[0].device(), Device::gpu(0));
  const Tolerance tolerance = TolerancesOf(cpu.dtype(), tolerance_scale);
  ExpectClose(cpu, gpu_outputs[0].CopyTo(Device::cpu()), tolerance, what + " [write]");

  // kAdd: both devices add into the same starting values.
  const NDArray start = RandomArray(Domain::kSmallInts, cpu.shape(), cpu.dtype(), 99);
  InvokeOptions cpu_options;
  cpu_options.outputs = {start.CopyTo(Device::cpu())};
  for (size_t i = 1; i < cpu_outputs.size(); ++i) cpu_options.outputs.push_back(cpu_outputs[i].CopyTo(Device::cpu()));
  cpu_options.modes = {WriteMode::kAdd};
  InvokeOptions gpu_options;
  gpu_options.outputs = ToDevice(cpu_options.outputs, Device::gpu(0));
  gpu_options.modes = {WriteMode::kAdd};
  const OpDef& def = OpRegistry::Get()->Lookup(op);
  const OpParams parsed = def.ParseParams(params);
  const NDArray cpu_added = Invoke(def, inputs, parsed, cpu_options)[0];
  const NDArray gpu_added = Invoke(def, ToDevice(inputs, Device::gpu(0)), parsed, gpu_options)[0];
  ExpectClose(cpu_added, gpu_added.CopyTo(Device::cpu()), tolerance, what + " [add]");
}

class GpuOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (gpu::DeviceCount() == 0) GTEST_SKIP() << "no GPU (built with CUDA: " << gpu::BuiltWithCuda() << ")";
  }
};

// Every op of the tables and the other GPU families has its GPU kernel attached (whatever the order in
// which the registrations ran). Needs no GPU.
TEST(GpuKernelRegistration, EveryGpuKernelIsAttached) {
  std::vector<std::string> names = {"broadcast_to", "broadcast_like", "broadcast_axis", "_broadcast_reduced",
                                    "add_n",        "_dot_output_2d", "sum",            "mean",
                                    "prod",         "nansum",         "nanprod",        "max",
                                    "min",          "_sum_to_like",   "dot",            "batch_dot",
                                    "FullyConnected", "Convolution", "_convolution_backward_data",
                                    "_convolution_backward_weight"};
#define PMX_NAME(CODE, NAME, ...) names.push_back(NAME);
  PMX_GPU_UNARY_OPS(PMX_NAME)
  PMX_GPU_SCALAR_OPS(PMX_NAME)
#undef PMX_NAME
#define PMX_NAMES(CODE, NAME, BROADCAST_NAME, ...) \
  names.push_back(NAME);                           \
  names.push_back(BROADCAST_NAME);
  PMX_GPU_BINARY_OPS(PMX_NAMES)
#undef PMX_NAMES
  for (const std::string& name : names) {
    const OpDef* def = OpRegistry::Get()->Find(name);
    ASSERT_NE(def, nullptr) << name << " is not registered";
    EXPECT_EQ(def->kernels.count(DeviceType::kGPU), 1u) << name << " has no GPU kernel";
    EXPECT_EQ(def->kernels.count(DeviceType::kCPU), 1u) << name << " lost its CPU kernel";
  }
}

// Domains for the unary ops whose formulas need them.
Domain UnaryDomain(const std::string& op) {
  if (op == "log" || op == "log10" || op == "log2" || op == "sqrt" || op == "rsqrt" || op == "gamma" ||
      op == "gammaln" || op == "_digamma" || op == "reciprocal" || op == "rcbrt") {
    return Domain::kPositive;
  }
  if (op == "log1p" || op == "arcsin" || op == "arccos" || op == "arctanh" || op == "erfinv") return Domain::kUnit;
  if (op == "arccosh") return Domain::kAboveOne;
  if (op == "floor" || op == "ceil" || op == "round" || op == "rint" || op == "fix" || op == "trunc" ||
      op == "sign" || op == "logical_not") {
    return Domain::kHalves;
  }
  return Domain::kReal;
}

// Device math that differs from glibc's by more than a few ulp (tgamma, lgamma, erfinv, tan near poles).
double UnaryToleranceScale(const std::string& op) {
  if (op == "gamma" || op == "gammaln" || op == "erfinv" || op == "_digamma" || op == "tan" || op == "expm1" ||
      op == "sinh" || op == "cosh" || op == "exp") {
    return 16;
  }
  return 4;
}

ParamMap UnaryParams(const std::string& op) {
  if (op == "hard_sigmoid") return {{"alpha", "0.3"}, {"beta", "0.4"}};
  if (op == "clip") return {{"a_min", "-1.5"}, {"a_max", "2"}};
  return {};
}

TEST_F(GpuOpsTest, UnaryOpsMatchTheCpu) {
  std::vector<std::pair<std::string, Class>> ops;
#define PMX_OP(CODE, NAME, CLASS, ...) ops.push_back({NAME, CLASS});
  PMX_GPU_UNARY_OPS(PMX_OP)
#undef PMX_OP
  for (const auto& [op, dtypes] : ops) {
    for (DType dtype : DTypesOf(dtypes)) {
      const NDArray x = RandomArray(UnaryDomain(op), Shape{5, 37}, dtype, 1);
      CompareWithCpu(op, {x}, UnaryParams(op), UnaryToleranceScale(op));
    }
  }
}

ParamMap ScalarParams(const std::string& op, DType dtype) {
  std::string scalar = IsFloat(dtype) ? "1.75" : "3";
  if (op == "_power_scalar") scalar = IsFloat(dtype) ? "1.5" : "2";
  if (op == "_rpower_scalar") scalar = IsFloat(dtype) ? "1.5" : "2";
  if (op == "_rmod_scalar" || op == "_rdiv_scalar") scalar = IsFloat(dtype) ? "2.5" : "7";
  if (op == "smooth_l1") scalar = "1.3";
  if (op.find("equal") != std::string::npos || op.find("logical") != std::string::npos) scalar = "1";
  return {{"scalar", scalar}};
}

Domain ScalarDomain(const std::string& op) {
  if (op == "_rdiv_scalar" || op == "_rmod_scalar") return Domain::kNonZero;
  if (op == "_power_scalar") return Domain::kPositive;
  if (op == "_rpower_scalar") return Domain::kHalves;
  if (op.find("equal") != std::string::npos || op.find("logical") != std::string::npos ||
      op.find("greater") != std::string::npos || op.find("lesser") != std::string::npos) {
    return Domain::kSmallInts;
  }
  return Domain::kReal;
}

TEST_F(GpuOpsTest, ScalarOpsMatchTheCpu) {
  std::vector<std::pair<std::string, Class>> ops;
#define PMX_OP(CODE, NAME, CLASS, ...) ops.push_back({NAME, CLASS});
  PMX_GPU_SCALAR_OPS(PMX_OP)
#undef PMX_OP
  for (const auto& [op, dtypes] : ops) {
    for (DType dtype : DTypesOf(dtypes)) {
      const NDArray x = RandomArray(ScalarDomain(op), Shape{5, 37}, dtype, 2);
      CompareWithCpu(op, {x}, ScalarParams(op, dtype), 4);
    }
  }
}

// Input domains of a binary op: (lhs, rhs).
std::pair<Domain, Domain> BinaryDomains(const std::string& name) {
  const std::string op = name.substr(name.find('_') + 1);
  if (op == "div" || op == "mod") return {Domain::kReal, Domain::kNonZero};
  if (op == "power") return {Domain::kPositive, Domain::kExponent};
  if (op == "add" || op == "sub" || op == "mul" || op == "maximum" || op == "minimum" || op == "hypot") {
    return {Domain::kReal, Domain::kReal};
  }
  return {Domain::kSmallInts, Domain::kSmallInts};  // Comparisons and logical ops: many equal pairs.
}

TEST_F(GpuOpsTest, BinaryOpsMatchTheCpuSameShapeAndBroadcast) {
  struct Row {
    std::string elemwise, broadcast;
    Class dtypes;
  };
  std::vector<Row> rows;
#define PMX_OP(CODE, NAME, BROADCAST_NAME, CLASS, ...) rows.push_back({NAME, BROADCAST_NAME, CLASS});
  PMX_GPU_BINARY_OPS(PMX_OP)
#undef PMX_OP
  const std::vector<std::pair<Shape, Shape>> broadcasts = {
      {Shape{4, 1, 6}, Shape{1, 5, 1}}, {Shape{5}, Shape{3, 5}}, {Shape{2, 3, 4, 5}, Shape{3, 1, 5}},
      {Shape{7, 9}, Shape{7, 9}},       {Shape{1}, Shape{6, 2}}, {Shape{0, 3}, Shape{1, 3}}};
  for (const Row& row : rows) {
    const auto [lhs_domain, rhs_domain] = BinaryDomains(row.broadcast);
    for (DType dtype : DTypesOf(row.dtypes)) {
      // Integer powers: bases in [-3, 3], exponents in [0, 3], so that every result fits the type.
      const bool integer_power = row.broadcast == "broadcast_power" && !IsFloat(dtype);
      const Domain lhs = integer_power ? Domain::kSmallInts : lhs_domain;
      CompareWithCpu(row.elemwise,
                     {RandomArray(lhs, Shape{6, 35}, dtype, 3), RandomArray(rhs_domain, Shape{6, 35}, dtype, 4)}, {},
                     4);
      for (const auto& [a, b] : broadcasts) {
        CompareWithCpu(row.broadcast, {RandomArray(lhs, a, dtype, 5), RandomArray(rhs_domain, b, dtype, 6)}, {}, 4);
      }
    }
  }
}

TEST_F(GpuOpsTest, LargeArraysUseTheWholeGrid) {
  const Shape shape{(1 << 20) + 3};
  CompareWithCpu("elemwise_add", {RandomArray(Domain::kReal, shape, DType::kFloat32, 7),
                                  RandomArray(Domain::kReal, shape, DType::kFloat32, 8)}, {});
  CompareWithCpu("exp", {RandomArray(Domain::kReal, shape, DType::kFloat32, 9)}, {}, 4);
  CompareWithCpu("broadcast_mul", {RandomArray(Domain::kReal, Shape{1025, 1, 1031}, DType::kFloat32, 10),
                                   RandomArray(Domain::kReal, Shape{1, 3, 1031}, DType::kFloat32, 11)}, {});
}

TEST_F(GpuOpsTest, BroadcastOpsMatchTheCpu) {
  for (DType dtype : DTypesOf(kAll)) {
    const NDArray x = RandomArray(Domain::kReal, Shape{3, 1, 5}, dtype, 12);
    CompareWithCpu("broadcast_to", {x}, {{"shape", "(2, 3, 4, 5)"}});
    CompareWithCpu("broadcast_to", {x}, {{"shape", "(0, 6, 0)"}});
    CompareWithCpu("broadcast_axis", {x}, {{"axis", "(1,)"}, {"size", "(4,)"}});
    CompareWithCpu("broadcast_like", {x, RandomArray(Domain::kReal, Shape{7, 3, 4, 5}, dtype, 13)}, {});
    CompareWithCpu("broadcast_like", {x, RandomArray(Domain::kReal, Shape{8, 9}, dtype, 14)},
                   {{"lhs_axes", "(1,)"}, {"rhs_axes", "(0,)"}});
  }
}

TEST_F(GpuOpsTest, AddNMatchesTheCpu) {
  for (DType dtype : DTypesOf(kNumeric)) {
    for (int count : {1, 3, 40}) {
      std::vector<NDArray> inputs;
      for (int i = 0; i < count; ++i) inputs.push_back(RandomArray(Domain::kReal, Shape{4, 33}, dtype, 20 + i));
      // 40 inputs run as two launches (Note [add_n with many inputs]): 16-bit floats round in between and
      // the others add a partial sum in another order, a few ulp apart.
      const double scale = count > 32 ? 16 : 4;
      CompareWithCpu("add_n", inputs, {{"num_args", std::to_string(count)}}, scale);
    }
  }
}

// Reductions: every axis form on a small shape, then shapes that take each kernel path (warp and block
// groups, the inner-kept loop, split reductions with partial results).
TEST_F(GpuOpsTest, ReductionsMatchTheCpu) {
  const std::vector<ParamMap> forms = {
      {},
      {{"axis", "0"}},
      {{"axis", "1"}},
      {{"axis", "-1"}},
      {{"axis", "(0, 2)"}},
      {{"axis", "(0, 2)"}, {"keepdims", "True"}},
      {{"axis", "1"}, {"exclude", "True"}},
      {{"axis", "()"}, {"keepdims", "True"}}};
  for (const char* op : {"sum", "mean", "prod", "nansum", "nanprod", "max", "min"}) {
    const Domain domain = std::string(op).find("prod") != std::string::npos ? Domain::kNearOne : Domain::kReal;
    for (DType dtype : DTypesOf(kNumeric)) {
      const NDArray x = RandomArray(domain, Shape{4, 5, 6}, dtype, 30);
      // Up to 120 terms of either sign, summed in another order: absolute error ~ n * ulp(max |x|).
      for (const ParamMap& form : forms) CompareWithCpu(op, {x}, form, 32);
    }
    for (const auto& [shape, axis] : std::vector<std::pair<Shape, std::string>>{{Shape{3, 70001}, "1"},
                                                                              {Shape{70001, 3}, "0"},
                                                                              {Shape{1 << 20}, "0"},
                                                                              {Shape{64, 300, 40}, "(0, 2)"},
                                                                              {Shape{5, 3000, 2}, "1"},
                                                                              {Shape{0, 4}, "0"}}) {
      const bool product = std::string(op).find("prod") != std::string::npos;
      if (shape.size() == 0 && (std::string(op) == "max" || std::string(op) == "min")) continue;  // No identity.
      // Long products over- or underflow part-way, differently in another order.
      if (product && shape.size() > 100000) continue;
      for (DType dtype : {DType::kFloat32, DType::kInt32, DType::kFloat16}) {
        // float32 sums of up to 2^20 positive terms in another order: relative error ~ sqrt(n) ulp;
        // float16 results round once from float32 accumulators on both devices.
        const double scale = dtype == DType::kFloat32 ? 64 : 2;
        CompareWithCpu(op, {RandomArray(product ? Domain::kNearOne : Domain::kPositive, shape, dtype, 31)},
                       {{"axis", axis}}, scale);
      }
    }
  }
}

TEST_F(GpuOpsTest, ReductionsPropagateNaNLikeTheCpu) {
  std::vector<double> values = Values(Domain::kReal, DType::kFloat32, 60, 40);
  values[7] = NAN;
  values[33] = NAN;
  const NDArray x = HostArray(values, Shape{6, 10}, DType::kFloat32);
  for (const char* op : {"sum", "nansum", "max", "min", "nanprod", "mean"}) {
    CompareWithCpu(op, {x}, {{"axis", "1"}}, 32);
    CompareWithCpu(op, {x}, {{"axis", "0"}}, 32);
  }
}

TEST_F(GpuOpsTest, ReductionGradientHelpersMatchTheCpu) {
  for (DType dtype : DTypesOf(kNumeric)) {
    const NDArray data = RandomArray(Domain::kReal, Shape{4, 5, 6}, dtype, 50);
    CompareWithCpu("_sum_to_like", {data, RandomArray(Domain::kReal, Shape{5, 1}, dtype, 51)}, {}, 32);
    CompareWithCpu("_sum_to_like", {data, RandomArray(Domain::kReal, Shape{4, 1, 6}, dtype, 52)}, {}, 32);
    const NDArray like = RandomArray(Domain::kReal, Shape{4, 5, 6}, dtype, 53);
    CompareWithCpu("_broadcast_reduced", {RandomArray(Domain::kReal, Shape{4, 1, 6}, dtype, 54), like},
                   {{"axis", "1"}, {"keepdims", "True"}, {"normalize", "True"}});
    CompareWithCpu("_broadcast_reduced", {RandomArray(Domain::kReal, Shape{4, 6}, dtype, 55), like},
                   {{"axis", "1"}});
    CompareWithCpu("_broadcast_reduced", {RandomArray(Domain::kReal, Shape{5}, dtype, 56), like},
                   {{"axis", "1"}, {"exclude", "True"}, {"normalize", "True"}});
    CompareWithCpu("_broadcast_reduced", {RandomArray(Domain::kReal, Shape{1}, dtype, 57), like}, {});
  }
}

// Products: K terms per element, summed in another order by cuBLAS: tolerance grows with K.
TEST_F(GpuOpsTest, DotAndBatchDotMatchTheCpu) {
  struct Case {
    Shape lhs, rhs;
    bool ta, tb;
  };
  const std::vector<Case> dots = {{Shape{33, 17}, Shape{17, 29}, false, false}, {Shape{17, 33}, Shape{17, 29}, true, false},
                                  {Shape{33, 17}, Shape{29, 17}, false, true},  {Shape{17, 33}, Shape{29, 17}, true, true},
                                  {Shape{40}, Shape{40}, false, false},         {Shape{3, 4, 5}, Shape{5, 6}, false, false},
                                  {Shape{5}, Shape{5, 7}, false, false},        {Shape{6, 0}, Shape{0, 4}, false, false},
                                  {Shape{2, 3, 4}, Shape{2, 5}, true, false}};
  const std::vector<Case> batch_dots = {{Shape{3, 4, 5}, Shape{3, 5, 6}, false, false},
                                        {Shape{3, 5, 4}, Shape{3, 5, 6}, true, false},
                                        {Shape{3, 4, 5}, Shape{3, 6, 5}, false, true},
                                        {Shape{2, 3, 5, 4}, Shape{2, 3, 6, 5}, true, true}};
  for (DType dtype : kFloats) {
    for (const auto& [cases, op] : {std::make_pair(dots, "dot"), std::make_pair(batch_dots, "batch_dot")}) {
      for (const Case& c : cases) {
        const ParamMap params = {{"transpose_a", c.ta ? "True" : "False"}, {"transpose_b", c.tb ? "True" : "False"}};
        CompareWithCpu(op, {RandomArray(Domain::kReal, c.lhs, dtype, 60), RandomArray(Domain::kReal, c.rhs, dtype, 61)},
                       params, 64);
      }
    }
  }
}

TEST_F(GpuOpsTest, FullyConnectedMatchesTheCpu) {
  for (DType dtype : kFloats) {
    const NDArray data = RandomArray(Domain::kReal, Shape{4, 3, 5}, dtype, 70);
    const NDArray bias = RandomArray(Domain::kReal, Shape{7}, dtype, 71);
    CompareWithCpu("FullyConnected", {data, RandomArray(Domain::kReal, Shape{7, 15}, dtype, 72), bias},
                   {{"num_hidden", "7"}}, 64);
    CompareWithCpu("FullyConnected", {data, RandomArray(Domain::kReal, Shape{7, 5}, dtype, 73), bias},
                   {{"num_hidden", "7"}, {"flatten", "False"}}, 64);
    CompareWithCpu("FullyConnected", {data, RandomArray(Domain::kReal, Shape{7, 15}, dtype, 74)},
                   {{"num_hidden", "7"}, {"no_bias", "True"}}, 64);
  }
}

// Convolutions on cuDNN against the CPU's oneDNN/reference loops: 1-d, 2-d and 3-d, with stride, dilation,
// padding, groups, with and without bias, and the two gradient helpers on the same geometries.
TEST_F(GpuOpsTest, ConvolutionsMatchTheCpu) {
  struct Case {
    Shape data;
    ParamMap params;
  };
  const std::vector<Case> cases = {
      {Shape{2, 3, 11}, {{"kernel", "(3,)"}, {"num_filter", "4"}}},
      {Shape{2, 4, 9, 10}, {{"kernel", "(3, 3)"}, {"num_filter", "6"}, {"pad", "(1, 1)"}}},
      {Shape{2, 4, 9, 10},
       {{"kernel", "(3, 2)"}, {"num_filter", "6"}, {"stride", "(2, 1)"}, {"dilate", "(1, 2)"}, {"num_group", "2"}}},
      {Shape{1, 6, 8, 8}, {{"kernel", "(1, 1)"}, {"num_filter", "3"}, {"no_bias", "True"}}},
      {Shape{2, 2, 5, 6, 7}, {{"kernel", "(2, 3, 3)"}, {"num_filter", "3"}, {"pad", "(0, 1, 1)"}}}};
  for (DType dtype : kFloats) {
    uint32_t seed = 100;
    for (const Case& c : cases) {
      const bool no_bias = c.params.count("no_bias") > 0;
      // Shapes from the CPU op's inference: weight, bias and output.
      const OpDef& conv = OpRegistry::Get()->Lookup("Convolution");
      std::vector<Shape> out_shapes;
      std::vector<DType> out_dtypes;
      const NDArray data = RandomArray(Domain::kReal, c.data, dtype, seed++);
      const int64_t filters = std::stoll(c.params.at("num_filter"));
      const int64_t groups = c.params.count("num_group") ? std::stoll(c.params.at("num_group")) : 1;
      std::vector<int64_t> weight_dims = {filters, c.data[1] / groups};
      const std::string kernel = c.params.at("kernel");
      for (char ch : kernel) {
        if (ch >= '0' && ch <= '9') weight_dims.push_back(ch - '0');
      }
      const NDArray weight = RandomArray(Domain::kReal, Shape(weight_dims), dtype, seed++);
      std::vector<NDArray> inputs = {data, weight};
      if (!no_bias) inputs.push_back(RandomArray(Domain::kReal, Shape{filters}, dtype, seed++));
      std::vector<Shape> in_shapes;
      for (const NDArray& input : inputs) in_shapes.push_back(input.shape());
      InferOutputs(conv, conv.ParseParams(c.params), in_shapes, std::vector<DType>(inputs.size(), dtype), &out_shapes,
                   &out_dtypes);
      CompareWithCpu("Convolution", inputs, c.params, 64);
      ParamMap helper_params = c.params;
      helper_params["no_bias"] = "True";
      const NDArray out_grad = RandomArray(Domain::kReal, out_shapes[0], dtype, seed++);
      CompareWithCpu("_convolution_backward_data", {out_grad, weight, data}, helper_params, 64);
      // Weight gradients sum over N and the output positions: more terms, more rounding.
      CompareWithCpu("_convolution_backward_weight", {out_grad, data}, helper_params, 256);
    }
  }
}

TEST_F(GpuOpsTest, DotGradientHelperCopies) {
  for (DType dtype : kFloats) {
    CompareWithCpu("_dot_output_2d", {RandomArray(Domain::kReal, Shape{3, 4, 5}, dtype, 80),
                                      RandomArray(Domain::kReal, Shape{3, 4, 2}, dtype, 81)}, {});
  }
}

TEST_F(GpuOpsTest, OpsWithoutAGpuKernelStillSaySo) {
  const NDArray x = RandomArray(Domain::kReal, Shape{4, 5}, DType::kFloat32, 90).CopyTo(Device::gpu(0));
  const OpDef* sort = OpRegistry::Get()->Find("sort");
  ASSERT_NE(sort, nullptr);
  ASSERT_EQ(sort->kernels.count(DeviceType::kGPU), 0u) << "sort has a GPU kernel now: pick another op here";
  try {
    Invoke("sort", {x}, {});
    ADD_FAILURE() << "sort ran on the GPU";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kNotImplementedError);
    EXPECT_NE(std::string(error.what()).find("[sort] no GPU kernel for sort yet"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace pmx
