#include "core/base/half.h"

namespace pmx {

// Note [Float16 conversion]
// Round-to-nearest-even in integer arithmetic, the method of F16C's VCVTPS2PH; subnormals are produced
// by shifting the implicit bit in, so every binary16 value round-trips exactly through float.
Float16::Float16(float value) {
  uint32_t word;
  std::memcpy(&word, &value, sizeof(word));
  const uint32_t sign = (word >> 16) & 0x8000u;
  const uint32_t magnitude = word & 0x7fffffffu;
  if (magnitude >= 0x7f800000u) {  // Inf or NaN.
    bits = static_cast<uint16_t>(sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u : 0u));
    return;
  }
  if (magnitude >= 0x477ff000u) {  // Rounds to beyond the largest half (65504): infinity.
    bits = static_cast<uint16_t>(sign | 0x7c00u);
    return;
  }
  if (magnitude < 0x38800000u) {  // Below the smallest normal half: subnormal or zero.
    if (magnitude < 0x33000000u) {  // Below half of the smallest subnormal: rounds to zero.
      bits = static_cast<uint16_t>(sign);
      return;
    }
    const uint32_t exponent = magnitude >> 23;
    const uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // Expresses the value in units of 2^-24, the half subnormal step.
    uint32_t result = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (result & 1u))) ++result;
    bits = static_cast<uint16_t>(sign | result);
    return;
  }
  uint32_t result = magnitude - 0x38000000u;  // Rebias exponent from 127 to 15.
  const uint32_t remainder = result & 0x1fffu;
  result >>= 13;
  if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;
  bits = static_cast<uint16_t>(sign | result);
}

Float16::operator float() const {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t word;
  if (exponent == 0x1fu) {
    word = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    word = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    word = sign;
  } else {  // Subnormal half: normalise.
    uint32_t e = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    word = sign | (e << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float value;
  std::memcpy(&value, &word, sizeof(value));
  return value;
}

}  // namespace pmx
