// SpinUntil: poll a condition briefly before paying for a kernel sleep and wake-up. Private to core/engine.
#ifndef POLYMIX_CORE_ENGINE_INTERNAL_SPIN_H_
#define POLYMIX_CORE_ENGINE_INTERNAL_SPIN_H_

#include <chrono>

#include "core/base/env.h"

namespace pmx {
namespace engine_internal {

// Note [Spinning before sleeping]
// Small operations finish in a few microseconds, less than a futex sleep and wake-up cost the two threads
// involved (a syscall each and a context switch). So a thread about to block for the engine (an idle worker
// waiting for work, a caller waiting for a variable) first polls its condition for up to SpinTime(); only if the
// wait is longer than that does it block. The spin is bounded and only happens when the thread would otherwise
// sleep, so a busy machine loses at most SpinTime() of one core per wait. SpinTime() is POLYMIX_ENGINE_SPIN_US
// (default 50 µs; set it to 0 on a machine with more busy threads than cores, where a spinning thread takes a
// core from the thread it waits for).

// How long a thread polls before it blocks (POLYMIX_ENGINE_SPIN_US).
inline std::chrono::microseconds SpinTime() { return std::chrono::microseconds(Env().engine_spin_us); }

// Tells the CPU that the caller is in a spin-wait loop (saves power, yields to the sibling hyper-thread).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Polls `ready()` until it returns true (then true) or `limit` has passed (then false).
template <typename Ready>
bool SpinUntil(Ready ready, std::chrono::microseconds limit = SpinTime()) {
  if (ready()) return true;
  if (limit.count() <= 0) return false;
  const auto give_up = std::chrono::steady_clock::now() + limit;
  for (int polls = 1;; ++polls) {
    CpuRelax();
    if (ready()) return true;
    if (polls % 64 == 0 && std::chrono::steady_clock::now() >= give_up) return false;
  }
}

}  // namespace engine_internal
}  // namespace pmx

#endif  // POLYMIX_CORE_ENGINE_INTERNAL_SPIN_H_
