// The host loops behind NDArray::AsType, CopyTo between dtypes, and Fill.
#ifndef POLYMIX_CORE_ARRAY_INTERNAL_HOST_KERNELS_H_
#define POLYMIX_CORE_ARRAY_INTERNAL_HOST_KERNELS_H_

#include <cstdint>

#include "core/base/dtype.h"

namespace pmx {
namespace internal {

// Note [Element conversion]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// Conversions follow C++ (and NumPy) where C++ defines them: floats round to nearest, integers
// narrow modulo 2^n, anything to bool is `x != 0`. Where C++ leaves float -> integer undefined (NaN,
// out of range) we use what CUDA's conversion instructions do, so that CPU and GPU agree: truncate
// toward zero, saturate at the type's limits, NaN becomes 0. Float16 and bfloat16 convert through
// float; a bool element is read as a byte, so a byte other than 0/1 (from a file) counts as true.

// Converts `count` elements at `source` (of `source_dtype`) into `destination` (of `destination_dtype`).
void HostCast(const void* source, DType source_dtype, void* destination, DType destination_dtype, int64_t count);

// Sets `count` elements of `dtype` at `destination` to `value` converted to `dtype`.
void HostFill(void* destination, DType dtype, int64_t count, double value);

// Throws ValueError naming `op` unless `value` fits `dtype` for a fill: an integer dtype must hold the
// value truncated toward zero (NaN fits none), as gpu::FillAsync requires; float and bool take anything.
void CheckFillValue(double value, DType dtype, const char* op);

}  // namespace internal
}  // namespace pmx

#endif  // POLYMIX_CORE_ARRAY_INTERNAL_HOST_KERNELS_H_
