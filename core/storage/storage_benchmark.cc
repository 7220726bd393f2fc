// Cost of one Allocate + Free pair, pooled vs unpooled (POLYMIX_STORAGE_POOL=0), for a few sizes on the
// host and, when the machine has a GPU, on gpu(0) and cpu_pinned. Ends with one ratio line per size.
//
//   bazel run --config=opt //core/storage:storage_benchmark
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/backend/gpu_runtime.h"
#include "core/base/env.h"
#include "core/storage/storage.h"

namespace pmx {
namespace {

// Switches pooling for the benchmarks that follow (the setting is read at every Allocate and Free).
void SetPooling(bool pooled) {
  setenv("POLYMIX_STORAGE_POOL", pooled ? "1" : "0", 1);
  ReloadEnvForTesting();
}

// Allocates and frees `size` bytes on `device` once per iteration.
void AllocateAndFree(benchmark::State& state, Device device, size_t size, bool pooled) {
  SetPooling(pooled);
  Storage* storage = Storage::Get();
  storage->ReleasePool(device);
  storage->Free(storage->Allocate(size, device));  // Warm: fills the pool when pooled.
  const StorageStats before = storage->Stats(device);
  for (auto _ : state) {
    StorageBlock block = storage->Allocate(size, device);
    benchmark::DoNotOptimize(block.data);
    storage->Free(block);
  }
  const StorageStats after = storage->Stats(device);
  const double allocations = static_cast<double>(after.allocations - before.allocations);
  state.counters["pool_hit_rate"] =
      allocations > 0 ? static_cast<double>(after.pool_hits - before.pool_hits) / allocations : 0;
  storage->ReleasePool(device);
}

// The name of one case: "<device>/<pooled|unpooled>/<bytes>".
std::string CaseName(Device device, bool pooled, size_t size) {
  return device.ToString() + (pooled ? "/pooled/" : "/unpooled/") + std::to_string(size);
}

// Registers the pooled and unpooled cases of `device` for every size in `sizes`.
void RegisterDevice(Device device, const std::vector<size_t>& sizes) {
  for (size_t size : sizes) {
    for (bool pooled : {false, true}) {
      benchmark::RegisterBenchmark(CaseName(device, pooled, size).c_str(),
                                   [=](benchmark::State& state) { AllocateAndFree(state, device, size, pooled); })
          ->Unit(benchmark::kNanosecond);
    }
  }
}

// Forwards to the display reporter chosen by the flags, and keeps each case's time per iteration for the
// closing ratio lines.
class RatioReporter : public benchmark::BenchmarkReporter {
 public:
  RatioReporter() : display_(benchmark::CreateDefaultDisplayReporter()) {}

  bool ReportContext(const Context& context) override { return display_->ReportContext(context); }

  void ReportRuns(const std::vector<Run>& runs) override {
    display_->ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && !run.error_occurred) {
        nanoseconds_[run.benchmark_name()] = run.GetAdjustedRealTime();  // Registered in nanoseconds.
      }
    }
  }

  void Finalize() override { display_->Finalize(); }

  // Prints "ratio <device> <bytes> B: unpooled X ns, pooled Y ns, unpooled/pooled = Z" for each size.
  void PrintRatios(const std::vector<std::pair<Device, std::vector<size_t>>>& cases) const {
    std::printf("\nAllocate+Free, unpooled time / pooled time (higher: pooling saves more), same run:\n");
    for (const auto& [device, sizes] : cases) {
      for (size_t size : sizes) {
        auto unpooled = nanoseconds_.find(CaseName(device, false, size));
        auto pooled = nanoseconds_.find(CaseName(device, true, size));
        if (unpooled == nanoseconds_.end() || pooled == nanoseconds_.end()) continue;  // Filtered out.
        std::printf("ratio %s %zu B: unpooled %.1f ns, pooled %.1f ns, unpooled/pooled = %.2f\n",
                    device.ToString().c_str(), size, unpooled->second, pooled->second,
                    unpooled->second / pooled->second);
      }
    }
  }

 private:
  BenchmarkReporter* display_;                  // Owned by the benchmark library.
  std::map<std::string, double> nanoseconds_;  // Case name -> real time per iteration.
};

}  // namespace
}  // namespace pmx

int main(int argc, char** argv) {
  using pmx::Device;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::vector<std::pair<Device, std::vector<size_t>>> cases = {
      {Device::cpu(), {64, 4096, size_t{256} << 10, size_t{16} << 20}}};
  if (pmx::gpu::DeviceCount() > 0) {
    cases.push_back({Device::gpu(0), {4096, size_t{1} << 20, size_t{64} << 20}});
    cases.push_back({Device::cpu_pinned(), {4096, size_t{1} << 20}});
  } else {
    std::printf("No GPU (built with CUDA: %s): measuring host memory only.\n",
                pmx::gpu::BuiltWithCuda() ? "yes" : "no");
  }
  for (const auto& [device, sizes] : cases) pmx::RegisterDevice(device, sizes);
  pmx::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios(cases);
  benchmark::Shutdown();
  return 0;
}
