#include "core/base/env.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "core/base/error.h"

namespace pmx {
namespace {

// The value of POLYMIX_<name>, else MXNET_<name>, else nullptr.
const char* Lookup(const std::string& name) {
  if (const char* value = std::getenv(("POLYMIX_" + name).c_str())) return value;
  return std::getenv(("MXNET_" + name).c_str());
}

int ReadInt(const std::string& name, int fallback, int minimum) {
  const char* text = Lookup(name);
  if (text == nullptr || *text == '\0') return fallback;
  int value = 0;
  PMX_CHECK(absl::SimpleAtoi(text, &value) && value >= minimum, kValueError,
            "environment variable POLYMIX_%s is '%s': expected an integer >= %d", name, text, minimum);
  return value;
}

EnvSettings Read() {
  EnvSettings settings;
  if (const char* engine = Lookup("ENGINE_TYPE")) {
    std::string type = engine;
    // MXNet's names: ThreadedEnginePerDevice and ThreadedEnginePooled are both our threaded engine.
    if (type == "ThreadedEnginePerDevice" || type == "ThreadedEnginePooled") type = "ThreadedEngine";
    PMX_CHECK(type == "ThreadedEngine" || type == "NaiveEngine", kValueError,
              "environment variable POLYMIX_ENGINE_TYPE is '%s': expected ThreadedEngine or NaiveEngine",
              engine);
    settings.engine_type = type;
  }
  // Note [One CPU worker by default]
  // Each CPU worker running a kernel brings its own OpenMP thread team, and the idle team of another worker
  // keeps spinning: with 2 workers a 256x256 dot took 0.222 ms against 0.167 ms with 1 (measured with
  // //core/ops:gemm_benchmark). Kernels parallelise internally, so MXNet's default of one worker is ours too.
  settings.cpu_worker_threads = ReadInt("CPU_WORKER_NTHREADS", 1, 1);
  settings.cpu_priority_threads = ReadInt("CPU_PRIORITY_NTHREADS", 1, 0);
  settings.gpu_worker_threads = ReadInt("GPU_WORKER_NTHREADS", 2, 1);
  settings.gpu_copy_threads = ReadInt("GPU_COPY_NTHREADS", 2, 1);
  settings.storage_pool = ReadInt("STORAGE_POOL", 1, 0) != 0;
  settings.engine_spin_us = ReadInt("ENGINE_SPIN_US", 50, 0);
  return settings;
}

EnvSettings& Mutable() {
  static EnvSettings settings = Read();
  return settings;
}

}  // namespace

const EnvSettings& Env() { return Mutable(); }

void ReloadEnvForTesting() { Mutable() = Read(); }

}  // namespace pmx
