#include "core/backend/cpu/parallel.h"

#include <omp.h>

namespace pmx {
namespace cpu {

int KernelThreads() {
  static const int threads = omp_get_max_threads();
  return threads;
}

}  // namespace cpu
}  // namespace pmx
