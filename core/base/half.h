// The 16-bit float storage types, float16 and bfloat16, with conversions to and from float.
#ifndef POLYMIX_CORE_BASE_HALF_H_
#define POLYMIX_CORE_BASE_HALF_H_

#include <cstdint>
#include <cstring>

namespace pmx {

// IEEE binary16 stored in 16 bits; arithmetic goes through float.
struct Float16 {
  uint16_t bits = 0;  // The raw binary16 pattern.

  Float16() = default;
  // Rounds `value` to nearest-even binary16 (overflow gives infinity, NaN stays NaN).
  explicit Float16(float value);
  // The exact float value of this half.
  operator float() const;
};

// bfloat16 (the top half of a binary32) stored in 16 bits; arithmetic goes through float.
struct BFloat16 {
  uint16_t bits = 0;  // The raw bfloat16 pattern.

  BFloat16() = default;
  // Rounds `value` to nearest-even bfloat16 (NaN stays NaN).
  explicit BFloat16(float value) {
    uint32_t word;
    std::memcpy(&word, &value, sizeof(word));
    if ((word & 0x7fffffffu) > 0x7f800000u) {
      bits = static_cast<uint16_t>((word >> 16) | 0x40u);  // Quiet NaN.
      return;
    }
    uint32_t rounding = 0x7fffu + ((word >> 16) & 1u);
    bits = static_cast<uint16_t>((word + rounding) >> 16);
  }
  // The exact float value of this bfloat16.
  operator float() const {
    uint32_t word = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &word, sizeof(value));
    return value;
  }
};

static_assert(sizeof(Float16) == 2 && sizeof(BFloat16) == 2, "16-bit floats must be 2 bytes");

}  // namespace pmx

#endif  // POLYMIX_CORE_BASE_HALF_H_
