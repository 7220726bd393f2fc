// GPU operator throughput on gpu(0), each next to a reference measured in the same run:
//   - dot (SGEMM, and HGEMM for float16) through pmx::Invoke, against cuBLAS called directly on the same
//     buffers: FLOP/s, and the share of cuBLAS's rate that the engine path keeps;
//   - elemwise_add on 2^26 float32 elements through pmx::Invoke, against a device-to-device copy:
//     bytes moved per second (reads + writes), and the ratio to the copy's.
// Every iteration waits for its result, so the times include the engine's per-operation round trip.
//
//   tools/build_device_bundle && bash tools/device_check   (on the GPU machine; no GPU here: it says so)
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/backend/gpu_runtime.h"
#include "core/ops/invoke.h"

namespace pmx {
namespace {

// Aborts the case with CUDA's or cuBLAS's message when a direct call fails.
bool Failed(benchmark::State& state, cudaError_t status) {
  if (status == cudaSuccess) return false;
  state.SkipWithError(cudaGetErrorString(status));
  return true;
}
bool Failed(benchmark::State& state, cublasStatus_t status) {
  if (status == CUBLAS_STATUS_SUCCESS) return false;
  state.SkipWithError(cublasGetStatusString(status));
  return true;
}

std::string DotName(bool direct, int64_t n, DType dtype) {
  return std::string(direct ? "cublas_gemm/" : "pmx_dot/") + DTypeName(dtype) + "/" + std::to_string(n);
}

// An n x n x n product per iteration: through Invoke("dot"), or (direct) cublasGemmEx on the same arrays.
void Gemm(benchmark::State& state, int64_t n, DType dtype, bool direct) {
  const Device gpu = Device::gpu(0);
  const NDArray a = NDArray::Full(Shape{n, n}, 0.5, dtype, gpu);
  const NDArray b = NDArray::Full(Shape{n, n}, 0.25, dtype, gpu);
  const NDArray c = NDArray::Empty(Shape{n, n}, dtype, gpu);
  a.WaitToRead();
  b.WaitToRead();
  c.WaitToWrite();
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
  if (!direct) {
    InvokeOptions options;
    options.outputs = {c};
    const OpDef& dot = OpRegistry::Get()->Lookup("dot");
    const OpParams params = dot.ParseParams({});
    Invoke(dot, {a, b}, params, options);  // Warm-up: cuBLAS handle and heuristics.
    c.WaitToRead();
    for (auto _ : state) {
      Invoke(dot, {a, b}, params, options);
      c.WaitToRead();
    }
    return;
  }
  cudaStream_t stream = nullptr;
  cublasHandle_t handle = nullptr;
  if (Failed(state, cudaSetDevice(0)) || Failed(state, cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking)) ||
      Failed(state, cublasCreate(&handle)) || Failed(state, cublasSetStream(handle, stream))) {
    return;
  }
  const cudaDataType_t type = dtype == DType::kFloat16 ? CUDA_R_16F : CUDA_R_32F;
  const float alpha = 1.0f, beta = 0.0f;
  const int size = static_cast<int>(n);
  auto run = [&] {
    return cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, size, size, size, &alpha, b.data(), type, size, a.data(),
                        type, size, &beta, c.data(), type, size, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  };
  if (!Failed(state, run()) && !Failed(state, cudaStreamSynchronize(stream))) {
    for (auto _ : state) {
      if (Failed(state, run()) || Failed(state, cudaStreamSynchronize(stream))) break;
    }
  }
  cublasDestroy(handle);
  cudaStreamDestroy(stream);
}

std::string AddName(bool direct, int64_t count) {
  return std::string(direct ? "device_copy/" : "pmx_elemwise_add/") + std::to_string(count);
}

// out = a + b over `count` float32 elements through Invoke (3 x 4 bytes moved per element), or (direct)
// a device-to-device copy of `count` elements (2 x 4 bytes per element).
void Add(benchmark::State& state, int64_t count, bool direct) {
  const Device gpu = Device::gpu(0);
  const NDArray a = NDArray::Full(Shape{count}, 1.5, DType::kFloat32, gpu);
  const NDArray b = NDArray::Full(Shape{count}, 2.5, DType::kFloat32, gpu);
  const NDArray c = NDArray::Empty(Shape{count}, DType::kFloat32, gpu);
  a.WaitToRead();
  b.WaitToRead();
  c.WaitToWrite();
  const double bytes = (direct ? 2.0 : 3.0) * 4.0 * count;
  state.counters["bytes/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  if (!direct) {
    InvokeOptions options;
    options.outputs = {c};
    const OpDef& add = OpRegistry::Get()->Lookup("elemwise_add");
    const OpParams params = add.ParseParams({});
    Invoke(add, {a, b}, params, options);
    c.WaitToRead();
    for (auto _ : state) {
      Invoke(add, {a, b}, params, options);
      c.WaitToRead();
    }
    return;
  }
  cudaStream_t stream = nullptr;
  if (Failed(state, cudaSetDevice(0)) || Failed(state, cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking))) {
    return;
  }
  for (auto _ : state) {
    if (Failed(state, cudaMemcpyAsync(c.data(), a.data(), 4 * count, cudaMemcpyDeviceToDevice, stream)) ||
        Failed(state, cudaStreamSynchronize(stream))) {
      break;
    }
  }
  cudaStreamDestroy(stream);
}

// Forwards to the display reporter and keeps each case's rate counter for the closing ratio lines.
class RatioReporter : public benchmark::BenchmarkReporter {
 public:
  RatioReporter() : display_(benchmark::CreateDefaultDisplayReporter()) {}
  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    display_->ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      for (const char* counter : {"FLOP/s", "bytes/s"}) {
        auto found = run.counters.find(counter);
        // Keyed by the registered name: benchmark_name() has "/real_time" appended.
        if (found != run.counters.end()) rates_[run.run_name.function_name] = found->second.value;
      }
    }
  }
  void Finalize() override { display_->Finalize(); }

  // Prints "ratio <what>: <ours> vs <reference> = Z" for each pair measured.
  void PrintRatio(const std::string& ours, const std::string& reference, const char* unit, double scale) const {
    auto a = rates_.find(ours), b = rates_.find(reference);
    if (a == rates_.end() || b == rates_.end()) return;
    std::printf("ratio %s: %.1f %s vs %s: %.1f %s = %.3f\n", ours.c_str(), a->second / scale, unit,
                reference.c_str(), b->second / scale, unit, a->second / b->second);
  }

 private:
  BenchmarkReporter* display_;             // Owned by the benchmark library.
  std::map<std::string, double> rates_;  // Case name -> rate.
};

}  // namespace
}  // namespace pmx

int main(int argc, char** argv) {
  using pmx::DType;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (pmx::gpu::DeviceCount() == 0) {
    std::printf("No GPU (built with CUDA: %s): nothing to measure.\n", pmx::gpu::BuiltWithCuda() ? "yes" : "no");
    return 0;
  }
  const std::vector<std::pair<int64_t, DType>> gemms = {
      {1024, DType::kFloat32}, {4096, DType::kFloat32}, {8192, DType::kFloat32}, {8192, DType::kFloat16}};
  for (const auto& [n, dtype] : gemms) {
    for (bool direct : {false, true}) {
      benchmark::RegisterBenchmark(pmx::DotName(direct, n, dtype).c_str(),
                                   [n = n, dtype = dtype, direct](benchmark::State& state) {
                                     pmx::Gemm(state, n, dtype, direct);
                                   })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  const int64_t count = int64_t{1} << 26;
  for (bool direct : {false, true}) {
    benchmark::RegisterBenchmark(pmx::AddName(direct, count).c_str(),
                                 [count, direct](benchmark::State& state) { pmx::Add(state, count, direct); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  pmx::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\nThrough pmx::Invoke vs the reference, same run (1.0: no overhead; bytes/s counts reads + writes):\n");
  for (const auto& [n, dtype] : gemms) {
    reporter.PrintRatio(pmx::DotName(false, n, dtype), pmx::DotName(true, n, dtype), "GFLOP/s", 1e9);
  }
  reporter.PrintRatio(pmx::AddName(false, count), pmx::AddName(true, count), "GB/s", 1e9);
  benchmark::Shutdown();
  return 0;
}
