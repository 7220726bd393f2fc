// Engine::Get() in a process of its own: the singleton is created once, from POLYMIX_ENGINE_TYPE.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "core/base/env.h"
#include "core/engine/engine.h"

namespace pmx {
namespace {

TEST(EngineSingletonTest, NaiveEngineTypeRunsOnTheCallersThread) {
  setenv("POLYMIX_ENGINE_TYPE", "NaiveEngine", 1);
  ReloadEnvForTesting();
  Engine* engine = Engine::Get();
  EXPECT_EQ(engine, Engine::Get());
  VarHandle var = engine->NewVariable();
  std::thread::id ran_on;
  engine->PushSync([&](RunContext) { ran_on = std::this_thread::get_id(); }, Device::cpu(), {}, {var});
  EXPECT_EQ(ran_on, std::this_thread::get_id());  // Synchronously, before any wait.
  engine->DeleteVariable(nullptr, Device::cpu(), var);
  engine->WaitForAll();
}

}  // namespace
}  // namespace pmx
