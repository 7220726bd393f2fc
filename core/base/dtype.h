// Element types, numbered with MXNet's type flags so that .params files and symbol JSON agree.
#ifndef POLYMIX_CORE_BASE_DTYPE_H_
#define POLYMIX_CORE_BASE_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pmx {

// An element type. The values are MXNet 1.x's type flags (mshadow::TypeFlag) and part of the C ABI
// and of the .params file format: never renumber.
enum class DType : int32_t {
  kFloat32 = 0,    // IEEE binary32.
  kFloat64 = 1,    // IEEE binary64.
  kFloat16 = 2,    // IEEE binary16.
  kUint8 = 3,      // Unsigned 8-bit integer.
  kInt32 = 4,      // Signed 32-bit integer.
  kInt8 = 5,       // Signed 8-bit integer.
  kInt64 = 6,      // Signed 64-bit integer.
  kBool = 7,       // One byte, 0 or 1.
  kBfloat16 = 12,  // Brain float: the top 16 bits of a binary32.
};

// Bytes per element of `dtype`.
size_t DTypeSize(DType dtype);

// The NumPy-style name of `dtype`: "float32", "bfloat16", "bool", ...
const char* DTypeName(DType dtype);

// Parses a NumPy-style name ("float32", "float", "int64", ...); throws TypeError for an unknown name.
DType DTypeFromName(std::string_view name);

// Converts an MXNet type flag to a DType; throws TypeError for a flag Polymix does not support.
DType DTypeFromFlag(int32_t flag);

// Whether `flag` is the number of a supported DType.
bool IsValidDTypeFlag(int32_t flag);

// Whether `dtype` is a floating-point type (float16, bfloat16, float32, float64).
bool IsFloatingPoint(DType dtype);

// Calls `fn(T{})` with T the C++ storage type of `dtype` (Float16/BFloat16 for the 16-bit floats,
// bool for kBool). The one place that turns a runtime dtype into a template argument.
template <typename Fn>
decltype(auto) DispatchDType(DType dtype, Fn&& fn);

}  // namespace pmx

#include "core/base/internal/dtype_dispatch.h"

#endif  // POLYMIX_CORE_BASE_DTYPE_H_
