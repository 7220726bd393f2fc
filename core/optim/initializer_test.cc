// Initializers: statistics of the random ones, orthonormality, name dispatch, the JSON form both ways and
// reproducibility under mx.random.seed.
#include "core/optim/initializer.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/ops/invoke.h"
#include "core/optim/internal/test_util.h"
#include "gtest/gtest.h"

namespace pmx {
namespace optim {
namespace {

using testing::ToVector;

// Mean and variance of `values`.
std::pair<double, double> Moments(const std::vector<double>& values) {
  double mean = 0, square = 0;
  for (double value : values) mean += value;
  mean /= values.size();
  for (double value : values) square += (value - mean) * (value - mean);
  return {mean, square / values.size()};
}

// Initializes a new float32 array of `shape` as parameter `name`.
std::vector<double> Initialize(const Initializer& init, const std::string& name, const Shape& shape,
                               const std::map<std::string, std::string>& attrs = {}) {
  NDArray array = NDArray::Full(shape, -7.0);
  init.Apply(InitDesc{name, attrs}, array);
  return ToVector(array);
}

TEST(InitializerTest, UniformAndNormalStatistics) {
  SeedRandom(1);
  const std::vector<double> uniform = Initialize(Uniform(0.5), "w_weight", Shape({200, 100}));
  for (double value : uniform) ASSERT_TRUE(value >= -0.5 && value < 0.5) << value;
  const auto [mean, variance] = Moments(uniform);
  EXPECT_NEAR(mean, 0, 0.01);
  EXPECT_NEAR(variance, 0.25 / 3, 0.03 * 0.25 / 3);  // Uniform on [-a, a): a^2 / 3.
  const auto [normal_mean, normal_variance] = Moments(Initialize(Normal(0.2), "w_weight", Shape({200, 100})));
  EXPECT_NEAR(normal_mean, 0, 0.005);
  EXPECT_NEAR(normal_variance, 0.04, 0.03 * 0.04);
}

TEST(InitializerTest, XavierVariance) {
  SeedRandom(2);
  // Convolution weight (64, 32, 3, 3): fan_in = 32*9 = 288, fan_out = 64*9 = 576.
  const Shape shape({64, 32, 3, 3});
  struct Case {
    std::string rnd_type, factor_type;
    double magnitude, factor;
  };
  for (const Case& c : {Case{"uniform", "avg", 3, (288 + 576) / 2.0}, Case{"gaussian", "in", 2, 288.0},
                        Case{"uniform", "out", 3, 576.0}}) {
    const double scale = std::sqrt(c.magnitude / c.factor);
    // Uniform on [-c, c) has variance c^2/3; gaussian has c^2.
    const double expected = c.rnd_type == "uniform" ? scale * scale / 3 : scale * scale;
    auto [mean, variance] = Moments(Initialize(Xavier(c.rnd_type, c.factor_type, c.magnitude), "conv_weight", shape));
    EXPECT_NEAR(mean, 0, 0.05 * scale) << c.rnd_type << " " << c.factor_type;
    EXPECT_NEAR(variance, expected, 0.05 * expected) << c.rnd_type << " " << c.factor_type;
  }
}

TEST(InitializerTest, MsraPreluVariance) {
  SeedRandom(3);
  // Gaussian with variance magnitude / fan_in, magnitude = 2 / (1 + slope^2).
  const double expected = 2 / (1 + 0.25 * 0.25) / 400.0;
  auto [mean, variance] = Moments(Initialize(MSRAPrelu("in", 0.25), "fc_weight", Shape({300, 400})));
  EXPECT_NEAR(mean, 0, 0.01 * std::sqrt(expected));
  EXPECT_NEAR(variance, expected, 0.03 * expected);
}

// Rows (wide) or columns (tall) of the scaled result are orthonormal after dividing by scale.
void CheckOrthogonal(const std::string& rand_type, int64_t rows, int64_t cols, const Shape& shape) {
  SCOPED_TRACE(rand_type + " " + shape.ToString());
  const double scale = 1.5;
  const std::vector<double> w = Initialize(Orthogonal(scale, rand_type), "rnn_weight", shape);
  const bool wide = rows <= cols;
  const int64_t count = wide ? rows : cols, length = wide ? cols : rows;
  auto at = [&](int64_t vector, int64_t k) { return (wide ? w[vector * cols + k] : w[k * cols + vector]) / scale; };
  for (int64_t a = 0; a < count; ++a) {
    for (int64_t b = 0; b <= a; ++b) {
      double dot = 0;
      for (int64_t k = 0; k < length; ++k) dot += at(a, k) * at(b, k);
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-5) << a << ", " << b;
    }
  }
}

TEST(InitializerTest, OrthogonalRowsOrColumns) {
  SeedRandom(4);
  CheckOrthogonal("uniform", 4, 12, Shape({4, 3, 2, 2}));
  CheckOrthogonal("normal", 6, 6, Shape({6, 6}));
  CheckOrthogonal("normal", 10, 3, Shape({10, 3}));
}

TEST(InitializerTest, ConstantsAndNameDispatch) {
  const Constant five(5);
  EXPECT_EQ(Initialize(five, "fc1_weight", Shape({2}))[0], 5);
  EXPECT_EQ(Initialize(five, "fc1_bias", Shape({2}))[0], 0);
  EXPECT_EQ(Initialize(five, "bn_gamma", Shape({2}))[0], 1);
  EXPECT_EQ(Initialize(five, "bn_beta", Shape({2}))[0], 0);
  EXPECT_EQ(Initialize(five, "bn_moving_mean", Shape({2}))[0], 0);
  EXPECT_EQ(Initialize(five, "bn_moving_var", Shape({2}))[0], 1);
  EXPECT_EQ(Initialize(Zero(), "w_weight", Shape({2}))[1], 0);
  EXPECT_EQ(Initialize(One(), "w_weight", Shape({2}))[1], 1);
  // The __init__ attribute wins over the name, and its initializer's weight rule applies even to a bias.
  EXPECT_EQ(Initialize(five, "fc1_bias", Shape({2}), {{"__init__", "[\"constant\", {\"value\": 3}]"}})[0], 3);
  EXPECT_EQ(Initialize(Uniform(), "bn_moving_var", Shape({2}), {{"__init__", "[\"one\", {}]"}})[0], 1);
  try {
    Initialize(five, "fc1_scale", Shape({2}));
    ADD_FAILURE() << "expected ValueError";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("unknown initialization pattern for 'fc1_scale'"), std::string::npos);
  }
}

TEST(InitializerTest, JsonRoundTrip) {
  // The exact text MXNet 1.9.1 writes for these calls.
  EXPECT_EQ(Xavier().Dumps(), "[\"xavier\", {\"rnd_type\": \"uniform\", \"factor_type\": \"avg\", \"magnitude\": 3}]");
  EXPECT_EQ(CreateInitializer("xavier", {{"factor_type", "in"}, {"magnitude", "2.34"}})->Dumps(),
            "[\"xavier\", {\"rnd_type\": \"uniform\", \"factor_type\": \"in\", \"magnitude\": 2.34}]");
  EXPECT_EQ(Normal(0.5).Dumps(), "[\"normal\", {\"sigma\": 0.5}]");
  EXPECT_EQ(Uniform().Dumps(), "[\"uniform\", {\"scale\": 0.07}]");
  EXPECT_EQ(Zero().Dumps(), "[\"zero\", {}]");
  EXPECT_EQ(CreateInitializer("ones")->Dumps(), "[\"one\", {}]");
  EXPECT_EQ(MSRAPrelu().Dumps(), "[\"msraprelu\", {\"factor_type\": \"avg\", \"slope\": 0.25}]");
  EXPECT_EQ(Orthogonal().Dumps(), "[\"orthogonal\", {\"scale\": 1.414, \"rand_type\": \"uniform\"}]");
  EXPECT_EQ(CreateInitializer("constant", {{"value", "0.5"}})->Dumps(), "[\"constant\", {\"value\": 0.5}]");
  // Parsing what Dumps wrote gives an initializer that writes the same text and behaves the same.
  for (const std::string& json :
       {std::string("[\"xavier\", {\"rnd_type\": \"gaussian\", \"factor_type\": \"out\", \"magnitude\": 2.0}]"),
        std::string("[\"orthogonal\", {\"scale\": 2, \"rand_type\": \"normal\"}]"),
        std::string("[\"msraprelu\", {\"factor_type\": \"in\", \"slope\": 0.1}]"),
        Normal(0.5).Dumps(), Zero().Dumps()}) {
    std::unique_ptr<Initializer> parsed = CreateInitializer(json);
    EXPECT_EQ(parsed->Dumps(), json);
    EXPECT_EQ(CreateInitializer(parsed->Dumps())->Dumps(), json);
  }
  SeedRandom(9);
  const std::vector<double> direct = Initialize(Xavier("gaussian", "out", 2.0), "w_weight", Shape({5, 4}));
  SeedRandom(9);
  const std::vector<double> parsed = Initialize(
      *CreateInitializer("[\"xavier\", {\"rnd_type\": \"gaussian\", \"factor_type\": \"out\", \"magnitude\": 2.0}]"),
      "w_weight", Shape({5, 4}));
  EXPECT_EQ(direct, parsed);
}

TEST(InitializerTest, SeedingIsReproducible) {
  SeedRandom(42);
  const std::vector<double> first = Initialize(Xavier(), "w_weight", Shape({8, 8}));
  const std::vector<double> second = Initialize(Xavier(), "w_weight", Shape({8, 8}));
  SeedRandom(42);
  EXPECT_EQ(Initialize(Xavier(), "w_weight", Shape({8, 8})), first);
  EXPECT_NE(first, second);
  SeedRandom(42);
  const std::vector<double> orthogonal = Initialize(Orthogonal(), "w_weight", Shape({3, 5}));
  SeedRandom(42);
  EXPECT_EQ(Initialize(Orthogonal(), "w_weight", Shape({3, 5})), orthogonal);
}

TEST(InitializerTest, MixedPicksTheFirstMatchingPattern) {
  Mixed mixed({"bias", ".*"}, {std::make_shared<Constant>(2.0), std::make_shared<One>()});
  // re.match anchors at the start: "fc_bias" does not match "bias", so ".*" (One) handles it as a bias.
  EXPECT_EQ(Initialize(mixed, "bias_weight", Shape({2}))[0], 2);
  EXPECT_EQ(Initialize(mixed, "fc_weight", Shape({2}))[0], 1);
  EXPECT_EQ(Initialize(mixed, "fc_bias", Shape({2}))[0], 0);
  Mixed narrow({"conv"}, {std::make_shared<Zero>()});
  EXPECT_THROW(Initialize(narrow, "fc_weight", Shape({2})), Error);
  EXPECT_THROW(Mixed({"("}, {std::make_shared<Zero>()}), Error);
  EXPECT_THROW(mixed.Dumps(), Error);
}

TEST(InitializerTest, ClearErrors) {
  EXPECT_THROW(CreateInitializer("glorot"), Error);
  EXPECT_THROW(CreateInitializer("xavier", {{"rnd_type", "cauchy"}}), Error);
  EXPECT_THROW(CreateInitializer("uniform", {{"sigma", "1"}}), Error);
  EXPECT_THROW(CreateInitializer("[\"xavier\", 3]"), Error);
  EXPECT_THROW(CreateInitializer("[\"xavier\", {}", {}), Error);
  EXPECT_THROW(Initialize(Xavier(), "bias_weight", Shape({4})), Error);  // Needs 2-D.
}

}  // namespace
}  // namespace optim
}  // namespace pmx
