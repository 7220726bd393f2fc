// The runtime tour: Polymix's main job until the Python package lands. It exercises the engine and
// NDArray end to end and prints what it did:
//   1. creates arrays and runs a chain of operators asynchronously, then checks the result on the host;
//   2. pushes independent chains of work without waiting (POLYMIX_CPU_WORKER_NTHREADS workers run them);
//   3. copies between devices (cpu, and gpu(0) when this build and machine have one);
//   4. saves an MXNet .params file, loads it back and verifies every value;
//   5. prints the allocator's statistics.
// Run: tools/main_job   (or bazel run --config=opt //examples/cpp:runtime_tour)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/array/ndarray_io.h"
#include "core/backend/gpu_runtime.h"
#include "core/base/env.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/ops/invoke.h"
#include "core/storage/storage.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The values of a float32 array, copied to the host.
std::vector<float> ToHost(const pmx::NDArray& array) {
  std::vector<float> values(array.size());
  array.CopyToHost(values.data(), values.size() * sizeof(float));
  return values;
}

int Check(bool ok, const std::string& what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAILED", what.c_str());
  return ok ? 0 : 1;
}

int OperatorChain() {
  std::printf("1. An operator chain, pushed asynchronously\n");
  const int64_t n = 1 << 20;
  pmx::NDArray x = pmx::NDArray::Full(pmx::Shape{n}, 0.3);
  const auto start = Clock::now();
  pmx::NDArray y = x;
  for (int step = 0; step < 20; ++step) {
    // y = sigmoid(y * 2 - 1): a fixed point iteration, all pushed without waiting.
    y = pmx::Invoke1("sigmoid", {pmx::Invoke1("_minus_scalar", {pmx::Invoke1("_mul_scalar", {y}, {{"scalar", "2"}})},
                                                {{"scalar", "1"}})});
  }
  const double pushed = Seconds(start);
  const std::vector<float> values = ToHost(y);
  const double finished = Seconds(start);
  double expected = 0.3;
  for (int step = 0; step < 20; ++step) expected = 1 / (1 + std::exp(-(expected * 2 - 1)));
  std::printf("  60 ops on %lld elements: pushed in %.2f ms, finished in %.2f ms\n", static_cast<long long>(n),
              pushed * 1e3, finished * 1e3);
  return Check(std::abs(values[0] - expected) < 1e-5 && std::abs(values[n - 1] - expected) < 1e-5,
               "result matches the same chain computed on the host: " + std::to_string(values[0]));
}

int ParallelWork() {
  std::printf("2. Independent chains, pushed without waiting\n");
  const int64_t n = 1 << 22;
  std::vector<pmx::NDArray> arrays;
  for (int i = 0; i < 4; ++i) arrays.push_back(pmx::NDArray::Full(pmx::Shape{n}, i));
  pmx::Engine::Get()->WaitForAll();
  const auto start = Clock::now();
  for (int round = 0; round < 10; ++round) {
    for (auto& array : arrays) array = pmx::Invoke1("exp", {pmx::Invoke1("_mul_scalar", {array}, {{"scalar", "0"}})});
  }
  pmx::Engine::Get()->WaitForAll();
  std::printf("  4 independent chains x 20 ops x %lld elements: %.1f ms\n", static_cast<long long>(n),
              Seconds(start) * 1e3);
  return Check(ToHost(arrays[3])[7] == 1.0f, "every chain ends at exp(0) = 1");
}

int DeviceCopies() {
  std::printf("3. Copies between devices\n");
  int failures = 0;
  const float data[6] = {1, 2, 3, 4, 5, 6};
  pmx::NDArray host = pmx::NDArray::FromHostBuffer(data, pmx::Shape{2, 3});
  pmx::NDArray copy = host.CopyTo(pmx::Device::cpu());
  failures += Check(ToHost(copy.At(1))[2] == 6.0f, "cpu -> cpu copy, row view of the copy");
  if (pmx::gpu::DeviceCount() > 0) {
    pmx::NDArray on_gpu = host.CopyTo(pmx::Device::gpu(0));
    pmx::NDArray back = on_gpu.AsType(pmx::DType::kFloat64).CopyTo(pmx::Device::cpu());
    double values[6];
    back.CopyToHost(values, sizeof(values));
    failures += Check(values[5] == 6.0, "cpu -> gpu(0), cast to float64 on the GPU, gpu(0) -> cpu");
  } else {
    try {
      host.CopyTo(pmx::Device::gpu(0)).WaitToRead();
      failures += Check(false, "gpu(0) copy should fail on a machine without GPUs");
    } catch (const pmx::Error& error) {
      std::printf("  no GPU here (%s): %s\n", pmx::gpu::BuiltWithCuda() ? "CUDA build" : "CPU build",
                  error.message().c_str());
    }
  }
  return failures;
}

int ParamsFile() {
  std::printf("4. MXNet .params round trip\n");
  const std::string path = "/tmp/polymix_runtime_tour.params";
  pmx::NDArray weight = pmx::Invoke1("_mul_scalar", {pmx::NDArray::Ones(pmx::Shape{64, 32})}, {{"scalar", "0.25"}});
  pmx::NDArray bias = pmx::NDArray::Full(pmx::Shape{64}, -1.5);
  pmx::params::Save(path, {weight, bias}, {"arg:fc1_weight", "arg:fc1_bias"});
  const pmx::params::ArrayList loaded = pmx::params::Load(path);
  const std::vector<float> w = ToHost(loaded.arrays[0]), b = ToHost(loaded.arrays[1]);
  bool same = loaded.names == std::vector<std::string>{"arg:fc1_weight", "arg:fc1_bias"};
  for (float v : w) same = same && v == 0.25f;
  for (float v : b) same = same && v == -1.5f;
  std::printf("  saved and loaded %s: %zu arrays\n", path.c_str(), loaded.arrays.size());
  return Check(same, "names, shapes and values survive");
}

void StorageStatistics() {
  std::printf("5. Allocator statistics (cpu)\n");
  const pmx::StorageStats stats = pmx::Storage::Get()->Stats(pmx::Device::cpu());
  std::printf("  in use %.1f MiB, peak %.1f MiB, pooled %.1f MiB; %lld allocations, %lld pool hits (%.0f%%)\n",
              stats.bytes_in_use / 1048576.0, stats.peak_bytes_in_use / 1048576.0, stats.bytes_pooled / 1048576.0,
              static_cast<long long>(stats.allocations), static_cast<long long>(stats.pool_hits),
              stats.allocations ? 100.0 * stats.pool_hits / stats.allocations : 0.0);
}

}  // namespace

int main() {
  std::printf("Polymix runtime tour (engine: %s)\n\n", pmx::Env().engine_type.c_str());
  int failures = 0;
  try {
    failures += OperatorChain();
    failures += ParallelWork();
    failures += DeviceCopies();
    failures += ParamsFile();
    StorageStatistics();
  } catch (const pmx::Error& error) {
    std::printf("error: %s: %s\n", pmx::ErrorKindName(error.kind()), error.message().c_str());
    return 1;
  }
  std::printf("\n%s\n", failures == 0 ? "All steps passed." : "Some steps FAILED.");
  return failures == 0 ? 0 : 1;
}
