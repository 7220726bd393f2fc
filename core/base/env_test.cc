#include "core/base/env.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/base/error.h"

namespace pmx {
namespace {

TEST(EnvTest, ReadsPolymixAndMXNetNames) {
  setenv("MXNET_ENGINE_TYPE", "NaiveEngine", 1);
  setenv("POLYMIX_CPU_WORKER_NTHREADS", "3", 1);
  ReloadEnvForTesting();
  EXPECT_TRUE(Env().naive_engine());
  EXPECT_EQ(Env().cpu_worker_threads, 3);
  unsetenv("MXNET_ENGINE_TYPE");
  unsetenv("POLYMIX_CPU_WORKER_NTHREADS");
  ReloadEnvForTesting();
  EXPECT_FALSE(Env().naive_engine());
  EXPECT_GE(Env().cpu_worker_threads, 1);
}

TEST(EnvTest, EngineSpinTimeDefaultsTo50AndTakesZero) {
  EXPECT_EQ(Env().engine_spin_us, 50);
  setenv("POLYMIX_ENGINE_SPIN_US", "0", 1);
  ReloadEnvForTesting();
  EXPECT_EQ(Env().engine_spin_us, 0);
  setenv("POLYMIX_ENGINE_SPIN_US", "-5", 1);
  EXPECT_THROW(ReloadEnvForTesting(), Error);
  unsetenv("POLYMIX_ENGINE_SPIN_US");
  ReloadEnvForTesting();
}

TEST(EnvTest, MalformedValuesAreValueErrors) {
  setenv("POLYMIX_CPU_WORKER_NTHREADS", "many", 1);
  EXPECT_THROW(ReloadEnvForTesting(), Error);
  unsetenv("POLYMIX_CPU_WORKER_NTHREADS");
  setenv("POLYMIX_ENGINE_TYPE", "Turbo", 1);
  EXPECT_THROW(ReloadEnvForTesting(), Error);
  unsetenv("POLYMIX_ENGINE_TYPE");
  ReloadEnvForTesting();
}

}  // namespace
}  // namespace pmx
