// SpinUntil: poll a condition briefly before paying for a kernel sleep and wake-up. Private to core/engine.
#ifndef POLYMIX_CORE_ENGINE_INTERNAL_SPIN_H_
#define POLYMIX_CORE_ENGINE_INTERNAL_SPIN_H_

#include <chrono>

namespace pmx {
namespace engine_internal {

// Note [Spinning before sleeping]
// Small operations finish in a few microseconds, less than a futex sleep and wake-up cost the two threads
// involved (a syscall each and a context switch). So a thread about to block for the engine (an idle worker
// waiting for work, a caller waiting for a variable) first polls its condition for up to kSpinTime; only if the
// wait is longer than that does it block. The spin is bounded and only happens when the thread would otherwise
// sleep, so a busy machine loses at most kSpinTime of one core per wait.

// How long a thread polls before it blocks.
constexpr std::chrono::microseconds kSpinTime{50};

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
bool SpinUntil(Ready ready, std::chrono::microseconds limit = kSpinTime) {
  if (ready()) return true;
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
