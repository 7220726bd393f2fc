#include "core/array/internal/host_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/base/error.h"
#include "core/base/half.h"

namespace pmx {
namespace internal {
namespace {

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// Storage types whose elements are read as they are: a bool is read through uint8_t (see the Note).
template <typename T>
using ReadType = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

// Widens a half to float; leaves every other type alone.
template <typename T>
auto Arithmetic(T value) {
  if constexpr (kIsHalf<T>) {
    return static_cast<float>(value);
  } else {
    return value;
  }
}

// A floating-point value converted to integer type To as CUDA does (see Note [Element conversion]).
template <typename To, typename From>
To SaturatingFloatToInteger(From value) {
  const double x = static_cast<double>(value);
  if (std::isnan(x)) return To{0};
  // 2^digits is exact in double; every finite double below it truncates into range.
  const double upper = std::ldexp(1.0, std::numeric_limits<To>::digits);
  if (x >= upper) return std::numeric_limits<To>::max();
  if (std::is_signed_v<To>) {
    if (x <= -upper) return std::numeric_limits<To>::min();  // -2^digits is the signed minimum itself.
  } else if (x <= -1.0) {
    return To{0};
  }
  return static_cast<To>(x);
}

// One element of type From converted to To (From is never bool: bools are read as uint8_t 0 or 1).
template <typename To, typename From>
To Convert(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (std::is_same_v<To, bool>) {
    return Arithmetic(value) != 0;
  } else if constexpr (kIsHalf<To>) {
    return To(static_cast<float>(Arithmetic(value)));
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(Arithmetic(value));
  } else if constexpr (std::is_floating_point_v<decltype(Arithmetic(value))>) {
    return SaturatingFloatToInteger<To>(Arithmetic(value));
  } else {
    return static_cast<To>(value);  // Integer to integer: modulo 2^n.
  }
}

template <typename To, typename From>
void CastLoop(const void* source, void* destination, int64_t count) {
  const auto* in = static_cast<const ReadType<From>*>(source);
  auto* out = static_cast<To*>(destination);
  for (int64_t i = 0; i < count; ++i) {
    if constexpr (std::is_same_v<From, bool>) {
      out[i] = Convert<To>(static_cast<uint8_t>(in[i] != 0));  // Any non-zero byte is true.
    } else {
      out[i] = Convert<To>(in[i]);
    }
  }
}

}  // namespace

void HostCast(const void* source, DType source_dtype, void* destination, DType destination_dtype, int64_t count) {
  if (count <= 0) return;
  if (source_dtype == destination_dtype && source_dtype != DType::kBool) {
    std::memmove(destination, source, static_cast<size_t>(count) * DTypeSize(source_dtype));
    return;
  }
  DispatchDType(source_dtype, [&](auto source_tag) {
    using From = decltype(source_tag);
    DispatchDType(destination_dtype, [&](auto destination_tag) {
      using To = decltype(destination_tag);
      CastLoop<To, From>(source, destination, count);
    });
  });
}

void HostFill(void* destination, DType dtype, int64_t count, double value) {
  if (count <= 0) return;
  DispatchDType(dtype, [&](auto tag) {
    using T = decltype(tag);
    std::fill_n(static_cast<T*>(destination), count, Convert<T>(value));
  });
}

void CheckFillValue(double value, DType dtype, const char* op) {
  DispatchDType(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      const double upper = std::ldexp(1.0, std::numeric_limits<T>::digits);  // max + 1, exact.
      const double lower = std::is_signed_v<T> ? -upper : 0.0;
      const double truncated = std::trunc(value);
      PMX_CHECK(truncated >= lower && truncated < upper, kValueError,
                "[%s] value %g does not fit dtype %s: expected a value in [%.0f, %.0f]", op, value, DTypeName(dtype),
                lower, upper - 1);
    }
  });
}

}  // namespace internal
}  // namespace pmx
