// Engine overhead and parallel speedup, with the ratios measured in the same run:
//   - µs per trivial operation (push + completion) on the ThreadedEngine and the NaiveEngine, against a
//     direct call of the same function;
//   - µs for one push + WaitForVar round trip (latency, not throughput);
//   - the speedup of two independent chains of ~50 µs operations on 2 CPU workers over 1 worker.
// Run: bazel run --config=opt //core/engine:engine_benchmark
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/engine.h"

namespace pmx {
namespace {

constexpr int kBatch = 1000;          // Trivial operations pushed per iteration before draining.
constexpr int kVariables = 8;         // Trivial operations spread over this many variables.
constexpr int kOpsPerChain = 100;     // ~50 µs operations per independent chain.
constexpr double kWorkMicros = 50.0;  // Target duration of one "real" operation.

int64_t work_rounds = 1000;  // Calibrated in main() so Work() takes about kWorkMicros.

// About kWorkMicros of integer arithmetic on `state`.
uint64_t Work(uint64_t state) {
  for (int64_t i = 0; i < work_rounds; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
  }
  return state;
}

// The calling thread's CPU time in µs: calibration must not count time the thread spent descheduled.
double ThreadCpuMicros() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1e6 + now.tv_nsec / 1e3;
}

void Calibrate() {
  uint64_t sink = 1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const double start = ThreadCpuMicros();
    for (int i = 0; i < 20; ++i) sink = Work(sink);
    const double micros = (ThreadCpuMicros() - start) / 20;
    work_rounds = std::max<int64_t>(1, static_cast<int64_t>(work_rounds * kWorkMicros / micros));
  }
  benchmark::DoNotOptimize(sink);
}

// A direct call of the function the engines run, through std::function like theirs.
void BM_DirectCall(benchmark::State& state) {
  std::vector<int64_t> values(kVariables, 0);
  std::function<void(RunContext)> fn;
  int64_t counter = 0;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      fn = [&values, i](RunContext) { ++values[i % kVariables]; };
      fn(RunContext{Device::cpu(), nullptr});
      benchmark::DoNotOptimize(counter += values[i % kVariables]);
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_DirectCall)->UseRealTime();

// kBatch trivial writes over kVariables variables, then WaitForAll; `workers` CPU workers.
void PushBatch(benchmark::State& state, const char* type, int workers) {
  std::unique_ptr<Engine> engine = CreateEngine(type, workers);
  std::vector<VarHandle> vars;
  for (int v = 0; v < kVariables; ++v) vars.push_back(engine->NewVariable());
  std::vector<int64_t> values(kVariables, 0);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      int64_t* value = &values[i % kVariables];
      engine->PushSync([value](RunContext) { ++*value; }, Device::cpu(), {}, {vars[i % kVariables]});
    }
    engine->WaitForAll();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
void BM_ThreadedPush(benchmark::State& state) { PushBatch(state, "ThreadedEngine", state.range(0)); }
void BM_NaivePush(benchmark::State& state) { PushBatch(state, "NaiveEngine", 1); }
BENCHMARK(BM_ThreadedPush)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_NaivePush)->UseRealTime();

// One push and WaitForVar per iteration: the latency of a single operation through the engine.
void RoundTrip(benchmark::State& state, const char* type) {
  std::unique_ptr<Engine> engine = CreateEngine(type, 1);
  VarHandle var = engine->NewVariable();
  int64_t value = 0;
  for (auto _ : state) {
    engine->PushSync([&value](RunContext) { ++value; }, Device::cpu(), {}, {var});
    engine->WaitForVar(var);
  }
}
void BM_ThreadedRoundTrip(benchmark::State& state) { RoundTrip(state, "ThreadedEngine"); }
void BM_NaiveRoundTrip(benchmark::State& state) { RoundTrip(state, "NaiveEngine"); }
BENCHMARK(BM_ThreadedRoundTrip)->UseRealTime();
BENCHMARK(BM_NaiveRoundTrip)->UseRealTime();

// Two independent chains (one variable each) of kOpsPerChain ~50 µs operations.
void BM_IndependentChains(benchmark::State& state) {
  std::unique_ptr<Engine> engine = CreateEngine("ThreadedEngine", state.range(0));
  VarHandle vars[2] = {engine->NewVariable(), engine->NewVariable()};
  uint64_t values[2] = {1, 2};
  for (auto _ : state) {
    for (int i = 0; i < kOpsPerChain; ++i) {
      for (int chain = 0; chain < 2; ++chain) {
        uint64_t* value = &values[chain];
        engine->PushSync([value](RunContext) { *value = Work(*value); }, Device::cpu(), {}, {vars[chain]});
      }
    }
    engine->WaitForAll();
  }
  benchmark::DoNotOptimize(values[0] + values[1]);
  state.SetItemsProcessed(state.iterations() * 2 * kOpsPerChain);
}
BENCHMARK(BM_IndependentChains)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The console output plus, at the end, the ratios between runs of this process.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.iterations == 0) continue;
      seconds_[run.benchmark_name()] = run.real_accumulated_time / static_cast<double>(run.iterations);
    }
  }

  // Prints µs per operation and the ratios.
  void PrintSummary() const {
    auto micros_per_op = [&](const std::string& name, double ops) {
      auto found = seconds_.find(name);
      return found == seconds_.end() ? -1.0 : found->second * 1e6 / ops;
    };
    const double direct = micros_per_op("BM_DirectCall/real_time", kBatch);
    const double threaded1 = micros_per_op("BM_ThreadedPush/1/real_time", kBatch);
    const double threaded2 = micros_per_op("BM_ThreadedPush/2/real_time", kBatch);
    const double naive = micros_per_op("BM_NaivePush/real_time", kBatch);
    const double threaded_trip = micros_per_op("BM_ThreadedRoundTrip/real_time", 1);
    const double naive_trip = micros_per_op("BM_NaiveRoundTrip/real_time", 1);
    const double chains1 = micros_per_op("BM_IndependentChains/1/real_time", 1);
    const double chains2 = micros_per_op("BM_IndependentChains/2/real_time", 1);
    double load[1] = {0};
    getloadavg(load, 1);
    std::printf("\nSummary (same run; ~%.0f us of CPU work per chain op = %lld xorshift rounds; load average "
                "%.2f on %u cores: ratios are meaningful only on an otherwise idle machine)\n",
                kWorkMicros, static_cast<long long>(work_rounds), load[0], std::thread::hardware_concurrency());
    std::printf("  direct call:                          %8.3f us/op\n", direct);
    std::printf("  NaiveEngine push+complete:            %8.3f us/op  (%.1fx direct)\n", naive, naive / direct);
    std::printf("  ThreadedEngine push+complete, 1 wkr:  %8.3f us/op  (%.1fx direct, %.1fx naive)\n", threaded1,
                threaded1 / direct, threaded1 / naive);
    std::printf("  ThreadedEngine push+complete, 2 wkrs: %8.3f us/op  (%.1fx direct, %.1fx naive)\n", threaded2,
                threaded2 / direct, threaded2 / naive);
    std::printf("  round trip push+WaitForVar: threaded %8.3f us, naive %8.3f us\n", threaded_trip, naive_trip);
    std::printf("  2 chains x %d ops: 1 worker %.2f ms, 2 workers %.2f ms, speedup %.2fx (ideal 2.00x)\n",
                kOpsPerChain, chains1 / 1e3, chains2 / 1e3, chains1 / chains2);
  }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace
}  // namespace pmx

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  pmx::Calibrate();
  pmx::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}
