// Training-mode behaviour of the nn layers (KernelContext::is_train), which the C ABI's op calls do not
// reach: Dropout drops only while training (or with mode 'always'), RReLU draws random slopes only while
// training, and both gradients use the mask of the forward call they belong to; IdentityAttachKLSparseReg
// updates its moving average only while training.
#include <algorithm>
#include <vector>

#include "core/ops/gradient.h"
#include "core/ops/invoke.h"
#include "gtest/gtest.h"

namespace pmx {
namespace {

std::vector<float> Read(const NDArray& array) {
  std::vector<float> values(array.size());
  array.CopyToHost(values.data(), array.nbytes());
  return values;
}

InvokeOptions Training() {
  InvokeOptions options;
  options.is_train = true;
  return options;
}

TEST(NnTrainModeTest, DropoutDropsOnlyWhileTraining) {
  const NDArray x = NDArray::Full(Shape({100, 100}), 2.0);
  const OpDef& dropout = OpRegistry::Get()->Lookup("Dropout");
  const OpParams params = dropout.ParseParams({{"p", "0.3"}});

  const std::vector<NDArray> trained = Invoke(dropout, {x}, params, Training());
  ASSERT_EQ(trained.size(), 2u);  // output and the hidden mask.
  const std::vector<float> out = Read(trained[0]), mask = Read(trained[1]);
  int dropped = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0) {
      ++dropped;
      EXPECT_EQ(mask[i], 0.0f);
    } else {
      EXPECT_NEAR(out[i], 2.0f / 0.7f, 1e-5);
      EXPECT_NEAR(mask[i], 1.0f / 0.7f, 1e-5);
    }
  }
  EXPECT_NEAR(dropped / 10000.0, 0.3, 0.03);

  // The gradient is head * mask of the forward call it is given.
  const NDArray head = NDArray::Ones(Shape({100, 100}));
  const std::vector<float> grad = Read(ComputeGradient(dropout, params, {x}, trained, {head})[0]);
  for (size_t i = 0; i < grad.size(); ++i) EXPECT_EQ(grad[i], mask[i]);

  // Predict mode: the identity, with a mask of ones so the same gradient holds.
  const std::vector<NDArray> predicted = Invoke(dropout, {x}, params);
  for (float value : Read(predicted[0])) EXPECT_EQ(value, 2.0f);
  for (float value : Read(predicted[1])) EXPECT_EQ(value, 1.0f);
}

TEST(NnTrainModeTest, DropoutModeAlwaysIgnoresTrainingMode) {
  const NDArray x = NDArray::Ones(Shape({50, 50}));
  const std::vector<NDArray> out = Invoke("Dropout", {x}, {{"p", "0.5"}, {"mode", "always"}});
  int dropped = 0;
  for (float value : Read(out[0])) dropped += value == 0;
  EXPECT_NEAR(dropped / 2500.0, 0.5, 0.05);
}

TEST(NnTrainModeTest, RReLUDrawsSlopesOnlyWhileTraining) {
  const NDArray x = NDArray::Full(Shape({40, 50}), -1.0);
  const OpDef& leaky = OpRegistry::Get()->Lookup("LeakyReLU");
  const OpParams params = leaky.ParseParams({{"act_type", "rrelu"}, {"lower_bound", "0.1"}, {"upper_bound", "0.3"}});

  const std::vector<NDArray> trained = Invoke(leaky, {x}, params, Training());
  const std::vector<float> out = Read(trained[0]), slopes = Read(trained[1]);
  double sum = 0, min = 1, max = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_FLOAT_EQ(out[i], -slopes[i]);
    EXPECT_GE(slopes[i], 0.1f);
    EXPECT_LE(slopes[i], 0.3f);
    sum += slopes[i];
    min = std::min<double>(min, slopes[i]);
    max = std::max<double>(max, slopes[i]);
  }
  EXPECT_NEAR(sum / out.size(), 0.2, 0.01);
  EXPECT_LT(min, 0.11);
  EXPECT_GT(max, 0.29);

  // The gradient for negative inputs is the slope drawn for each element.
  const NDArray head = NDArray::Ones(Shape({40, 50}));
  const NDArray mask_head = NDArray::Zeros(Shape({40, 50}));
  const std::vector<float> grad = Read(ComputeGradient(leaky, params, {x}, trained, {head, mask_head})[0]);
  for (size_t i = 0; i < grad.size(); ++i) EXPECT_FLOAT_EQ(grad[i], slopes[i]);

  // Predict mode: the mean slope everywhere.
  for (float value : Read(Invoke(leaky, {x}, params)[0])) EXPECT_FLOAT_EQ(value, -0.2f);
}

TEST(NnTrainModeTest, KLSparseRegUpdatesItsMovingAverageWhileTraining) {
  const float data[] = {0.2f, 0.4f, 0.6f, 0.8f};  // (2, 2): unit means 0.4 and 0.6.
  const NDArray x = NDArray::FromHostBuffer(data, Shape({2, 2}));
  const NDArray average = NDArray::Full(Shape({2}), 0.5);
  Invoke("IdentityAttachKLSparseReg", {x, average}, {{"momentum", "0.75"}});
  EXPECT_EQ(Read(average), std::vector<float>({0.5f, 0.5f}));  // Predict mode leaves it alone.
  const std::vector<NDArray> out =
      Invoke("IdentityAttachKLSparseReg", {x, average}, {{"momentum", "0.75"}}, Training());
  EXPECT_EQ(Read(out[0]), std::vector<float>(data, data + 4));
  const std::vector<float> updated = Read(average);
  EXPECT_FLOAT_EQ(updated[0], 0.75f * 0.5f + 0.25f * 0.4f);
  EXPECT_FLOAT_EQ(updated[1], 0.75f * 0.5f + 0.25f * 0.6f);
}

}  // namespace
}  // namespace pmx
