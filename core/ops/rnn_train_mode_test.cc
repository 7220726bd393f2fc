// What the C ABI's op calls cannot reach for the fused RNN (core/ops/nn/rnn.cc): dropout between layers in
// training mode (the gradient must use the forward's own masks), accumulation into given outputs (kAdd),
// bfloat16, and _rnn_param_concat's backward shape inference.
#include <cmath>
#include <functional>
#include <vector>

#include "core/base/error.h"
#include "core/base/half.h"
#include "core/ops/gradient.h"
#include "core/ops/invoke.h"
#include "core/ops/nn/rnn_internal.h"
#include "gtest/gtest.h"

namespace pmx {
namespace {

std::vector<double> Read(const NDArray& array) {
  NDArray as_double = Invoke1("Cast", {array}, {{"dtype", "float64"}});
  std::vector<double> values(as_double.size());
  as_double.CopyToHost(values.data(), as_double.nbytes());
  return values;
}

NDArray Uniform(const Shape& shape, double scale, uint64_t* state) {
  std::vector<double> values(shape.size());
  for (double& value : values) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    value = scale * (static_cast<double>(*state >> 11) * 0x1.0p-53 * 2 - 1);
  }
  return NDArray::FromHostBuffer(values.data(), shape, DType::kFloat64);
}

// Inputs of a GRU with 2 bidirectional layers: data (3, 2, 2), parameters, state.
struct GruCall {
  const OpDef& def = OpRegistry::Get()->Lookup("RNN");
  OpParams params = def.ParseParams({{"state_size", "3"}, {"num_layers", "2"}, {"mode", "gru"},
                                     {"bidirectional", "True"}, {"p", "0.4"}, {"state_outputs", "True"}});
  std::vector<NDArray> inputs;

  GruCall() {
    uint64_t state = 42;
    const int64_t count = ops::nn::ConfigFrom("RNN", params, Shape({3, 2, 2})).ParamCount();
    inputs = {Uniform(Shape({3, 2, 2}), 1.0, &state), Uniform(Shape({count}), 0.6, &state),
              Uniform(Shape({4, 2, 3}), 1.0, &state)};
  }

  // A training-mode forward whose dropout masks depend only on `seed`.
  std::vector<NDArray> Train(const std::vector<NDArray>& values, uint64_t seed) const {
    SeedRandom(seed);
    InvokeOptions options;
    options.is_train = true;
    return Invoke(def, values, params, options);
  }
};

TEST(RnnTrainModeTest, DropoutGradientUsesTheForwardMasks) {
  GruCall call;
  const std::vector<NDArray> trained = call.Train(call.inputs, 7);
  ASSERT_EQ(trained.size(), 3u);  // output, state_output and the hidden saved activations.

  // Dropout happened: the saved masks are 0 or 1/(1-p), and the output differs from predict mode.
  const ops::nn::RnnConfig config = ops::nn::ConfigFrom("RNN", call.params, Shape({3, 2, 2}));
  const std::vector<double> reserve = Read(trained[2]);
  const int64_t mask_at = config.BoundaryOffset(0) + 3 * 2 * 6, mask_size = 3 * 2 * 6;
  int zeros = 0;
  for (int64_t i = 0; i < mask_size; ++i) {
    const double factor = reserve[mask_at + i];
    EXPECT_TRUE(factor == 0 || std::abs(factor - 1 / 0.6) < 1e-12) << factor;
    zeros += factor == 0;
  }
  EXPECT_GT(zeros, 0);
  EXPECT_LT(zeros, mask_size);
  EXPECT_NE(Read(trained[0]), Read(Invoke(call.def, call.inputs, call.params)[0]));

  // The gradient of the trained call against finite differences of training-mode calls with the same masks.
  uint64_t state = 9;
  const std::vector<NDArray> heads = {Uniform(trained[0].shape(), 1.0, &state),
                                      Uniform(trained[1].shape(), 1.0, &state)};
  const std::vector<NDArray> grads = ComputeGradient(call.def, call.params, call.inputs, trained, heads);
  auto objective = [&](const std::vector<NDArray>& values) {
    const std::vector<NDArray> outputs = call.Train(values, 7);
    double total = 0;
    for (int k = 0; k < 2; ++k) {
      const std::vector<double> out = Read(outputs[k]), head = Read(heads[k]);
      for (size_t i = 0; i < out.size(); ++i) total += out[i] * head[i];
    }
    return total;
  };
  for (int input = 0; input < 3; ++input) {
    const std::vector<double> analytic = Read(grads[input]);
    std::vector<double> values = Read(call.inputs[input]);
    const size_t checked = std::min<size_t>(values.size(), 40);  // Enough to cover every layer's weights.
    for (size_t k = 0; k < checked; ++k) {
      const size_t i = k * values.size() / checked;
      const double step = 1e-6, saved = values[i];
      std::vector<NDArray> plus = call.inputs, minus = call.inputs;
      values[i] = saved + step;
      plus[input] = NDArray::FromHostBuffer(values.data(), call.inputs[input].shape(), DType::kFloat64);
      values[i] = saved - step;
      minus[input] = NDArray::FromHostBuffer(values.data(), call.inputs[input].shape(), DType::kFloat64);
      values[i] = saved;
      const double numeric = (objective(plus) - objective(minus)) / (2 * step);
      EXPECT_NEAR(analytic[i], numeric, 1e-5 + 1e-4 * std::abs(numeric)) << "input " << input << " element " << i;
    }
  }
}

TEST(RnnTrainModeTest, OneLayerHasNoDropout) {
  const OpDef& def = OpRegistry::Get()->Lookup("RNN");
  const OpParams params = def.ParseParams({{"state_size", "2"}, {"num_layers", "1"}, {"mode", "lstm"}, {"p", "0.5"}});
  uint64_t state = 3;
  const int64_t count = ops::nn::ConfigFrom("RNN", params, Shape({2, 2, 3})).ParamCount();
  const std::vector<NDArray> inputs = {Uniform(Shape({2, 2, 3}), 1.0, &state), Uniform(Shape({count}), 0.5, &state),
                                       Uniform(Shape({1, 2, 2}), 1.0, &state), Uniform(Shape({1, 2, 2}), 1.0, &state)};
  InvokeOptions options;
  options.is_train = true;
  EXPECT_EQ(Read(Invoke(def, inputs, params, options)[0]), Read(Invoke(def, inputs, params)[0]));
}

TEST(RnnTrainModeTest, AddModeAccumulatesIntoGivenOutputs) {
  GruCall call;
  for (const char* dtype : {"float32", "float64"}) {
    std::vector<NDArray> inputs;
    for (const NDArray& input : call.inputs) inputs.push_back(Invoke1("Cast", {input}, {{"dtype", dtype}}));
    const std::vector<NDArray> plain = Invoke(call.def, inputs, call.params);
    InvokeOptions options;
    for (const NDArray& output : plain) options.outputs.push_back(NDArray::Ones(output.shape(), output.dtype()));
    options.modes = {WriteMode::kAdd, WriteMode::kAdd, WriteMode::kWrite};
    const std::vector<NDArray> added = Invoke(call.def, inputs, call.params, options);
    for (int k = 0; k < 2; ++k) {
      const std::vector<double> expected = Read(plain[k]), got = Read(added[k]);
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i] + 1, 1e-6) << dtype;
    }
  }
}

TEST(RnnTrainModeTest, Bfloat16RunsInFloat) {
  GruCall call;
  std::vector<NDArray> inputs;
  for (const NDArray& input : call.inputs) inputs.push_back(Invoke1("Cast", {input}, {{"dtype", "bfloat16"}}));
  const std::vector<NDArray> low = Invoke(call.def, inputs, call.params);
  ASSERT_EQ(low[0].dtype(), DType::kBfloat16);
  ASSERT_EQ(low[2].dtype(), DType::kFloat32);  // Saved activations keep the compute precision.
  std::vector<NDArray> exact_inputs;
  for (const NDArray& input : inputs) exact_inputs.push_back(Invoke1("Cast", {input}, {{"dtype", "float64"}}));
  const std::vector<double> expected = Read(Invoke(call.def, exact_inputs, call.params)[0]), got = Read(low[0]);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-2);
}

TEST(RnnParamConcatTest, InfersUnknownInputsFromTheOutput) {
  const OpDef& def = OpRegistry::Get()->Lookup("_rnn_param_concat");
  const OpParams params = def.ParseParams({{"num_args", "4"}, {"dim", "0"}});
  std::vector<MaybeShape> in = {std::nullopt, Shape({6}), std::nullopt, Shape({2})};
  std::vector<MaybeShape> out = {std::nullopt};
  EXPECT_FALSE(def.infer_shape(params, &in, &out));  // Too little known yet.
  out = {Shape({20})};
  ASSERT_TRUE(def.infer_shape(params, &in, &out));
  EXPECT_EQ(*in[0], Shape({6}));
  EXPECT_EQ(*in[2], Shape({6}));

  std::vector<MaybeShape> three_unknown = {std::nullopt, std::nullopt, std::nullopt, Shape({2})};
  EXPECT_THROW(def.infer_shape(params, &three_unknown, &out), Error);
  std::vector<MaybeShape> too_big = {std::nullopt, Shape({30}), Shape({2}), Shape({2})};
  EXPECT_THROW(def.infer_shape(params, &too_big, &out), Error);
}

}  // namespace
}  // namespace pmx
