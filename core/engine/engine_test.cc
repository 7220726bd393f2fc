#include "core/engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/backend/gpu_runtime.h"
#include "core/base/env.h"
#include "core/base/error.h"

namespace pmx {
namespace {

using std::chrono::milliseconds;

// A latch the test opens; operations block on it to hold a worker busy. Waits give up after 20 s so a
// broken engine fails the test instead of hanging it.
class Gate {
 public:
  // Lets every current and future Wait return.
  void Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  // Blocks until Open (true) or the time limit (false).
  bool Wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [this] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

// The pmx::Error that `body` throws; fails the test (and returns a blank error) if it throws none.
template <typename Body>
Error CaughtError(Body body) {
  try {
    body();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected a pmx::Error";
  return Error(ErrorKind::kRuntimeError, "");
}

// Tests run against both engines: the semantics are the same, only the scheduling differs.
class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Engine> engine_ = CreateEngine(GetParam(), 2);
  bool threaded() const { return GetParam() == "ThreadedEngine"; }
};

INSTANTIATE_TEST_SUITE_P(BothEngines, EngineTest, ::testing::Values("ThreadedEngine", "NaiveEngine"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST_P(EngineTest, WritesRunInPushOrder) {
  VarHandle var = engine_->NewVariable();
  std::vector<int> log;
  for (int i = 0; i < 300; ++i) {
    engine_->PushSync([&log, i](RunContext) { log.push_back(i); }, Device::cpu(), {}, {var});
  }
  engine_->WaitForVar(var);
  ASSERT_EQ(log.size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(log[i], i);
  // WaitForVar promises the writes' effects, not that their bookkeeping is done; WaitForAll does.
  engine_->WaitForAll();
  EXPECT_EQ(engine_->PendingOperations(), 0);
}

TEST_P(EngineTest, ReadsSeeTheLatestEarlierWriteAndWritesWaitForReads) {
  VarHandle var = engine_->NewVariable();
  int value = 0;
  std::vector<int> seen(3 * 40, -1);
  for (int i = 1; i <= 40; ++i) {
    engine_->PushSync(
        [&value, i](RunContext) {
          if (i % 8 == 0) std::this_thread::sleep_for(milliseconds(2));
          value = i;
        },
        Device::cpu(), {}, {var}, FnProperty::kNormal, 0, "write");
    for (int r = 0; r < 3; ++r) {
      int slot = 3 * (i - 1) + r;
      engine_->PushSync(
          [&value, &seen, slot](RunContext) {
            if (slot % 5 == 0) std::this_thread::sleep_for(milliseconds(1));
            seen[slot] = value;
          },
          Device::cpu(), {var}, {}, FnProperty::kNormal, 0, "read");
    }
  }
  engine_->WaitForAll();
  for (int slot = 0; slot < 120; ++slot) EXPECT_EQ(seen[slot], slot / 3 + 1) << "read " << slot;
}

TEST_P(EngineTest, PushAsyncCompletesFromAnotherThread) {
  VarHandle data = engine_->NewVariable();
  VarHandle result = engine_->NewVariable();
  int value = 0;
  int copied = 0;
  std::vector<std::thread> helpers;
  std::mutex helpers_mutex;
  engine_->PushAsync(
      [&](RunContext, CompletionCallback done) {
        std::lock_guard<std::mutex> lock(helpers_mutex);
        helpers.emplace_back([&value, done] {
          std::this_thread::sleep_for(milliseconds(20));
          value = 42;
          done(nullptr);
        });
      },
      Device::cpu(), {}, {data}, FnProperty::kNormal, 0, "async_write");
  engine_->PushSync([&](RunContext) { copied = value; }, Device::cpu(), {data}, {result});
  engine_->WaitForVar(result);
  EXPECT_EQ(copied, 42);

  // An error passed to the callback is stored like a thrown one.
  engine_->PushAsync(
      [&](RunContext, CompletionCallback done) {
        std::lock_guard<std::mutex> lock(helpers_mutex);
        helpers.emplace_back([done] { done(std::make_exception_ptr(std::runtime_error("late failure"))); });
      },
      Device::cpu(), {}, {data}, FnProperty::kNormal, 0, "async_fail");
  Error error = CaughtError([&] { engine_->WaitForVar(data); });
  EXPECT_EQ(error.message(), "[async_fail] late failure");
  EXPECT_THROW(engine_->WaitForAll(), Error);
  for (std::thread& helper : helpers) helper.join();
}

TEST_P(EngineTest, DeleteVariableRunsAfterPendingWork) {
  VarHandle var = engine_->NewVariable();
  std::atomic<int> value{0};
  std::atomic<int> seen_by_deleter{-1};
  engine_->PushSync(
      [&](RunContext) {
        std::this_thread::sleep_for(milliseconds(30));
        value = 1;
      },
      Device::cpu(), {}, {var});
  engine_->PushSync([&](RunContext) { value = value + 1; }, Device::cpu(), {var}, {});
  engine_->DeleteVariable([&](RunContext) { seen_by_deleter = value.load(); }, Device::cpu(), var);
  engine_->WaitForAll();
  EXPECT_EQ(seen_by_deleter, 2);

  // The deleter runs even when the variable carries an error, which WaitForAll still reports.
  VarHandle failed = engine_->NewVariable();
  engine_->PushSync([](RunContext) { throw std::runtime_error("boom"); }, Device::cpu(), {}, {failed},
                    FnProperty::kNormal, 0, "bad_op");
  bool deleted = false;
  engine_->DeleteVariable([&](RunContext) { deleted = true; }, Device::cpu(), failed);
  EXPECT_EQ(CaughtError([&] { engine_->WaitForAll(); }).message(), "[bad_op] boom");
  EXPECT_TRUE(deleted);
  engine_->WaitForAll();
}

TEST_P(EngineTest, ErrorsAreNamedStoredAndSkipDependents) {
  VarHandle a = engine_->NewVariable();
  VarHandle b = engine_->NewVariable();
  VarHandle c = engine_->NewVariable();
  bool dependent_ran = false;
  bool independent_ran = false;
  engine_->PushSync([](RunContext) { throw std::runtime_error("boom"); }, Device::cpu(), {}, {a},
                    FnProperty::kNormal, 0, "bad_op");
  engine_->PushSync([&](RunContext) { dependent_ran = true; }, Device::cpu(), {a}, {b}, FnProperty::kNormal, 0,
                    "dependent");
  engine_->PushSync([&](RunContext) { independent_ran = true; }, Device::cpu(), {}, {c});
  Error on_b = CaughtError([&] { engine_->WaitForVar(b); });
  EXPECT_EQ(on_b.kind(), ErrorKind::kRuntimeError);
  EXPECT_EQ(on_b.message(), "[bad_op] boom");
  EXPECT_EQ(CaughtError([&] { engine_->WaitForVar(a); }).message(), "[bad_op] boom");
  engine_->WaitForVar(c);
  EXPECT_FALSE(dependent_ran);
  EXPECT_TRUE(independent_ran);
  EXPECT_EQ(CaughtError([&] { engine_->WaitForAll(); }).message(), "[bad_op] boom");
  engine_->WaitForAll();  // Rethrown once only.

  // Kinds survive; a message that already names an op keeps its name; foreign exceptions convert.
  VarHandle d = engine_->NewVariable();
  engine_->PushSync([](RunContext) { Throw(ErrorKind::kValueError, "bad shape"); }, Device::cpu(), {}, {d},
                    FnProperty::kNormal, 0, "reshape");
  Error value_error = CaughtError([&] { engine_->WaitForVar(d); });
  EXPECT_EQ(value_error.kind(), ErrorKind::kValueError);
  EXPECT_EQ(value_error.message(), "[reshape] bad shape");
  VarHandle e = engine_->NewVariable();
  engine_->PushSync([](RunContext) { Throw(ErrorKind::kIndexError, "[take] index 7 out of range"); },
                    Device::cpu(), {}, {e}, FnProperty::kNormal, 0, "outer");
  EXPECT_EQ(CaughtError([&] { engine_->WaitForVar(e); }).message(), "[take] index 7 out of range");
  VarHandle f = engine_->NewVariable();
  engine_->PushSync([](RunContext) { throw 42; }, Device::cpu(), {}, {f}, FnProperty::kNormal, 0, "weird");
  Error foreign = CaughtError([&] { engine_->WaitForVar(f); });
  EXPECT_EQ(foreign.kind(), ErrorKind::kRuntimeError);
  EXPECT_EQ(foreign.message().rfind("[weird] unknown exception", 0), 0u) << foreign.message();
  EXPECT_EQ(CaughtError([&] { engine_->WaitForAll(); }).message(), "[reshape] bad shape");
}

TEST_P(EngineTest, ReportedErrorIsClearedByALaterSuccessfulWrite) {
  VarHandle a = engine_->NewVariable();
  VarHandle out = engine_->NewVariable();
  int value = 0;
  engine_->PushSync([](RunContext) { throw std::runtime_error("boom"); }, Device::cpu(), {}, {a},
                    FnProperty::kNormal, 0, "bad_op");
  // Before anyone has seen the error, even a write is skipped: it could be `a += 1` on garbage.
  bool early_write_ran = false;
  engine_->PushSync([&](RunContext) { early_write_ran = true; }, Device::cpu(), {}, {a});
  EXPECT_EQ(CaughtError([&] { engine_->WaitForVar(a); }).message(), "[bad_op] boom");
  EXPECT_FALSE(early_write_ran);
  EXPECT_EQ(CaughtError([&] { engine_->WaitForVar(a); }).message(), "[bad_op] boom");  // Still stored.
  // Reads stay skipped until the variable is overwritten, and pass the error on.
  engine_->PushSync([&](RunContext) { value = -1; }, Device::cpu(), {a}, {out}, FnProperty::kNormal, 0, "read");
  EXPECT_EQ(CaughtError([&] { engine_->WaitForVar(out); }).message(), "[bad_op] boom");
  EXPECT_EQ(value, 0);
  // Now reported, a write runs and clears the error; readers run again.
  engine_->PushSync([&](RunContext) { value = 7; }, Device::cpu(), {}, {a}, FnProperty::kNormal, 0, "fill");
  engine_->WaitForVar(a);
  int copied = 0;
  engine_->PushSync([&](RunContext) { copied = value; }, Device::cpu(), {a}, {out});
  engine_->WaitForVar(out);
  EXPECT_EQ(copied, 7);
  EXPECT_THROW(engine_->WaitForAll(), Error);
  engine_->WaitForAll();
}

TEST_P(EngineTest, WaitForAllRethrowsTheFirstErrorOnceAndReportsIt) {
  VarHandle a = engine_->NewVariable();
  VarHandle b = engine_->NewVariable();
  engine_->PushSync([](RunContext) { Throw(ErrorKind::kValueError, "first"); }, Device::cpu(), {}, {a},
                    FnProperty::kNormal, 0, "op_a");
  // Let op_a finish first (without reporting its error) so "first" is well defined.
  while (engine_->PendingOperations() > 0) std::this_thread::sleep_for(milliseconds(1));
  engine_->PushSync([](RunContext) { Throw(ErrorKind::kTypeError, "second"); }, Device::cpu(), {}, {b},
                    FnProperty::kNormal, 0, "op_b");
  Error first = CaughtError([&] { engine_->WaitForAll(); });
  EXPECT_EQ(first.kind(), ErrorKind::kValueError);
  EXPECT_EQ(first.message(), "[op_a] first");
  engine_->WaitForAll();
  EXPECT_THROW(engine_->WaitForVar(b), Error);
  // WaitForAll reported both errors, so writes to either variable run again.
  bool wrote = false;
  engine_->PushSync([&](RunContext) { wrote = true; }, Device::cpu(), {}, {a});
  engine_->WaitForVar(a);
  EXPECT_TRUE(wrote);
}

TEST_P(EngineTest, InvalidInputsAreValueErrorsNamingTheOp) {
  VarHandle a = engine_->NewVariable();
  VarHandle b = engine_->NewVariable();
  auto noop = [](RunContext) {};
  auto expect_value_error = [&](std::vector<VarHandle> reads, std::vector<VarHandle> writes, const char* text) {
    Error error = CaughtError([&] {
      engine_->PushSync(noop, Device::cpu(), reads, writes, FnProperty::kNormal, 0, "my_op");
    });
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_EQ(error.message().rfind("[my_op] ", 0), 0u) << error.message();
    EXPECT_NE(error.message().find(text), std::string::npos) << error.message();
  };
  expect_value_error({nullptr}, {}, "null");
  expect_value_error({}, {a, nullptr}, "mutable_vars[1]");
  expect_value_error({a, b, a}, {}, "positions 0 and 2");
  expect_value_error({}, {b, b}, "positions 0 and 1");
  expect_value_error({a}, {b, a}, "const_vars[0] also listed as mutable_vars[1]");
  std::unique_ptr<Engine> other = CreateEngine(GetParam(), 1);
  VarHandle foreign = other->NewVariable();
  expect_value_error({foreign}, {}, "another engine");
  EXPECT_EQ(CaughtError([&] { engine_->PushSync(nullptr, Device::cpu(), {}, {a}); }).kind(),
            ErrorKind::kValueError);
  EXPECT_EQ(CaughtError([&] { engine_->PushSync(noop, Device::gpu(-1), {}, {a}); }).kind(),
            ErrorKind::kValueError);
  EXPECT_EQ(CaughtError([&] { engine_->WaitForVar(nullptr); }).kind(), ErrorKind::kValueError);
  EXPECT_EQ(CaughtError([&] { CreateEngine("TurboEngine"); }).kind(), ErrorKind::kValueError);
  // Nothing was queued, and the engine still works.
  EXPECT_EQ(engine_->PendingOperations(), 0);
  bool ran = false;
  engine_->PushSync([&](RunContext) { ran = true; }, Device::cpu(), {a}, {b});
  engine_->WaitForAll();
  EXPECT_TRUE(ran);
}

// Without CUDA (or, in a CUDA build, without a GPU) GPU work fails at the sync point, not at the push.
TEST_P(EngineTest, GpuWorkWithoutCudaFailsAtTheSyncPoint) {
  if (gpu::DeviceCount() > 0) GTEST_SKIP() << "this machine has a GPU";
  const bool cuda = gpu::BuiltWithCuda();
  VarHandle on_gpu = engine_->NewVariable();
  VarHandle copied = engine_->NewVariable();
  VarHandle host = engine_->NewVariable();
  bool ran = false;
  engine_->PushSync([&](RunContext) { ran = true; }, Device::gpu(0), {}, {on_gpu}, FnProperty::kNormal, 0,
                    "gpu_op");
  engine_->PushSync([&](RunContext) { ran = true; }, Device::gpu(0), {host}, {copied}, FnProperty::kCopyToGPU, 0,
                    "copy_op");
  bool host_ran = false;
  engine_->PushSync([&](RunContext) { host_ran = true; }, Device::cpu(), {on_gpu}, {host});
  Error error = CaughtError([&] { engine_->WaitForVar(on_gpu); });
  EXPECT_EQ(error.message().rfind("[gpu_op] cannot run on gpu(0): ", 0), 0u) << error.message();
  if (!cuda) {
    EXPECT_EQ(error.kind(), ErrorKind::kNotImplementedError);
    EXPECT_NE(error.message().find("without CUDA"), std::string::npos) << error.message();
  }
  Error copy_error = CaughtError([&] { engine_->WaitForVar(copied); });
  if (!cuda) EXPECT_EQ(copy_error.kind(), ErrorKind::kNotImplementedError);
  EXPECT_EQ(copy_error.message().rfind("[copy_op] ", 0), 0u) << copy_error.message();
  EXPECT_THROW(engine_->WaitForVar(host), Error);
  Error first = CaughtError([&] { engine_->WaitForAll(); });
  if (!cuda) EXPECT_EQ(first.kind(), ErrorKind::kNotImplementedError);
  EXPECT_FALSE(ran);
  EXPECT_FALSE(host_ran);
}

// Runs on the GPU machine (tools/device_check); skipped where there is no GPU.
TEST_P(EngineTest, GpuOperationsRunOnWorkerStreamsAndAreSynchronized) {
  if (gpu::DeviceCount() == 0) GTEST_SKIP() << "no GPU";
  constexpr int64_t kCount = 1 << 20;
  float* device_data = static_cast<float*>(gpu::DeviceMalloc(0, kCount * sizeof(float)));
  std::vector<float> host(kCount, 0.0f);
  VarHandle on_gpu = engine_->NewVariable();
  VarHandle on_host = engine_->NewVariable();
  void* compute_stream = nullptr;
  void* copy_stream = nullptr;
  for (int round = 1; round <= 3; ++round) {
    engine_->PushSync(
        [&, round](RunContext context) {
          compute_stream = context.stream;
          gpu::FillAsync(device_data, DType::kFloat32, kCount, round, context.stream);
        },
        Device::gpu(0), {}, {on_gpu}, FnProperty::kNormal, 0, "fill");
    // Async: the callback fires before the kernel ends; the worker's stream synchronization still
    // orders the copy after it.
    engine_->PushAsync(
        [&](RunContext context, CompletionCallback done) {
          gpu::FillAsync(device_data, DType::kFloat32, kCount, 10.0 * round, context.stream);
          done(nullptr);
        },
        Device::gpu(0), {}, {on_gpu}, FnProperty::kNormal, 0, "fill_async");
    engine_->PushSync(
        [&](RunContext context) {
          copy_stream = context.stream;
          gpu::MemcpyAsync(host.data(), device_data, kCount * sizeof(float), gpu::CopyKind::kDeviceToHost,
                           context.stream);
        },
        Device::gpu(0), {on_gpu}, {on_host}, FnProperty::kCopyFromGPU, 0, "copy_to_host");
    engine_->WaitForVar(on_host);
    EXPECT_EQ(host.front(), 10.0f * round);
    EXPECT_EQ(host.back(), 10.0f * round);
  }
  EXPECT_NE(compute_stream, nullptr);
  EXPECT_NE(copy_stream, nullptr);
  if (threaded()) EXPECT_NE(compute_stream, copy_stream);  // Copies have their own workers and streams.
  engine_->DeleteVariable([&](RunContext) { gpu::DeviceFree(0, device_data); }, Device::gpu(0), on_gpu);
  engine_->WaitForAll();
}

TEST_P(EngineTest, OperationsMayPushMoreWork) {
  VarHandle a = engine_->NewVariable();
  VarHandle b = engine_->NewVariable();
  int value = 0;
  engine_->PushSync(
      [&](RunContext) {
        engine_->PushSync([&](RunContext) { value = 5; }, Device::cpu(), {}, {b}, FnProperty::kNormal, 0, "inner");
      },
      Device::cpu(), {}, {a}, FnProperty::kNormal, 0, "outer");
  engine_->WaitForVar(a);
  engine_->WaitForAll();
  EXPECT_EQ(value, 5);
}

// ThreadedEngine only: scheduling behaviour the NaiveEngine does not have.

TEST(ThreadedEngineTest, ReadsRunConcurrently) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 2);
  VarHandle var = engine->NewVariable();
  std::atomic<int> arrived{0};
  std::atomic<int> saw_both{0};
  int value = 0;
  engine->PushSync([&](RunContext) { value = 3; }, Device::cpu(), {}, {var});
  for (int i = 0; i < 2; ++i) {
    engine->PushSync(
        [&](RunContext) {
          arrived.fetch_add(1);
          // Each read waits (up to 20 s) for the other to start: both can only finish early if they overlap.
          auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
          while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
          }
          if (arrived.load() == 2 && value == 3) saw_both.fetch_add(1);
        },
        Device::cpu(), {var}, {});
  }
  int after = 0;
  engine->PushSync([&](RunContext) { after = saw_both.load(); }, Device::cpu(), {}, {var});
  engine->WaitForVar(var);
  EXPECT_EQ(saw_both.load(), 2);
  EXPECT_EQ(after, 2);  // The write after the reads waited for both.
}

TEST(ThreadedEngineTest, HigherPriorityReadyWorkRunsFirst) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 1);
  Gate started;
  Gate release;
  engine->PushSync(
      [&](RunContext) {
        started.Open();
        release.Wait();
      },
      Device::cpu(), {}, {engine->NewVariable()});
  ASSERT_TRUE(started.Wait());
  std::vector<int> order;
  const std::vector<int> priorities = {0, 5, -3, 10, 5, 1};
  for (size_t i = 0; i < priorities.size(); ++i) {
    engine->PushSync([&order, i](RunContext) { order.push_back(static_cast<int>(i)); }, Device::cpu(), {},
                     {engine->NewVariable()}, FnProperty::kNormal, priorities[i]);
  }
  release.Open();
  engine->WaitForAll();
  EXPECT_EQ(order, (std::vector<int>{3, 1, 4, 5, 0, 2}));  // By priority, then push order.
}

TEST(ThreadedEngineTest, PrioritizedWorkRunsWhileNormalWorkersAreBusy) {
  if (Env().cpu_priority_threads == 0) GTEST_SKIP() << "POLYMIX_CPU_PRIORITY_NTHREADS=0";
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 1);
  Gate release;
  Gate prioritized_done;
  engine->PushSync([&](RunContext) { release.Wait(); }, Device::cpu(), {}, {engine->NewVariable()});
  engine->PushSync([&](RunContext) { prioritized_done.Open(); }, Device::cpu(), {}, {engine->NewVariable()},
                   FnProperty::kCPUPrioritized);
  EXPECT_TRUE(prioritized_done.Wait());
  release.Open();
  engine->WaitForAll();
}

TEST(ThreadedEngineTest, AsyncPropertyRunsOnTheThreadThatMakesItReady) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 2);
  VarHandle var = engine->NewVariable();
  std::thread::id pushed_on;
  engine->PushAsync(
      [&](RunContext context, CompletionCallback done) {
        pushed_on = std::this_thread::get_id();
        EXPECT_EQ(context.stream, nullptr);
        done(nullptr);
      },
      Device::cpu(), {}, {var}, FnProperty::kAsync);
  EXPECT_EQ(pushed_on, std::this_thread::get_id());  // Already ran, inside PushAsync.
  std::thread::id worker;
  std::thread::id made_ready_on;
  Gate release;
  engine->PushSync(
      [&](RunContext) {
        worker = std::this_thread::get_id();
        release.Wait();
      },
      Device::cpu(), {}, {var});
  engine->PushSync([&](RunContext) { made_ready_on = std::this_thread::get_id(); }, Device::cpu(), {var}, {},
                   FnProperty::kAsync);
  release.Open();  // The write finishes on its worker, which then runs the kAsync read.
  engine->WaitForAll();
  EXPECT_NE(worker, std::this_thread::get_id());
  EXPECT_EQ(made_ready_on, worker);
}

TEST(ThreadedEngineTest, LongChainsOfInlineOperationsDoNotGrowTheStack) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 1);
  VarHandle var = engine->NewVariable();
  Gate release;
  engine->PushSync([&](RunContext) { release.Wait(); }, Device::cpu(), {}, {var});
  int count = 0;
  constexpr int kChain = 50000;
  for (int i = 0; i < kChain; ++i) {
    engine->PushAsync(
        [&count](RunContext, CompletionCallback done) {
          ++count;
          done(nullptr);
        },
        Device::cpu(), {}, {var}, FnProperty::kAsync);
  }
  release.Open();
  engine->WaitForVar(var);
  EXPECT_EQ(count, kChain);
}

TEST(ThreadedEngineTest, AsyncWorkIsPendingUntilItsCallback) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 1);
  VarHandle var = engine->NewVariable();
  Gate release;
  std::thread helper;
  std::mutex helper_mutex;
  engine->PushAsync(
      [&](RunContext, CompletionCallback done) {
        std::lock_guard<std::mutex> lock(helper_mutex);
        helper = std::thread([&release, done] {
          release.Wait();
          done(nullptr);
        });
      },
      Device::cpu(), {}, {var});
  std::atomic<bool> dependent_ran{false};
  engine->PushSync([&](RunContext) { dependent_ran = true; }, Device::cpu(), {var}, {});
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(dependent_ran.load());
  EXPECT_EQ(engine->PendingOperations(), 2);
  release.Open();
  engine->WaitForAll();
  EXPECT_TRUE(dependent_ran.load());
  std::lock_guard<std::mutex> lock(helper_mutex);
  helper.join();
}

TEST(ThreadedEngineTest, DeletedVariablesRejectNewWork) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 1);
  VarHandle var = engine->NewVariable();
  Gate release;
  engine->PushSync([&](RunContext) { release.Wait(); }, Device::cpu(), {}, {var});
  engine->DeleteVariable(nullptr, Device::cpu(), var);
  Error error = CaughtError([&] { engine->PushSync([](RunContext) {}, Device::cpu(), {var}, {}); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_NE(error.message().find("DeleteVariable"), std::string::npos) << error.message();
  release.Open();
  engine->WaitForAll();
}

TEST(ThreadedEngineTest, WaitingInsideAnOperationIsARuntimeError) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 1);
  VarHandle var = engine->NewVariable();
  ErrorKind kind = ErrorKind::kValueError;
  engine->PushSync(
      [&](RunContext) {
        try {
          engine->WaitForAll();
        } catch (const Error& error) {
          kind = error.kind();
        }
      },
      Device::cpu(), {}, {var});
  engine->WaitForAll();
  EXPECT_EQ(kind, ErrorKind::kRuntimeError);
}

TEST(ThreadedEngineTest, DestructorDrainsPendingWork) {
  std::atomic<int> done{0};
  {
    std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", 2);
    std::vector<VarHandle> vars;
    for (int i = 0; i < 4; ++i) vars.push_back(engine->NewVariable());
    for (int i = 0; i < 200; ++i) {
      engine->PushSync(
          [&done](RunContext) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            done.fetch_add(1);
          },
          Device::cpu(), {vars[(i + 1) % 4]}, {vars[i % 4]});
    }
    // Destroyed with work pending and variables never deleted.
  }
  EXPECT_EQ(done.load(), 200);
}

TEST(EngineGetTest, ReturnsOneEngine) {
  Engine* engine = Engine::Get();
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine, Engine::Get());
  VarHandle var = engine->NewVariable();
  int value = 0;
  engine->PushSync([&](RunContext) { value = 1; }, Device::cpu(), {}, {var});
  engine->WaitForVar(var);
  EXPECT_EQ(value, 1);
  engine->DeleteVariable(nullptr, Device::cpu(), var);
  engine->WaitForAll();
}

}  // namespace
}  // namespace pmx
