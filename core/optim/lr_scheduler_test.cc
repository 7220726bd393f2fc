// The schedules against their closed forms at chosen update counts, warmup included.
#include "core/optim/lr_scheduler.h"

#include <cmath>
#include <functional>
#include <string>

#include "core/base/error.h"
#include "gtest/gtest.h"

namespace pmx {
namespace optim {
namespace {

// Asks `scheduler` for every n in [0, last] in order (as training does) and compares with `expected(n)`.
void ExpectSchedule(LRScheduler& scheduler, int last, const std::function<double(int)>& expected) {
  for (int n = 0; n <= last; ++n) EXPECT_NEAR(scheduler(n), expected(n), 1e-12) << scheduler.name() << " at " << n;
}

TEST(LRSchedulerTest, FactorDecaysAfterEachStep) {
  auto scheduler = CreateLRScheduler("factor", {{"step", "3"}, {"factor", "0.5"}, {"base_lr", "1"}});
  // base * factor**floor((n - 1) / step): the decay happens once n exceeds a multiple of step.
  ExpectSchedule(*scheduler, 12, [](int n) { return n == 0 ? 1.0 : std::pow(0.5, (n - 1) / 3); });
  // Stateful, as MXNet's: an earlier count does not undo the decay.
  EXPECT_DOUBLE_EQ((*scheduler)(1), std::pow(0.5, 3));
}

TEST(LRSchedulerTest, FactorStopsAtStopFactorLr) {
  auto scheduler = CreateLRScheduler("FactorScheduler", {{"step", "1"}, {"factor", "0.1"}, {"stop_factor_lr", "0.005"},
                                                         {"base_lr", "1"}});
  ExpectSchedule(*scheduler, 6, [](int n) { return n <= 1 ? 1.0 : n == 2 ? 0.1 : n == 3 ? 0.01 : 0.005; });
}

TEST(LRSchedulerTest, FactorWithLinearWarmup) {
  auto scheduler = CreateLRScheduler("factor", {{"step", "3"},
                                                {"factor", "0.5"},
                                                {"base_lr", "1"},
                                                {"warmup_steps", "4"},
                                                {"warmup_begin_lr", "0.1"}});
  ExpectSchedule(*scheduler, 10, [](int n) { return n < 4 ? 0.1 + 0.9 * n / 4.0 : std::pow(0.5, (n - 1) / 3); });
}

TEST(LRSchedulerTest, MultiFactorDecaysPastEachListedStep) {
  auto scheduler = CreateLRScheduler("multifactor", {{"step", "[3, 6]"}, {"factor", "0.1"}, {"base_lr", "2"}});
  ExpectSchedule(*scheduler, 9, [](int n) { return n <= 3 ? 2.0 : n <= 6 ? 0.2 : 0.02; });
}

TEST(LRSchedulerTest, MultiFactorWithConstantWarmup) {
  auto scheduler = CreateLRScheduler("multifactor", {{"step", "(5, 7)"},
                                                     {"factor", "0.5"},
                                                     {"base_lr", "1"},
                                                     {"warmup_steps", "3"},
                                                     {"warmup_begin_lr", "0.25"},
                                                     {"warmup_mode", "constant"}});
  ExpectSchedule(*scheduler, 9, [](int n) { return n < 3 ? 0.25 : n <= 5 ? 1.0 : n <= 7 ? 0.5 : 0.25; });
}

TEST(LRSchedulerTest, PolyWithLinearWarmup) {
  auto scheduler = CreateLRScheduler("poly", {{"max_update", "10"},
                                              {"pwr", "2"},
                                              {"base_lr", "1"},
                                              {"final_lr", "0.1"},
                                              {"warmup_steps", "2"}});
  ExpectSchedule(*scheduler, 14, [](int n) {
    if (n < 2) return n / 2.0;
    const int m = std::min(n, 10);
    return 0.1 + 0.9 * std::pow(1 - (m - 2) / 8.0, 2);
  });
}

TEST(LRSchedulerTest, CosineWithConstantWarmup) {
  auto scheduler = CreateLRScheduler("CosineScheduler", {{"max_update", "10"},
                                                         {"base_lr", "1"},
                                                         {"final_lr", "0.1"},
                                                         {"warmup_steps", "2"},
                                                         {"warmup_begin_lr", "0.05"},
                                                         {"warmup_mode", "'constant'"}});
  ExpectSchedule(*scheduler, 13, [](int n) {
    if (n < 2) return 0.05;
    const int m = std::min(n, 10);
    return 0.1 + 0.9 * (1 + std::cos(M_PI * (m - 2) / 8.0)) / 2;
  });
  // Without warmup the first value is base_lr and max_update reaches final_lr.
  auto plain = CreateLRScheduler("cosine", {{"max_update", "4"}, {"base_lr", "0.4"}});
  EXPECT_NEAR((*plain)(0), 0.4, 1e-15);
  EXPECT_NEAR((*plain)(2), 0.2, 1e-15);
  EXPECT_NEAR((*plain)(4), 0.0, 1e-15);
}

// An optimizer overwrites base_lr: Factor decays from the new value, Poly and Cosine keep the constructor's
// (Note [Scheduler state]).
TEST(LRSchedulerTest, BaseLrOverwrite) {
  auto factor = CreateLRScheduler("factor", {{"step", "1"}, {"factor", "0.5"}, {"base_lr", "1"}});
  factor->set_base_lr(0.2);
  EXPECT_DOUBLE_EQ((*factor)(2), 0.1);
  auto poly = CreateLRScheduler("poly", {{"max_update", "4"}, {"pwr", "1"}, {"base_lr", "1"}});
  poly->set_base_lr(0.2);
  EXPECT_DOUBLE_EQ((*poly)(2), 0.5);
}

// Expects CreateLRScheduler(name, kwargs) to throw ValueError mentioning `text`.
void ExpectInvalid(const std::string& name, const KwArgs& kwargs, const std::string& text) {
  try {
    CreateLRScheduler(name, kwargs);
    ADD_FAILURE() << "expected an error containing: " << text;
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError) << error.message();
    EXPECT_NE(error.message().find(text), std::string::npos) << error.message();
  }
}

TEST(LRSchedulerTest, ClearErrors) {
  ExpectInvalid("step", {}, "unknown scheduler 'step'");
  ExpectInvalid("factor", {}, "missing required parameter 'step'");
  ExpectInvalid("factor", {{"step", "0"}}, "step must be >= 1");
  ExpectInvalid("factor", {{"step", "2"}, {"factor", "2"}}, "factor must be <= 1");
  ExpectInvalid("factor", {{"step", "2"}, {"stepsize", "2"}}, "unknown parameter(s) stepsize");
  ExpectInvalid("multifactor", {{"step", "[5, 3]"}}, "steps must increase strictly");
  ExpectInvalid("poly", {{"max_update", "4"}, {"warmup_steps", "4"}}, "must exceed warmup_steps");
  ExpectInvalid("cosine", {{"max_update", "4"}, {"warmup_begin_lr", "1"}}, "warmup_begin_lr (1) must not exceed");
  ExpectInvalid("cosine", {{"max_update", "4"}, {"warmup_mode", "exp"}}, "warmup_mode must be 'linear' or 'constant'");
}

}  // namespace
}  // namespace optim
}  // namespace pmx
