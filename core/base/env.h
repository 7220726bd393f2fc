// Environment settings: every POLYMIX_* (and MXNET_* fallback) variable is read here, in one place.
#ifndef POLYMIX_CORE_BASE_ENV_H_
#define POLYMIX_CORE_BASE_ENV_H_

#include <string>

namespace pmx {

// The settings read from the environment at first use.
struct EnvSettings {
  // POLYMIX_ENGINE_TYPE (or MXNET_ENGINE_TYPE): "ThreadedEngine" (default) or "NaiveEngine", which runs
  // every operation synchronously on the caller's thread.
  std::string engine_type = "ThreadedEngine";
  // POLYMIX_CPU_WORKER_NTHREADS (or MXNET_CPU_WORKER_NTHREADS): CPU engine workers;
  // default 1, as MXNet: kernels are multi-threaded themselves (Note [One CPU worker by default]).
  int cpu_worker_threads = 1;
  // POLYMIX_CPU_PRIORITY_NTHREADS (or MXNET_CPU_PRIORITY_NTHREADS): workers kept for high-priority work.
  int cpu_priority_threads = 1;
  // POLYMIX_GPU_WORKER_NTHREADS (or MXNET_GPU_WORKER_NTHREADS): compute workers (one stream each) per GPU.
  int gpu_worker_threads = 2;
  // POLYMIX_GPU_COPY_NTHREADS (or MXNET_GPU_COPY_NTHREADS): copy workers (one stream each) per GPU.
  int gpu_copy_threads = 2;
  // POLYMIX_STORAGE_POOL: "1" (default) keeps freed blocks for reuse; "0" frees them at once.
  bool storage_pool = true;
  // POLYMIX_ENGINE_SPIN_US: how long (microseconds) an idle engine worker or a waiting caller polls before it
  // sleeps (Note [Spinning before sleeping] in core/engine/internal/spin.h); 0 sleeps at once. Default 50.
  int engine_spin_us = 50;

  // Whether the engine runs synchronously (engine_type == "NaiveEngine").
  bool naive_engine() const { return engine_type == "NaiveEngine"; }
};

// The process's settings, read from the environment once; throws ValueError for a malformed value.
const EnvSettings& Env();

// Reads the environment again (tests change variables and call this); not thread-safe.
void ReloadEnvForTesting();

}  // namespace pmx

#endif  // POLYMIX_CORE_BASE_ENV_H_
