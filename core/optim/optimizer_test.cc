// Every optimizer against an independent float64 transcription of MXNet's update formulas, plus the
// bookkeeping around them: multipliers, update counts, schedulers, multi-precision and errors.
#include "core/optim/optimizer.h"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/base/error.h"
#include "core/optim/internal/test_util.h"
#include "gtest/gtest.h"

namespace pmx {
namespace optim {
namespace {

using testing::Array;
using testing::ExpectClose;
using testing::ToVector;
using testing::Values;
using Vec = std::vector<double>;

constexpr double kLr = 0.1, kWd = 0.1, kRescale = 0.5, kClip = 0.8;
const Shape kShape({2, 3});
constexpr int kSize = 6;

double Clip(double x, double bound) { return bound > 0 ? std::min(std::max(x, -bound), bound) : x; }
double Sign(double x) { return (x > 0) - (x < 0); }

// The gradient of step t (1-based): values in [-3, 3), so rescale 0.5 plus clip 0.8 clips some of them.
Vec Grad(int t) { return Values(kSize, -3, 3, 10 + t); }

// A reference step: updates `w` and `states` from gradient `g` at update count t.
using Reference = std::function<void(Vec& w, const Vec& g, std::vector<Vec>& states, int t)>;

// Runs `steps` updates of optimizer `name` on a float64 weight and checks each against `reference`.
void CheckAgainstReference(const std::string& name, const KwArgs& kwargs, int num_states, const Reference& reference,
                           int steps = 3) {
  SCOPED_TRACE(name);
  std::unique_ptr<Optimizer> optimizer = CreateOptimizer(name, kwargs);
  Vec expected = Values(kSize, -1, 1, 3);
  NDArray weight = Array(expected, kShape);
  OptimizerState state = optimizer->CreateState(0, weight);
  ASSERT_EQ(static_cast<int>(state.arrays.size()), num_states);
  EXPECT_TRUE(state.weight32.is_none());
  std::vector<Vec> states(num_states, Vec(kSize, 0.0));
  for (int t = 1; t <= steps; ++t) {
    const Vec g = Grad(t);
    optimizer->Update(0, weight, Array(g, kShape), &state);
    reference(expected, g, states, t);
    ExpectClose(ToVector(weight), expected, 1e-12, name + " weight after step " + std::to_string(t));
    for (int s = 0; s < num_states; ++s) {
      ExpectClose(ToVector(state.arrays[s]), states[s], 1e-12, name + " state " + std::to_string(s));
    }
  }
  EXPECT_EQ(optimizer->num_update(), steps);
}

const KwArgs kCommon = {{"learning_rate", "0.1"}, {"wd", "0.1"}, {"rescale_grad", "0.5"}, {"clip_gradient", "0.8"}};

KwArgs With(KwArgs kwargs, const KwArgs& more) {
  for (const auto& entry : more) kwargs[entry.first] = entry.second;
  return kwargs;
}

TEST(OptimizerTest, SgdWithoutMomentum) {
  CheckAgainstReference("sgd", kCommon, 0, [](Vec& w, const Vec& g, std::vector<Vec>&, int) {
    for (int i = 0; i < kSize; ++i) w[i] = (1 - kLr * kWd) * w[i] - kLr * Clip(kRescale * g[i], kClip);
  });
}

TEST(OptimizerTest, SgdWithMomentum) {
  CheckAgainstReference("sgd", With(kCommon, {{"momentum", "0.9"}}), 1, [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
    for (int i = 0; i < kSize; ++i) {
      s[0][i] = 0.9 * s[0][i] - kLr * kWd * w[i] - kLr * Clip(kRescale * g[i], kClip);
      w[i] += s[0][i];
    }
  });
}

TEST(OptimizerTest, Nag) {
  CheckAgainstReference("nag", With(kCommon, {{"momentum", "0.9"}}), 1, [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
    for (int i = 0; i < kSize; ++i) {
      const double step = kLr * (Clip(kRescale * g[i], kClip) + kWd * w[i]);
      const double decayed = 0.9 * s[0][i];
      s[0][i] = decayed - step;
      w[i] = w[i] - decayed + 1.9 * s[0][i];
    }
  });
}

TEST(OptimizerTest, Signum) {
  CheckAgainstReference("signum", With(kCommon, {{"momentum", "0.8"}, {"wd_lh", "0.05"}}), 1,
                        [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
                          for (int i = 0; i < kSize; ++i) {
                            // MXNet: state = m*state + (1-m)*(rescaled + wd*w); w -= lr*sign(state) (negated here).
                            s[0][i] = 0.8 * s[0][i] - 0.2 * (kWd * w[i] + Clip(kRescale * g[i], kClip));
                            w[i] = (1 - kLr * 0.05) * w[i] + kLr * Sign(s[0][i]);
                          }
                        });
  CheckAgainstReference("signum", With(kCommon, {{"momentum", "0"}}), 0, [](Vec& w, const Vec& g, std::vector<Vec>&, int) {
    for (int i = 0; i < kSize; ++i) w[i] = (1 - kLr * kWd) * w[i] - kLr * Sign(g[i]);
  });
}

TEST(OptimizerTest, Adam) {
  CheckAgainstReference("adam", kCommon, 2, [](Vec& w, const Vec& g, std::vector<Vec>& s, int t) {
    const double lr = kLr * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (int i = 0; i < kSize; ++i) {
      const double grad = Clip(kRescale * g[i] + kWd * w[i], kClip);
      s[0][i] = 0.9 * s[0][i] + 0.1 * grad;
      s[1][i] = 0.999 * s[1][i] + 0.001 * grad * grad;
      w[i] -= lr * s[0][i] / (std::sqrt(s[1][i]) + 1e-8);
    }
  });
}

TEST(OptimizerTest, AdamW) {
  CheckAgainstReference("adamw", With(kCommon, {{"beta1", "0.8"}}), 2, [](Vec& w, const Vec& g, std::vector<Vec>& s, int t) {
    const double eta = kLr * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.8, t));
    for (int i = 0; i < kSize; ++i) {
      const double grad = Clip(kRescale * g[i], kClip);
      s[0][i] = 0.8 * s[0][i] + 0.2 * grad;
      s[1][i] = 0.999 * s[1][i] + 0.001 * grad * grad;
      w[i] -= eta * (s[0][i] / (std::sqrt(s[1][i]) + 1e-6) + kWd * w[i]);
    }
  });
}

TEST(OptimizerTest, RmsProp) {
  CheckAgainstReference("rmsprop", With(kCommon, {{"clip_weights", "0.9"}}), 1, [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
    for (int i = 0; i < kSize; ++i) {
      const double grad = Clip(kRescale * g[i] + kWd * w[i], kClip);
      s[0][i] = 0.1 * grad * grad + 0.9 * s[0][i];
      w[i] = Clip(w[i] - kLr * grad / std::sqrt(s[0][i] + 1e-8), 0.9);
    }
  });
}

TEST(OptimizerTest, RmsPropCentered) {
  CheckAgainstReference("rmsprop", With(kCommon, {{"centered", "True"}, {"gamma2", "0.7"}}), 3,
                        [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
                          for (int i = 0; i < kSize; ++i) {
                            const double grad = Clip(kRescale * g[i] + kWd * w[i], kClip);
                            s[0][i] = 0.1 * grad * grad + 0.9 * s[0][i];
                            s[1][i] = 0.1 * grad + 0.9 * s[1][i];
                            s[2][i] = 0.7 * s[2][i] - kLr * grad / std::sqrt(s[0][i] - s[1][i] * s[1][i] + 1e-8);
                            w[i] += s[2][i];
                          }
                        });
}

TEST(OptimizerTest, AdaGrad) {
  CheckAgainstReference("adagrad", With(kCommon, {{"eps", "1e-6"}}), 1, [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
    for (int i = 0; i < kSize; ++i) {
      const double grad = Clip(kRescale * g[i], kClip);
      s[0][i] += grad * grad;
      w[i] += (grad / std::sqrt(s[0][i] + 1e-6) + w[i] * kWd) * -kLr;
    }
  });
}

TEST(OptimizerTest, AdaDelta) {
  CheckAgainstReference("adadelta", With(kCommon, {{"rho", "0.8"}}), 2, [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
    for (int i = 0; i < kSize; ++i) {
      const double grad = Clip(kRescale * g[i], kClip);
      s[0][i] = 0.8 * s[0][i] + 0.2 * grad * grad;
      const double delta = std::sqrt(s[1][i] + 1e-5) / std::sqrt(s[0][i] + 1e-5) * grad;
      s[1][i] = 0.8 * s[1][i] + 0.2 * delta * delta;
      w[i] -= delta + kWd * w[i];
    }
  });
}

TEST(OptimizerTest, Ftrl) {
  CheckAgainstReference("ftrl", With(kCommon, {{"lamda1", "0.05"}, {"beta", "0.5"}}), 2,
                        [](Vec& w, const Vec& g, std::vector<Vec>& s, int) {
                          for (int i = 0; i < kSize; ++i) {
                            const double grad = Clip(kRescale * g[i], kClip);
                            s[0][i] += grad - (std::sqrt(s[1][i] + grad * grad) - std::sqrt(s[1][i])) * w[i] / kLr;
                            s[1][i] += grad * grad;
                            w[i] = std::abs(s[0][i]) > 0.05
                                       ? (Sign(s[0][i]) * 0.05 - s[0][i]) / ((0.5 + std::sqrt(s[1][i])) / kLr + kWd)
                                       : 0;
                          }
                        });
}

// LAMB's phase 1 and 2 with the trust ratio |w| / |d|, r1 clamped to [lower, upper].
Reference LambReference(bool bias_correction, double lower, double upper) {
  return [=](Vec& w, const Vec& g, std::vector<Vec>& s, int t) {
    Vec d(kSize);
    double r1 = 0, r2 = 0;
    for (int i = 0; i < kSize; ++i) {
      const double grad = Clip(kRescale * g[i], kClip);
      s[0][i] = 0.9 * s[0][i] + 0.1 * grad;
      s[1][i] = 0.999 * s[1][i] + 0.001 * grad * grad;
      const double mean = bias_correction ? s[0][i] / (1 - std::pow(0.9, t)) : s[0][i];
      const double var = bias_correction ? s[1][i] / (1 - std::pow(0.999, t)) : s[1][i];
      d[i] = mean / (std::sqrt(var) + 1e-6) + kWd * w[i];
      r1 += w[i] * w[i];
      r2 += d[i] * d[i];
    }
    r1 = std::min(std::max(std::sqrt(r1), lower), upper);
    r2 = std::sqrt(r2);
    for (int i = 0; i < kSize; ++i) w[i] -= kLr * r1 / r2 * d[i];
  };
}

TEST(OptimizerTest, Lamb) {
  CheckAgainstReference("lamb", kCommon, 2, LambReference(true, 0, 1e300));
  CheckAgainstReference("lamb", With(kCommon, {{"bias_correction", "False"}, {"lower_bound", "1.5"}, {"upper_bound", "1.6"}}),
                        2, LambReference(false, 1.5, 1.6));
}

TEST(OptimizerTest, FactoryDefaultsAndNames) {
  EXPECT_DOUBLE_EQ(CreateOptimizer("SGD")->lr(), 0.01);
  EXPECT_DOUBLE_EQ(CreateOptimizer("adam")->lr(), 0.001);
  EXPECT_DOUBLE_EQ(CreateOptimizer("ftrl")->lr(), 0.1);
  EXPECT_EQ(CreateOptimizer("Adam", {{"beta1", "0.5"}})->GetParam("beta1"), "0.5");
  EXPECT_EQ(CreateOptimizer("sgd")->GetParam("clip_gradient"), "None");
  EXPECT_EQ(CreateOptimizer("rmsprop", {{"centered", "True"}})->GetParam("centered"), "True");
  const std::vector<std::string> names = OptimizerNames();
  for (const char* name : {"sgd", "nag", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "ftrl", "signum", "lamb"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
}

// Expects `fn` to throw an Error of `kind` whose message contains `text`.
void ExpectError(const std::function<void()>& fn, ErrorKind kind, const std::string& text) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing: " << text;
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), kind) << error.message();
    EXPECT_NE(error.message().find(text), std::string::npos) << error.message();
  }
}

TEST(OptimizerTest, ClearErrors) {
  ExpectError([] { CreateOptimizer("adamax2"); }, ErrorKind::kValueError, "cannot find optimizer 'adamax2'");
  ExpectError([] { CreateOptimizer("sgd", {{"momentun", "0.9"}}); }, ErrorKind::kValueError,
              "unknown parameter 'momentun'");
  ExpectError([] { CreateOptimizer("sgd", {{"momentum", "fast"}}); }, ErrorKind::kValueError,
              "'momentum' must be a real number, given 'fast'");
  ExpectError([] { CreateOptimizer("rmsprop", {{"centered", "maybe"}}); }, ErrorKind::kValueError, "boolean");
  std::unique_ptr<Optimizer> sgd = CreateOptimizer("sgd");
  sgd->SetLRScheduler(CreateLRScheduler("factor", {{"step", "2"}}));
  ExpectError([&] { sgd->SetParam("learning_rate", "0.5"); }, ErrorKind::kValueError, "lr_scheduler");
  NDArray weight = Array(Vec(kSize, 1), kShape);
  OptimizerState state = sgd->CreateState(0, weight);
  ExpectError([&] { sgd->Update(0, weight, Array(Vec(3, 1), Shape({3})), &state); }, ErrorKind::kValueError,
              "grad has shape (3,) but the weight has shape (2, 3)");
}

// lr_mult / wd_mult by index and by name, and MXNet's default of no weight decay for names that are not
// weights or gammas.
TEST(OptimizerTest, MultipliersByIndexAndName) {
  std::unique_ptr<Optimizer> sgd = CreateOptimizer("sgd", {{"learning_rate", "0.1"}, {"wd", "0.01"}});
  sgd->SetParamNames({{0, "fc1_weight"}, {1, "fc1_bias"}, {2, "bn_gamma"}, {3, "bn_beta"}});
  sgd->SetLrMult({{"fc1_weight", 0.5}, {"bn_gamma", 3.0}}, {{2, 2.0}});
  EXPECT_DOUBLE_EQ(sgd->LearningRateFor(0), 0.05);
  EXPECT_DOUBLE_EQ(sgd->LearningRateFor(1), 0.1);
  EXPECT_DOUBLE_EQ(sgd->LearningRateFor(2), 0.2);  // The index wins over the name.
  EXPECT_DOUBLE_EQ(sgd->LearningRateFor(7), 0.1);  // Unnamed, no multiplier.
  EXPECT_DOUBLE_EQ(sgd->WeightDecayFor(0), 0.01);
  EXPECT_DOUBLE_EQ(sgd->WeightDecayFor(1), 0.0);
  EXPECT_DOUBLE_EQ(sgd->WeightDecayFor(2), 0.01);
  EXPECT_DOUBLE_EQ(sgd->WeightDecayFor(3), 0.0);
  sgd->SetWdMult({{"fc1_bias", 0.5}}, {{0, 3.0}});
  EXPECT_DOUBLE_EQ(sgd->WeightDecayFor(0), 0.03);
  EXPECT_DOUBLE_EQ(sgd->WeightDecayFor(1), 0.005);
  EXPECT_DOUBLE_EQ(sgd->WeightDecayFor(3), 0.0);  // The default stays.

  // The multipliers reach the update: index 0 steps with lr 0.05 and wd 0.03, index 1 with lr 0.1, wd 0.005.
  const Vec w0 = Values(kSize, -1, 1, 4), g = Values(kSize, -1, 1, 5);
  for (int index : {0, 1}) {
    NDArray weight = Array(w0, kShape);
    OptimizerState state = sgd->CreateState(index, weight);
    sgd->Update(index, weight, Array(g, kShape), &state);
    const double lr = index == 0 ? 0.05 : 0.1, wd = index == 0 ? 0.03 : 0.005;
    Vec expected(kSize);
    for (int i = 0; i < kSize; ++i) expected[i] = (1 - lr * wd) * w0[i] - lr * g[i];
    ExpectClose(ToVector(weight), expected, 1e-12, "index " + std::to_string(index));
  }
}

// num_update is the largest per-index count, starting at begin_num_update; Adam's bias correction uses the
// index's own count.
TEST(OptimizerTest, UpdateCountsAndBiasCorrection) {
  std::unique_ptr<Optimizer> adam = CreateOptimizer("adam", {{"learning_rate", "0.1"}, {"begin_num_update", "5"}});
  EXPECT_EQ(adam->num_update(), 5);
  NDArray a = Array(Vec(kSize, 1), kShape), b = Array(Vec(kSize, 1), kShape);
  OptimizerState sa = adam->CreateState(0, a), sb = adam->CreateState(1, b);
  const NDArray grad = Array(Vec(kSize, 0.5), kShape);
  adam->Update(0, a, grad, &sa);
  adam->Update(0, a, grad, &sa);
  adam->Update(1, b, grad, &sb);
  EXPECT_EQ(adam->UpdateCount(0), 7);
  EXPECT_EQ(adam->UpdateCount(1), 6);
  EXPECT_EQ(adam->num_update(), 7);
  // b's single step at t = 6: m = 0.05, v = 0.00025, lr_t = 0.1 * sqrt(1 - 0.999^6) / (1 - 0.9^6).
  const double lr_t = 0.1 * std::sqrt(1 - std::pow(0.999, 6)) / (1 - std::pow(0.9, 6));
  const double expected = 1 - lr_t * 0.05 / (std::sqrt(0.00025) + 1e-8);
  ExpectClose(ToVector(b), Vec(kSize, expected), 1e-12, "b");
}

// UpdateWith takes lr, wd and t from the caller: the same step as Update with that bookkeeping, and the
// optimizer's own counts stay untouched.
TEST(OptimizerTest, UpdateWithTakesTheCallersBookkeeping) {
  std::unique_ptr<Optimizer> counted = CreateOptimizer("adam", {{"learning_rate", "0.1"}, {"wd", "0.01"}});
  std::unique_ptr<Optimizer> given = CreateOptimizer("adam", {{"learning_rate", "99"}, {"wd", "99"}});
  NDArray a = Array(Values(kSize, -1, 1, 4), kShape), b = Array(Values(kSize, -1, 1, 4), kShape);
  OptimizerState sa = counted->CreateState(0, a), sb = given->CreateState(0, b);
  for (int t = 1; t <= 3; ++t) {
    const NDArray grad = Array(Grad(t), kShape);
    counted->Update(0, a, grad, &sa);
    given->UpdateWith(0, 0.1, 0.01, t, b, grad, &sb);
    ExpectClose(ToVector(b), ToVector(a), 0, "step " + std::to_string(t));
  }
  EXPECT_EQ(given->num_update(), 0);
  EXPECT_EQ(given->UpdateCount(0), 0);
  const NDArray grad = Array(Grad(1), kShape);
  EXPECT_THROW(given->UpdateWith(0, 0.1, 0, 0, b, grad, &sb), Error);
  EXPECT_THROW(given->UpdateWith(0, 0.1, 0, 1, b, Array(Vec(2, 0), Shape({2})), &sb), Error);
}

// A scheduler decides the rate at each num_update and takes the optimizer's learning_rate as base_lr.
TEST(OptimizerTest, SchedulerDrivesTheLearningRate) {
  std::unique_ptr<Optimizer> sgd = CreateOptimizer("sgd", {{"learning_rate", "0.2"}});
  sgd->SetLRScheduler(CreateLRScheduler("factor", {{"step", "2"}, {"factor", "0.5"}, {"base_lr", "1.0"}}));
  EXPECT_DOUBLE_EQ(sgd->lr_scheduler()->base_lr(), 0.2);
  NDArray weight = Array(Vec(kSize, 0), kShape);
  OptimizerState state = sgd->CreateState(0, weight);
  const NDArray ones = Array(Vec(kSize, 1), kShape);
  double expected = 0;
  for (double lr : {0.2, 0.2, 0.1, 0.1, 0.05}) {
    sgd->Update(0, weight, ones, &state);
    expected -= lr;
    ExpectClose(ToVector(weight), Vec(kSize, expected), 1e-12, "scheduled sgd");
  }
  EXPECT_DOUBLE_EQ(sgd->CurrentLearningRate(), 0.05);
}

// Multi-precision: a float32 master copy of a float16 weight accumulates steps too small for float16.
void CheckMultiPrecision(const std::string& name, KwArgs kwargs) {
  SCOPED_TRACE(name);
  kwargs["multi_precision"] = "True";
  std::unique_ptr<Optimizer> mixed = CreateOptimizer(name, kwargs);
  kwargs["multi_precision"] = "False";
  std::unique_ptr<Optimizer> plain16 = CreateOptimizer(name, kwargs);
  std::unique_ptr<Optimizer> plain32 = CreateOptimizer(name, kwargs);
  const Vec w0 = Values(kSize, 0.5, 1.0, 6);
  NDArray w16 = Array(w0, kShape, DType::kFloat16), w16_plain = Array(w0, kShape, DType::kFloat16);
  NDArray w32 = Array(ToVector(w16), kShape, DType::kFloat32);
  OptimizerState mixed_state = mixed->CreateState(0, w16);
  OptimizerState plain_state = plain16->CreateState(0, w16_plain);
  OptimizerState state32 = plain32->CreateState(0, w32);
  ASSERT_FALSE(mixed_state.weight32.is_none());
  EXPECT_EQ(mixed_state.weight32.dtype(), DType::kFloat32);
  for (const NDArray& array : mixed_state.arrays) EXPECT_EQ(array.dtype(), DType::kFloat32);
  EXPECT_TRUE(plain_state.weight32.is_none());
  for (int t = 1; t <= 8; ++t) {
    const Vec g = Values(kSize, 0.5, 1.0, 20 + t);
    mixed->Update(0, w16, Array(g, kShape, DType::kFloat16), &mixed_state);
    plain16->Update(0, w16_plain, Array(g, kShape, DType::kFloat16), &plain_state);
    plain32->Update(0, w32, Array(ToVector(Array(g, kShape, DType::kFloat16)), kShape, DType::kFloat32), &state32);
  }
  // The master copy follows a float32 run; the float16 weight is its rounding.
  ExpectClose(ToVector(mixed_state.weight32), ToVector(w32), 1e-6, "master copy");
  ExpectClose(ToVector(w16), ToVector(mixed_state.weight32.AsType(DType::kFloat16)), 0, "weight");
  // Tiny steps: the float32 run moved every weight, float16 alone lost (some of) them.
  const Vec moved = ToVector(w32), stuck = ToVector(w16_plain);
  double mixed_error = 0, plain_error = 0;
  for (int i = 0; i < kSize; ++i) {
    EXPECT_NE(moved[i], ToVector(Array(w0, kShape, DType::kFloat16))[i]) << i;
    mixed_error += std::abs(ToVector(mixed_state.weight32)[i] - moved[i]);
    plain_error += std::abs(stuck[i] - moved[i]);
  }
  EXPECT_LT(mixed_error, plain_error);
}

TEST(OptimizerTest, MultiPrecisionKeepsAFloat32MasterCopy) {
  CheckMultiPrecision("sgd", {{"learning_rate", "1e-4"}, {"momentum", "0.5"}, {"wd", "0.01"}});
  CheckMultiPrecision("sgd", {{"learning_rate", "1e-4"}});
  CheckMultiPrecision("nag", {{"learning_rate", "1e-4"}, {"momentum", "0.5"}});
  CheckMultiPrecision("adam", {{"learning_rate", "1e-5"}});                    // Generic: cast back.
  CheckMultiPrecision("adamw", {{"learning_rate", "1e-5"}, {"wd", "0.01"}});  // _mp_adamw_update.
  CheckMultiPrecision("lamb", {{"learning_rate", "1e-5"}});                    // mp_lamb_update_phase1.
  CheckMultiPrecision("rmsprop", {{"learning_rate", "1e-5"}});
}

}  // namespace
}  // namespace optim
}  // namespace pmx
