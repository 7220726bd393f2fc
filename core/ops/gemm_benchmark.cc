// SGEMM through Polymix's `dot` (Invoke into a preallocated output, then wait) against a direct dnnl_sgemm
// call on the same sizes and against the machine's FP32 FMA peak, measured in this binary by a tight
// AVX-512 (or AVX2) FMA loop on the kernel thread count. Prints GFLOP/s and both ratios at the end.
// Run: bazel run --config=opt //core/ops:gemm_benchmark
#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include <dnnl.h>

#include "core/backend/cpu/parallel.h"
#include "core/ops/benchmark_util.h"

namespace pmx {
namespace {

constexpr int64_t kFmaIterations = 1 << 22;  // Loop trips per thread per benchmark iteration.

// 12 independent FMA chains of 16 floats: enough to cover the FMA latency on both pipes.
__attribute__((target("avx512f"))) float FmaLoopAvx512(int64_t iterations) {
  __m512 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm512_set1_ps(static_cast<float>(j) * 0.001f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  }
  __m512 sum = acc[0];
  for (int j = 1; j < 12; ++j) sum = _mm512_add_ps(sum, acc[j]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) float FmaLoopAvx2(int64_t iterations) {
  __m256 acc[12];
  for (int j = 0; j < 12; ++j) acc[j] = _mm256_set1_ps(static_cast<float>(j) * 0.001f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int j = 0; j < 12; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  }
  float lanes[8], total = 0;
  __m256 sum = acc[0];
  for (int j = 1; j < 12; ++j) sum = _mm256_add_ps(sum, acc[j]);
  _mm256_storeu_ps(lanes, sum);
  for (float lane : lanes) total += lane;
  return total;
}

const bool kAvx512 = __builtin_cpu_supports("avx512f");

// FLOPs of one FmaLoop trip: 12 FMAs of 16 (AVX-512) or 8 (AVX2) lanes, 2 FLOPs each.
double FlopsPerTrip() { return 12.0 * (kAvx512 ? 16 : 8) * 2; }

void BM_FmaPeak(benchmark::State& state) {
  const int threads = cpu::KernelThreads();
  float sink = 0;
  for (auto _ : state) {
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += kAvx512 ? FmaLoopAvx512(kFmaIterations) : FmaLoopAvx2(kFmaIterations);
  }
  benchmark::DoNotOptimize(sink);
  state.counters["GFLOP/s"] = benchmark::Counter(FlopsPerTrip() * kFmaIterations * threads,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
  state.counters["threads"] = threads;
}
BENCHMARK(BM_FmaPeak)->UseRealTime()->Unit(benchmark::kMillisecond);

void SetGflops(benchmark::State& state, int64_t n) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// C = A * B through the registered `dot` op.
void BM_DotOp(benchmark::State& state) {
  const int64_t n = state.range(0);
  const NDArray a = bench::RandomArray(Shape({n, n}), 1), b = bench::RandomArray(Shape({n, n}), 2);
  const NDArray c = NDArray::Empty(Shape({n, n}));
  const OpDef& dot = OpRegistry::Get()->Lookup("dot");
  const OpParams params = dot.ParseParams({});
  bench::InvokeInto(dot, params, {a, b}, {c});  // Warm up: primitive state, pages, OpenMP team.
  for (auto _ : state) bench::InvokeInto(dot, params, {a, b}, {c});
  SetGflops(state, n);
}
BENCHMARK(BM_DotOp)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->UseRealTime()->Unit(benchmark::kMillisecond);

// The same product with dnnl_sgemm called directly on the caller's thread.
void BM_DnnlSgemm(benchmark::State& state) {
  const int64_t n = state.range(0);
  const NDArray a = bench::RandomArray(Shape({n, n}), 1), b = bench::RandomArray(Shape({n, n}), 2);
  std::vector<float> c(static_cast<size_t>(n * n));
  const float *pa = a.data<float>(), *pb = b.data<float>();
  a.WaitToRead();
  b.WaitToRead();
  dnnl_sgemm('N', 'N', n, n, n, 1.0f, pa, n, pb, n, 0.0f, c.data(), n);
  for (auto _ : state) {
    dnnl_sgemm('N', 'N', n, n, n, 1.0f, pa, n, pb, n, 0.0f, c.data(), n);
    benchmark::ClobberMemory();
  }
  SetGflops(state, n);
}
BENCHMARK(BM_DnnlSgemm)->Arg(256)->Arg(512)->Arg(1024)->Arg(2048)->UseRealTime()->Unit(benchmark::kMillisecond);

void PrintSummary(const bench::TimingReporter& reporter) {
  const double peak_seconds = reporter.Seconds("BM_FmaPeak/real_time");
  const double peak = FlopsPerTrip() * kFmaIterations * cpu::KernelThreads() / peak_seconds * 1e-9;
  std::printf("\nSummary (same run; %d kernel threads, %s FMA loop; load average %.2f: ratios are meaningful only "
              "on an otherwise idle machine)\n",
              cpu::KernelThreads(), kAvx512 ? "AVX-512" : "AVX2", bench::LoadAverage());
  std::printf("  measured FMA peak: %.1f GFLOP/s\n", peak);
  std::printf("  %6s %12s %12s %10s %10s\n", "n", "dot GFLOP/s", "sgemm GFLOP/s", "dot/sgemm", "dot/peak");
  for (int64_t n : {256, 512, 1024, 2048}) {
    const double flops = 2.0 * n * n * n * 1e-9;
    const double op = flops / reporter.Seconds("BM_DotOp/" + std::to_string(n) + "/real_time");
    const double direct = flops / reporter.Seconds("BM_DnnlSgemm/" + std::to_string(n) + "/real_time");
    std::printf("  %6lld %12.1f %12.1f %10.3f %9.1f%%\n", static_cast<long long>(n), op, direct, op / direct,
                100.0 * op / peak);
  }
}

}  // namespace
}  // namespace pmx

int main(int argc, char** argv) {
  return pmx::bench::RunAndSummarize(argc, argv, pmx::PrintSummary);
}
