// Memory bandwidth of large elementwise ops (elemwise_add, relu on 64M float32 elements) through Invoke into
// preallocated outputs, against a STREAM-style triad a = b + s * c on the same number of threads, measured in
// this binary. Bytes count STREAM's way: every array read or written once (add and triad 12 bytes per
// element, relu 8). Prints GB/s and the ratios at the end, from paired rounds (Note [Paired bandwidth
// measurements]).
// Run: bazel run --config=opt //core/ops:elementwise_benchmark
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "core/backend/cpu/parallel.h"
#include "core/ops/benchmark_util.h"

namespace pmx {
namespace {

constexpr int64_t kElements = int64_t{64} << 20;  // 64M floats: 256 MiB per array, far beyond the caches.

void SetBandwidth(benchmark::State& state, int arrays) {
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(arrays) * kElements * sizeof(float) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Triad(benchmark::State& state) {
  const NDArray a = NDArray::Zeros(Shape({kElements})), b = NDArray::Full(Shape({kElements}), 1.0),
                c = NDArray::Full(Shape({kElements}), 2.0);
  a.WaitToRead();
  b.WaitToRead();
  c.WaitToRead();
  float *pa = a.data<float>(), *pb = b.data<float>(), *pc = c.data<float>();
  const int threads = cpu::KernelThreads();
  for (auto _ : state) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < kElements; ++i) pa[i] = pb[i] + 3.0f * pc[i];
    benchmark::ClobberMemory();
  }
  SetBandwidth(state, 3);
}
BENCHMARK(BM_Triad)->UseRealTime()->Unit(benchmark::kMillisecond);

void RunOp(benchmark::State& state, const char* name, int inputs, int arrays) {
  std::vector<NDArray> in;
  for (int i = 0; i < inputs; ++i) in.push_back(bench::RandomArray(Shape({kElements}), i + 1));
  const NDArray out = NDArray::Empty(Shape({kElements}));
  const OpDef& op = OpRegistry::Get()->Lookup(name);
  const OpParams params = op.ParseParams({});
  bench::InvokeInto(op, params, in, {out});  // Warm up: touches the output's pages.
  for (auto _ : state) bench::InvokeInto(op, params, in, {out});
  SetBandwidth(state, arrays);
}

void BM_AddOp(benchmark::State& state) { RunOp(state, "elemwise_add", 2, 3); }
BENCHMARK(BM_AddOp)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ReluOp(benchmark::State& state) { RunOp(state, "relu", 1, 2); }
BENCHMARK(BM_ReluOp)->UseRealTime()->Unit(benchmark::kMillisecond);

// Note [Paired bandwidth measurements]
// The memory bandwidth these 2-core machines get varies by tens of percent from second to second (other
// tenants share the memory system), so separate benchmark runs of triad and an op seconds apart give noisy
// ratios. The summary therefore times short bursts of triad, add and relu calls, round after round, and
// reports the median of each: the ratios compare runs that saw the same machine.
double Seconds(const std::function<void()>& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void PrintSummary(int rounds) {
  const NDArray a = NDArray::Zeros(Shape({kElements})), b = bench::RandomArray(Shape({kElements}), 1),
                c = bench::RandomArray(Shape({kElements}), 2), out = NDArray::Empty(Shape({kElements}));
  a.WaitToRead();
  float *pa = a.data<float>(), *pb = b.data<float>(), *pc = c.data<float>();
  const int threads = cpu::KernelThreads();
  const OpDef &add = OpRegistry::Get()->Lookup("elemwise_add"), &relu = OpRegistry::Get()->Lookup("relu");
  const OpParams add_params = add.ParseParams({}), relu_params = relu.ParseParams({});
  auto triad = [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < kElements; ++i) pa[i] = pb[i] + 3.0f * pc[i];
  };
  auto run_add = [&] { bench::InvokeInto(add, add_params, {b, c}, {out}); };
  auto run_relu = [&] { bench::InvokeInto(relu, relu_params, {b}, {out}); };
  triad();
  run_add();
  run_relu();
  // Each round times a burst of back-to-back calls of each, as a program issuing op after op would.
  constexpr int kBurst = 4;
  auto burst = [&](const std::function<void()>& fn) {
    return Seconds([&] {
      for (int i = 0; i < kBurst; ++i) fn();
    }) / kBurst;
  };
  std::vector<double> triad_s, add_s, relu_s;
  for (int r = 0; r < rounds; ++r) {
    triad_s.push_back(burst(triad));
    add_s.push_back(burst(run_add));
    relu_s.push_back(burst(run_relu));
  }
  const double bytes = kElements * sizeof(float) * 1e-9;
  const double t = 3 * bytes / Median(triad_s), ad = 3 * bytes / Median(add_s), re = 2 * bytes / Median(relu_s);
  std::printf("\nSummary (same run, %d paired rounds, medians, Note [Paired bandwidth measurements]; %lld elements, %d "
              "kernel threads; load average %.2f)\n",
              rounds, static_cast<long long>(kElements), threads, bench::LoadAverage());
  std::printf("  triad          %7.1f GB/s\n", t);
  std::printf("  elemwise_add   %7.1f GB/s  (%.2fx triad)\n", ad, ad / t);
  std::printf("  relu           %7.1f GB/s  (%.2fx triad)\n", re, re / t);
}

}  // namespace
}  // namespace pmx

int main(int argc, char** argv) {
  return pmx::bench::RunAndSummarize(argc, argv, [](const pmx::bench::TimingReporter&) { pmx::PrintSummary(15); });
}
