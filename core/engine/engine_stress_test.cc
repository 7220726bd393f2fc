// Randomized ordering test: thousands of operations over a few shared variables, each reading some and
// read-modify-writing others with a non-commutative update, pushed with mixed properties, priorities and
// completion styles. Every value each operation saw, the values seen at intermediate waits, the final
// values and which variables carry which error must equal a serial execution of the same sequence.
// The values live in plain (non-atomic) memory, so under TSan this also proves the engine's
// happens-before edges.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/base/error.h"
#include "core/engine/engine.h"

namespace pmx {
namespace {

constexpr int kVariables = 8;
constexpr int kOperations = 10000;

// How an operation is pushed.
enum class Style { kSync, kAsyncOtherThread, kAsyncInline };

// One generated operation.
struct Step {
  std::vector<int> reads;   // Indices into the variables, disjoint from writes.
  std::vector<int> writes;  // Read-modify-written.
  uint64_t salt = 0;
  bool fails = false;  // Throws instead of updating (error mode only).
  Style style = Style::kSync;
  FnProperty property = FnProperty::kNormal;
  int priority = 0;
  int wait_for = -1;  // After pushing, WaitForVar(wait_for) and check it, or -1.
};

// What the serial model says a WaitForVar after a step sees.
struct Checkpoint {
  uint64_t value = 0;
  int error_origin = -1;  // The failing operation whose error the variable carries, or -1.
};

// The whole expected outcome of a sequence.
struct Expected {
  std::vector<uint64_t> observed;  // Per operation: what it read (unused when skipped).
  std::vector<bool> skipped;       // Per operation: skipped or failed.
  std::vector<bool> ran;           // Per operation: whether its fn ran (failing ones included).
  std::vector<Checkpoint> checkpoints;  // Per operation with wait_for >= 0.
  std::vector<Checkpoint> finals;       // Per variable.
};

std::vector<Step> Generate(uint32_t seed, bool with_errors) {
  std::mt19937 random(seed);
  auto uniform = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  std::vector<Step> steps(kOperations);
  for (Step& step : steps) {
    std::vector<int> order(kVariables);
    for (int i = 0; i < kVariables; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), random);
    const int reads = uniform(0, 2);
    const int writes = uniform(1, 2);
    step.reads.assign(order.begin(), order.begin() + reads);
    step.writes.assign(order.begin() + reads, order.begin() + reads + writes);
    step.salt = random();
    step.fails = with_errors && uniform(0, 99) < 2;
    const int style = uniform(0, 9);
    step.style = style < 6 ? Style::kSync : style < 8 ? Style::kAsyncOtherThread : Style::kAsyncInline;
    if (step.style == Style::kAsyncInline) {
      step.property = FnProperty::kAsync;
    } else if (uniform(0, 9) == 0) {
      step.property = FnProperty::kCPUPrioritized;
    }
    step.priority = uniform(-2, 2);
    if (uniform(0, 99) < 3) step.wait_for = uniform(0, kVariables - 1);
  }
  return steps;
}

// Reads the inputs of step `index` and updates its outputs; returns what it read.
uint64_t Apply(const Step& step, int index, uint64_t* values) {
  uint64_t seen = static_cast<uint64_t>(index);
  for (int read : step.reads) seen = seen * 1000003u + values[read];
  for (int write : step.writes) values[write] = (values[write] ^ seen) * 0x9E3779B97F4A7C15ull + step.salt + write;
  return seen;
}

// Runs the sequence serially, with the engine's skip rules (see Note [Engine errors]).
Expected Serial(const std::vector<Step>& steps) {
  Expected expected;
  std::vector<uint64_t> values(kVariables, 0);
  std::vector<int> error(kVariables, -1);  // Origin of the error a variable carries.
  std::vector<bool> reported(steps.size(), false);
  for (int k = 0; k < static_cast<int>(steps.size()); ++k) {
    const Step& step = steps[k];
    int inherited = -1;
    for (int read : step.reads) {
      if (error[read] >= 0) {
        inherited = error[read];
        break;
      }
    }
    if (inherited < 0) {
      for (int write : step.writes) {
        if (error[write] >= 0 && !reported[error[write]]) {
          inherited = error[write];
          break;
        }
      }
    }
    uint64_t seen = 0;
    if (inherited < 0 && !step.fails) seen = Apply(step, k, values.data());
    const int outcome = inherited >= 0 ? inherited : step.fails ? k : -1;
    for (int write : step.writes) error[write] = outcome;
    expected.observed.push_back(seen);
    expected.skipped.push_back(outcome >= 0);
    expected.ran.push_back(inherited < 0);
    if (step.wait_for >= 0) {
      expected.checkpoints.push_back({values[step.wait_for], error[step.wait_for]});
      if (error[step.wait_for] >= 0) reported[error[step.wait_for]] = true;
    }
  }
  for (int v = 0; v < kVariables; ++v) expected.finals.push_back({values[v], error[v]});
  return expected;
}

// One thread that calls queued functions: completes async operations from outside the engine.
class Completer {
 public:
  Completer() : thread_([this] { Loop(); }) {}
  ~Completer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  // Queues `work` to run on the completer's thread.
  void Post(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(work));
    }
    changed_.notify_all();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::function<void()> work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

// The message the engine stores for a failure of operation `origin`.
std::string FailureMessage(int origin) { return "[op_" + std::to_string(origin) + "] failed on purpose"; }

// Checks a variable after WaitForVar (or its throw) against the model; `what` labels failures.
void ExpectState(Engine* engine, VarHandle var, const uint64_t* value, const Checkpoint& expected,
                 const std::string& what) {
  try {
    engine->WaitForVar(var);
    EXPECT_EQ(expected.error_origin, -1) << what << ": expected the error of op_" << expected.error_origin;
    EXPECT_EQ(*value, expected.value) << what;
  } catch (const Error& error) {
    ASSERT_GE(expected.error_origin, 0) << what << ": unexpected error " << error.what();
    EXPECT_EQ(error.message(), FailureMessage(expected.error_origin)) << what;
  }
}

// Pushes the sequence on `engine` and compares everything with the serial model.
void RunAndCompare(Engine* engine, const std::vector<Step>& steps, const Expected& expected) {
  std::vector<uint64_t> values(kVariables, 0);
  std::vector<uint64_t> observed(steps.size(), 0);
  std::vector<char> ran(steps.size(), 0);
  std::vector<VarHandle> vars;
  for (int v = 0; v < kVariables; ++v) vars.push_back(engine->NewVariable());
  Completer completer;
  size_t checkpoint = 0;
  for (int k = 0; k < static_cast<int>(steps.size()); ++k) {
    const Step& step = steps[k];
    std::vector<VarHandle> reads, writes;
    for (int read : step.reads) reads.push_back(vars[read]);
    for (int write : step.writes) writes.push_back(vars[write]);
    const std::string name = "op_" + std::to_string(k);
    // Runs the step's work: the update, or the purposeful failure.
    auto work = [&values, &observed, &ran, &steps, k] {
      ran[k] = 1;
      if (steps[k].fails) throw std::runtime_error("failed on purpose");
      observed[k] = Apply(steps[k], k, values.data());
    };
    // The same, reported through a completion callback.
    auto work_then_complete = [work](CompletionCallback done) {
      try {
        work();
      } catch (...) {
        done(std::current_exception());
        return;
      }
      done(nullptr);
    };
    switch (step.style) {
      case Style::kSync:
        engine->PushSync([work](RunContext) { work(); }, Device::cpu(), reads, writes, step.property,
                         step.priority, name.c_str());
        break;
      case Style::kAsyncOtherThread:
        engine->PushAsync(
            [&completer, work_then_complete](RunContext, CompletionCallback done) {
              completer.Post([work_then_complete, done] { work_then_complete(done); });
            },
            Device::cpu(), reads, writes, step.property, step.priority, name.c_str());
        break;
      case Style::kAsyncInline:
        engine->PushAsync([work_then_complete](RunContext, CompletionCallback done) { work_then_complete(done); },
                          Device::cpu(), reads, writes, step.property, step.priority, name.c_str());
        break;
    }
    if (step.wait_for >= 0) {
      ExpectState(engine, vars[step.wait_for], &values[step.wait_for], expected.checkpoints[checkpoint++],
                  "checkpoint after " + name);
    }
  }
  try {
    engine->WaitForAll();
  } catch (const Error&) {
    // Error mode: the first error is checked per variable below.
  }
  for (int v = 0; v < kVariables; ++v) {
    ExpectState(engine, vars[v], &values[v], expected.finals[v], "final var " + std::to_string(v));
  }
  for (size_t k = 0; k < steps.size(); ++k) {
    EXPECT_EQ(ran[k] != 0, expected.ran[k]) << "op_" << k << " ran or was skipped wrongly";
    if (!expected.skipped[k]) {
      EXPECT_EQ(observed[k], expected.observed[k]) << "op_" << k << " read stale values";
    }
  }
  for (VarHandle var : vars) engine->DeleteVariable(nullptr, Device::cpu(), var);
  engine->WaitForAll();
  EXPECT_EQ(engine->PendingOperations(), 0);
}

// (engine type, CPU workers, errors on)
using Config = std::tuple<std::string, int, bool>;

class EngineStressTest : public ::testing::TestWithParam<Config> {};

TEST_P(EngineStressTest, MatchesSerialExecution) {
  const auto& [type, workers, with_errors] = GetParam();
  for (uint32_t seed : {1u, 2u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::vector<Step> steps = Generate(seed * 7919u + workers, with_errors);
    Expected expected = Serial(steps);
    if (with_errors) {
      // The sequence must exercise the error paths: failures, skipped dependents, errors seen at waits
      // and writes that recover a variable once its error was reported.
      int failures = 0, inherited = 0, erroring_checkpoints = 0;
      for (size_t k = 0; k < steps.size(); ++k) {
        failures += expected.ran[k] && steps[k].fails;
        inherited += !expected.ran[k];
      }
      for (const Checkpoint& checkpoint : expected.checkpoints) erroring_checkpoints += checkpoint.error_origin >= 0;
      EXPECT_GT(failures, 10);
      EXPECT_GT(inherited, 10);
      EXPECT_GT(erroring_checkpoints, 3);
    }
    std::unique_ptr<Engine> engine = CreateEngine(type, workers);
    RunAndCompare(engine.get(), steps, expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Engines, EngineStressTest,
    ::testing::Values(Config{"NaiveEngine", 1, false}, Config{"NaiveEngine", 1, true},
                      Config{"ThreadedEngine", 1, false}, Config{"ThreadedEngine", 2, false},
                      Config{"ThreadedEngine", 4, false}, Config{"ThreadedEngine", 8, false},
                      Config{"ThreadedEngine", 1, true}, Config{"ThreadedEngine", 2, true},
                      Config{"ThreadedEngine", 4, true}),
    [](const ::testing::TestParamInfo<Config>& info) {
      return std::get<0>(info.param) + "_" + std::to_string(std::get<1>(info.param)) + "Workers" +
             (std::get<2>(info.param) ? "_WithErrors" : "");
    });

}  // namespace
}  // namespace pmx
