// Threaded loops for CPU kernels: split [0, n) into chunks run on OpenMP threads.
#ifndef POLYMIX_CORE_BACKEND_CPU_PARALLEL_H_
#define POLYMIX_CORE_BACKEND_CPU_PARALLEL_H_

#include <algorithm>
#include <cstdint>

namespace pmx {
namespace cpu {

// Number of threads a CPU kernel may use (OpenMP's setting; OMP_NUM_THREADS overrides).
int KernelThreads();

// Note [Kernel parallelism]
// Engine workers run independent operations side by side; inside one operation a large loop is split
// across OpenMP threads as MXNet and oneDNN do. Loops below `grain` elements per thread stay on one
// thread, because waking threads costs a few microseconds, more than a small loop takes.

// Calls fn(begin, end) over disjoint chunks covering [0, n), on several threads when n is large.
template <typename Fn>
void ParallelFor(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  const int64_t threads = std::min<int64_t>(KernelThreads(), (n + grain - 1) / grain);
  if (threads <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t chunk = (n + threads - 1) / threads;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t begin = t * chunk;
    const int64_t end = std::min(n, begin + chunk);
    if (begin < end) fn(begin, end);
  }
}

}  // namespace cpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CPU_PARALLEL_H_
