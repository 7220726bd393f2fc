// Implementation of pmx::DispatchDType; include core/base/dtype.h instead.
#ifndef POLYMIX_CORE_BASE_INTERNAL_DTYPE_DISPATCH_H_
#define POLYMIX_CORE_BASE_INTERNAL_DTYPE_DISPATCH_H_

#include "core/base/error.h"
#include "core/base/half.h"

namespace pmx {

template <typename Fn>
decltype(auto) DispatchDType(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::kFloat32: return fn(float{});
    case DType::kFloat64: return fn(double{});
    case DType::kFloat16: return fn(Float16{});
    case DType::kBfloat16: return fn(BFloat16{});
    case DType::kUint8: return fn(uint8_t{});
    case DType::kInt8: return fn(int8_t{});
    case DType::kInt32: return fn(int32_t{});
    case DType::kInt64: return fn(int64_t{});
    case DType::kBool: return fn(bool{});
  }
  Throw(ErrorKind::kTypeError, "unsupported dtype flag %d", static_cast<int>(dtype));
}

}  // namespace pmx

#endif  // POLYMIX_CORE_BASE_INTERNAL_DTYPE_DISPATCH_H_
