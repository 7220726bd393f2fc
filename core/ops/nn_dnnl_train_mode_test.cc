// Training-mode BatchNorm (KernelContext::is_train), which the C ABI's op calls do not reach: batch
// statistics normalize, moving_mean/moving_var are updated in place, the hidden train_mode output selects the
// batch-statistics gradient (checked against finite differences, with and without output_mean_var), and
// use_global_stats keeps the running statistics. float32 runs on oneDNN, float64 on the reference loops.
// Also the accumulating write mode (WriteMode::kAdd, gradient accumulation), which the C ABI cannot request,
// for every kernel path of the GEMM/convolution family.
#include <cmath>
#include <vector>

#include "core/ops/gradient.h"
#include "core/ops/invoke.h"
#include "gtest/gtest.h"

namespace pmx {
namespace {

template <typename T>
std::vector<double> Read(const NDArray& array) {
  std::vector<T> values(array.size());
  array.CopyToHost(values.data(), array.nbytes());
  return std::vector<double>(values.begin(), values.end());
}

template <typename T>
NDArray Make(const std::vector<double>& values, const Shape& shape) {
  std::vector<T> converted(values.begin(), values.end());
  return NDArray::FromHostBuffer(converted.data(), shape, std::is_same_v<T, float> ? DType::kFloat32 : DType::kFloat64);
}

InvokeOptions Training() {
  InvokeOptions options;
  options.is_train = true;
  return options;
}

// Data of shape (N=3, C=2, W=4) with distinct per-channel statistics.
std::vector<double> Data() {
  std::vector<double> x(24);
  for (int i = 0; i < 24; ++i) x[i] = std::sin(1.7 * i) * (1 + (i / 4) % 2) + ((i / 4) % 2 ? 0.5 : -0.25);
  return x;
}

template <typename T>
void CheckTrainingForward(double tolerance) {
  const Shape shape({3, 2, 4});
  const std::vector<double> x = Data(), gamma = {1.5, 0.5}, beta = {0.1, -0.2};
  const NDArray moving_mean = Make<T>({0.2, -0.1}, Shape({2})), moving_var = Make<T>({1.0, 2.0}, Shape({2}));
  const OpDef& bn = OpRegistry::Get()->Lookup("BatchNorm");
  const OpParams params = bn.ParseParams({{"fix_gamma", "False"}, {"momentum", "0.75"}, {"eps", "0.001"}});
  const std::vector<NDArray> out =
      Invoke(bn, {Make<T>(x, shape), Make<T>(gamma, Shape({2})), Make<T>(beta, Shape({2})), moving_mean, moving_var},
             params, Training());
  ASSERT_EQ(out.size(), 4u);
  const std::vector<double> y = Read<T>(out[0]), mean = Read<T>(out[1]), invstd = Read<T>(out[2]);
  EXPECT_EQ(Read<T>(out[3])[0], 1.0);  // train_mode.
  const std::vector<double> mm = Read<T>(moving_mean), mv = Read<T>(moving_var);
  const double old_mean[] = {0.2, -0.1}, old_var[] = {1.0, 2.0};
  for (int c = 0; c < 2; ++c) {
    double sum = 0, squares = 0;
    for (int n = 0; n < 3; ++n) {
      for (int w = 0; w < 4; ++w) sum += x[(n * 2 + c) * 4 + w];
    }
    const double m = sum / 12;
    for (int n = 0; n < 3; ++n) {
      for (int w = 0; w < 4; ++w) squares += std::pow(x[(n * 2 + c) * 4 + w] - m, 2);
    }
    const double var = squares / 12, s = 1 / std::sqrt(var + 1e-3);
    EXPECT_NEAR(mean[c], m, tolerance);
    EXPECT_NEAR(invstd[c], s, tolerance * 10);
    EXPECT_NEAR(mm[c], 0.75 * old_mean[c] + 0.25 * m, tolerance);
    EXPECT_NEAR(mv[c], 0.75 * old_var[c] + 0.25 * var, tolerance);
    for (int n = 0; n < 3; ++n) {
      for (int w = 0; w < 4; ++w) {
        const int i = (n * 2 + c) * 4 + w;
        EXPECT_NEAR(y[i], (x[i] - m) * s * gamma[c] + beta[c], tolerance * 10);
      }
    }
  }
}

TEST(NnDnnlTrainModeTest, BatchNormTrainingUsesBatchStatisticsAndUpdatesMovingOnes) {
  CheckTrainingForward<float>(1e-5);
  CheckTrainingForward<double>(1e-12);
}

TEST(NnDnnlTrainModeTest, BatchNormUseGlobalStatsKeepsRunningStatistics) {
  const Shape shape({3, 2, 4});
  const NDArray moving_mean = Make<float>({0.2, -0.1}, Shape({2})), moving_var = Make<float>({1.0, 2.0}, Shape({2}));
  const std::vector<NDArray> out =
      Invoke(OpRegistry::Get()->Lookup("BatchNorm"),
             {Make<float>(Data(), shape), Make<float>({1, 1}, Shape({2})), Make<float>({0, 0}, Shape({2})), moving_mean,
              moving_var},
             OpRegistry::Get()->Lookup("BatchNorm").ParseParams({{"use_global_stats", "True"}}), Training());
  EXPECT_EQ(Read<float>(out[3])[0], 0.0);
  EXPECT_EQ(Read<float>(moving_mean), std::vector<double>({0.2f, -0.1f}));
  EXPECT_EQ(Read<float>(moving_var), std::vector<double>({1.0, 2.0}));
  const std::vector<double> y = Read<float>(out[0]), x = Data();
  EXPECT_NEAR(y[0], (x[0] - 0.2f) / std::sqrt(1.0 + 1e-3), 1e-5);
}

// The composed training-mode gradient of BatchNorm against central finite differences, in float64; with
// output_mean_var the heads of the exposed mean and inverse std contribute too.
void CheckTrainingGradient(bool output_mean_var, const std::string& dtype_name) {
  const bool single = dtype_name == "float32";
  const Shape shape({3, 2, 4});
  const OpDef& bn = OpRegistry::Get()->Lookup("BatchNorm");
  const OpParams params = bn.ParseParams(
      {{"fix_gamma", "False"}, {"output_mean_var", output_mean_var ? "True" : "False"}, {"eps", "0.01"}});
  std::vector<std::vector<double>> values = {Data(), {1.5, 0.5}, {0.1, -0.2}};
  const std::vector<Shape> shapes = {shape, Shape({2}), Shape({2})};
  auto arrays = [&](const std::vector<std::vector<double>>& v) {
    std::vector<NDArray> in;
    for (int i = 0; i < 3; ++i) in.push_back(single ? Make<float>(v[i], shapes[i]) : Make<double>(v[i], shapes[i]));
    in.push_back(single ? Make<float>({0, 0}, Shape({2})) : Make<double>({0, 0}, Shape({2})));
    in.push_back(single ? Make<float>({1, 1}, Shape({2})) : Make<double>({1, 1}, Shape({2})));
    return in;
  };
  const int visible = output_mean_var ? 3 : 1;
  std::vector<std::vector<double>> heads = {std::vector<double>(24), {0.3, -0.7}, {0.5, 0.2}};
  for (int i = 0; i < 24; ++i) heads[0][i] = std::cos(0.9 * i);
  auto objective = [&](const std::vector<std::vector<double>>& v) {
    const std::vector<NDArray> out = Invoke(bn, arrays(v), params, Training());
    double total = 0;
    for (int o = 0; o < visible; ++o) {
      const std::vector<double> got = single ? Read<float>(out[o]) : Read<double>(out[o]);
      for (size_t i = 0; i < got.size(); ++i) total += got[i] * heads[o][i];
    }
    return total;
  };
  const std::vector<NDArray> inputs = arrays(values);
  const std::vector<NDArray> outputs = Invoke(bn, inputs, params, Training());
  std::vector<NDArray> head_arrays;
  for (int o = 0; o < visible; ++o) {
    head_arrays.push_back(single ? Make<float>(heads[o], o ? Shape({2}) : shape)
                                 : Make<double>(heads[o], o ? Shape({2}) : shape));
  }
  const std::vector<NDArray> grads = ComputeGradient(bn, params, inputs, outputs, head_arrays);
  const double step = single ? 1e-2 : 1e-6, tolerance = single ? 2e-2 : 1e-6;
  for (int input = 0; input < 3; ++input) {
    const std::vector<double> analytic = single ? Read<float>(grads[input]) : Read<double>(grads[input]);
    for (size_t i = 0; i < values[input].size(); ++i) {
      auto plus = values, minus = values;
      plus[input][i] += step;
      minus[input][i] -= step;
      const double numeric = (objective(plus) - objective(minus)) / (2 * step);
      EXPECT_NEAR(analytic[i], numeric, tolerance * (1 + std::abs(numeric)))
          << "input " << input << " element " << i << " output_mean_var " << output_mean_var << " " << dtype_name;
    }
  }
}

TEST(NnDnnlTrainModeTest, BatchNormTrainingGradientMatchesFiniteDifferences) {
  CheckTrainingGradient(false, "float64");
  CheckTrainingGradient(true, "float64");
  CheckTrainingGradient(false, "float32");  // The oneDNN forward and backward primitives.
}

// Runs `op` once plainly and once adding into an output holding 1 everywhere: the second result must be the
// first plus 1, for float32 (oneDNN paths) and float64 (loops).
void CheckAccumulates(const std::string& op, const std::vector<Shape>& shapes, const ParamMap& params) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    const OpDef& def = OpRegistry::Get()->Lookup(op);
    const OpParams parsed = def.ParseParams(params);
    std::vector<NDArray> inputs;
    for (size_t i = 0; i < shapes.size(); ++i) {
      std::vector<double> values(shapes[i].size());
      for (size_t j = 0; j < values.size(); ++j) values[j] = 0.5 + 0.25 * std::sin(1.3 * j + i);
      inputs.push_back(dtype == DType::kFloat32 ? Make<float>(values, shapes[i]) : Make<double>(values, shapes[i]));
    }
    const std::vector<NDArray> plain = Invoke(def, inputs, parsed);
    InvokeOptions options;
    for (const NDArray& out : plain) options.outputs.push_back(NDArray::Full(out.shape(), 1.0, out.dtype()));
    options.modes.assign(plain.size(), WriteMode::kAdd);
    Invoke(def, inputs, parsed, options);
    const std::vector<double> want = dtype == DType::kFloat32 ? Read<float>(plain[0]) : Read<double>(plain[0]);
    const std::vector<double> got = dtype == DType::kFloat32 ? Read<float>(options.outputs[0])
                                                             : Read<double>(options.outputs[0]);
    ASSERT_EQ(got.size(), want.size());
    for (size_t j = 0; j < got.size(); ++j) {
      EXPECT_NEAR(got[j], want[j] + 1, 1e-4 * (1 + std::abs(want[j]))) << op << " " << DTypeName(dtype) << " " << j;
    }
  }
}

TEST(NnDnnlWriteModeTest, KernelsAddIntoTheirOutputs) {
  CheckAccumulates("dot", {Shape({3, 4}), Shape({4, 5})}, {});
  CheckAccumulates("batch_dot", {Shape({2, 3, 4}), Shape({2, 4, 5})}, {});
  CheckAccumulates("FullyConnected", {Shape({3, 4}), Shape({5, 4}), Shape({5})}, {{"num_hidden", "5"}});
  const ParamMap conv = {{"kernel", "(3, 3)"}, {"pad", "(1, 1)"}, {"num_filter", "4"}};
  CheckAccumulates("Convolution", {Shape({2, 3, 5, 5}), Shape({4, 3, 3, 3}), Shape({4})}, conv);
  CheckAccumulates("_convolution_backward_data", {Shape({2, 4, 5, 5}), Shape({4, 3, 3, 3}), Shape({2, 3, 5, 5})},
                   conv);
  CheckAccumulates("_convolution_backward_weight", {Shape({2, 4, 5, 5}), Shape({2, 3, 5, 5})}, conv);
  CheckAccumulates("Deconvolution", {Shape({2, 3, 4, 4}), Shape({3, 2, 3, 3}), Shape({2})},
                   {{"kernel", "(3, 3)"}, {"stride", "(2, 2)"}, {"num_filter", "2"}, {"no_bias", "False"}});
  CheckAccumulates("Pooling", {Shape({2, 3, 6, 6})}, {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}});
  CheckAccumulates("Pooling", {Shape({2, 3, 6, 6})}, {{"kernel", "(3, 3)"}, {"pool_type", "avg"}});
  CheckAccumulates("LRN", {Shape({2, 5, 3, 3})}, {{"nsize", "3"}});
  CheckAccumulates("_lrn_backward", {Shape({2, 5, 3, 3}), Shape({2, 5, 3, 3})}, {{"nsize", "3"}});
  CheckAccumulates("BatchNorm", {Shape({2, 3, 4}), Shape({3}), Shape({3}), Shape({3}), Shape({3})},
                   {{"fix_gamma", "False"}});
  CheckAccumulates("_linalg_gemm2", {Shape({2, 3, 4}), Shape({2, 4, 5})}, {});
  CheckAccumulates("_linalg_gemm", {Shape({3, 4}), Shape({4, 5}), Shape({3, 5})}, {{"beta", "2"}});
  CheckAccumulates("_linalg_potri", {Shape({3, 3})}, {});
}

// bfloat16 (which the C ABI tests cannot build from NumPy) runs through float32 compute in every op family:
// the results match float32 to bfloat16's precision.
TEST(NnDnnlWriteModeTest, BFloat16MatchesFloat32) {
  struct Call {
    std::string op;
    std::vector<Shape> shapes;
    ParamMap params;
  };
  const std::vector<Call> calls = {
      {"dot", {Shape({3, 4}), Shape({4, 5})}, {}},
      {"batch_dot", {Shape({2, 3, 4}), Shape({2, 4, 5})}, {}},
      {"FullyConnected", {Shape({3, 4}), Shape({5, 4}), Shape({5})}, {{"num_hidden", "5"}}},
      {"Convolution", {Shape({2, 3, 5, 5}), Shape({4, 3, 3, 3}), Shape({4})},
       {{"kernel", "(3, 3)"}, {"pad", "(1, 1)"}, {"num_filter", "4"}}},
      {"Pooling", {Shape({2, 3, 6, 6})}, {{"kernel", "(3, 3)"}, {"pool_type", "avg"}}},
      {"LRN", {Shape({2, 5, 3, 3})}, {{"nsize", "3"}}},
      {"_linalg_gemm2", {Shape({2, 3, 4}), Shape({2, 4, 5})}, {}},
  };
  for (const Call& call : calls) {
    std::vector<NDArray> wide, narrow;
    for (size_t i = 0; i < call.shapes.size(); ++i) {
      std::vector<double> values(call.shapes[i].size());
      for (size_t j = 0; j < values.size(); ++j) values[j] = 0.5 * std::sin(0.7 * j + i);
      wide.push_back(Make<float>(values, call.shapes[i]));
      narrow.push_back(wide.back().AsType(DType::kBfloat16));
    }
    const std::vector<double> want = Read<float>(Invoke(call.op, wide, call.params)[0]);
    const NDArray got = Invoke(call.op, narrow, call.params)[0];
    ASSERT_EQ(got.dtype(), DType::kBfloat16) << call.op;
    const std::vector<double> back = Read<float>(got.AsType(DType::kFloat32));
    for (size_t j = 0; j < want.size(); ++j) {
      EXPECT_NEAR(back[j], want[j], 0.02 * (1 + std::abs(want[j]))) << call.op << " element " << j;
    }
  }
}

}  // namespace
}  // namespace pmx
