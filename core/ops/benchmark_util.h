// Helpers shared by the operator benchmarks (gemm, elementwise, conv, pooling): a console reporter that remembers each
// run's time so ratios measured in the same process can be printed at the end, the machine's load, and
// running one op through Invoke into preallocated outputs.
#ifndef POLYMIX_CORE_OPS_BENCHMARK_UTIL_H_
#define POLYMIX_CORE_OPS_BENCHMARK_UTIL_H_

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/ops/invoke.h"

namespace pmx {
namespace bench {

// The console output plus the seconds per iteration of every run, by benchmark name.
class TimingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.iterations == 0) continue;
      const double seconds = run.real_accumulated_time / static_cast<double>(run.iterations);
      if (run.run_type == Run::RT_Iteration && !medians_.count(run.run_name.str())) {
        seconds_[run.run_name.str()] = seconds;  // With repetitions, the last one until the median arrives.
      } else if (run.run_type == Run::RT_Aggregate && run.aggregate_name == "median") {
        seconds_[run.run_name.str()] = seconds;  // --benchmark_repetitions: summaries use medians.
        medians_[run.run_name.str()] = true;
      }
    }
  }
  // Seconds per iteration of benchmark `name` (as printed, e.g. "BM_Dot/512/real_time"), or -1 if it did not run.
  double Seconds(const std::string& name) const {
    auto found = seconds_.find(name);
    return found == seconds_.end() ? -1.0 : found->second;
  }

 private:
  std::map<std::string, double> seconds_;
  std::map<std::string, bool> medians_;
};

// The 1-minute load average (other processes on the 2 shared cores skew every figure).
inline double LoadAverage() {
  double load[1] = {0};
  getloadavg(load, 1);
  return load[0];
}

// A float32 array of `shape` with uniform values in [-1, 1).
inline NDArray RandomArray(const Shape& shape, uint32_t seed) {
  std::vector<float> values(static_cast<size_t>(shape.size()));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float& v : values) v = uniform(rng);
  return NDArray::FromHostBuffer(values.data(), shape, DType::kFloat32);
}

// Runs `op` (parameters parsed once by the caller) on `inputs` into `outputs` and waits for the result: the
// whole imperative path a user's call takes (checks, inference, engine push, kernel, wait).
inline void InvokeInto(const OpDef& op, const OpParams& params, const std::vector<NDArray>& inputs,
                       const std::vector<NDArray>& outputs) {
  InvokeOptions options;
  options.outputs = outputs;
  Invoke(op, inputs, params, options);
  outputs[0].WaitToRead();
}

// The main() of an operator benchmark: runs the benchmarks selected on the command line with a TimingReporter,
// then `summary` (the ratios measured in this run). Returns the process's exit status.
template <typename Summary>
int RunAndSummarize(int argc, char** argv, Summary summary) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  TimingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  summary(reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace bench
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_BENCHMARK_UTIL_H_
