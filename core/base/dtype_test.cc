#include "core/base/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/base/half.h"

namespace pmx {
namespace {

TEST(DTypeTest, FlagsMatchMXNet) {
  EXPECT_EQ(static_cast<int>(DType::kFloat32), 0);
  EXPECT_EQ(static_cast<int>(DType::kFloat64), 1);
  EXPECT_EQ(static_cast<int>(DType::kFloat16), 2);
  EXPECT_EQ(static_cast<int>(DType::kUint8), 3);
  EXPECT_EQ(static_cast<int>(DType::kInt32), 4);
  EXPECT_EQ(static_cast<int>(DType::kInt8), 5);
  EXPECT_EQ(static_cast<int>(DType::kInt64), 6);
  EXPECT_EQ(static_cast<int>(DType::kBool), 7);
  EXPECT_EQ(static_cast<int>(DType::kBfloat16), 12);
}

TEST(DTypeTest, SizesNamesAndParsingAgree) {
  for (int flag : {0, 1, 2, 3, 4, 5, 6, 7, 12}) {
    DType dtype = DTypeFromFlag(flag);
    EXPECT_EQ(DTypeFromName(DTypeName(dtype)), dtype);
    size_t size = DispatchDType(dtype, [](auto value) { return sizeof(value); });
    EXPECT_EQ(DTypeSize(dtype), size) << DTypeName(dtype);
  }
  EXPECT_EQ(DTypeFromName("float"), DType::kFloat64);  // As NumPy reads it.
  EXPECT_TRUE(IsFloatingPoint(DType::kBfloat16));
  EXPECT_FALSE(IsFloatingPoint(DType::kInt32));
}

TEST(DTypeTest, BadFlagsAndNamesAreTypeErrors) {
  EXPECT_FALSE(IsValidDTypeFlag(9));
  try {
    DTypeFromFlag(42);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kTypeError);
    EXPECT_NE(error.message().find("42"), std::string::npos);
  }
  EXPECT_THROW(DTypeFromName("complex64"), Error);
}

TEST(HalfTest, Float16RoundTripsEveryPattern) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    Float16 half;
    half.bits = static_cast<uint16_t>(bits);
    float value = half;
    if (std::isnan(value)) continue;
    EXPECT_EQ(Float16(value).bits, half.bits) << bits;
  }
}

TEST(HalfTest, Float16RoundsToNearestEven) {
  EXPECT_EQ(static_cast<float>(Float16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(Float16(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(static_cast<float>(Float16(65520.0f))));
  EXPECT_EQ(static_cast<float>(Float16(1.0f + 1.0f / 2048)), 1.0f);  // Halfway: to even.
  EXPECT_EQ(static_cast<float>(Float16(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);
  EXPECT_EQ(static_cast<float>(Float16(5.9604645e-08f)), 5.9604645e-08f);  // Smallest subnormal.
  EXPECT_EQ(static_cast<float>(Float16(2.0e-08f)), 0.0f);
  EXPECT_TRUE(std::isnan(static_cast<float>(Float16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(HalfTest, BFloat16KeepsTheTopBitsRounded) {
  EXPECT_EQ(static_cast<float>(BFloat16(1.0f)), 1.0f);
  EXPECT_EQ(static_cast<float>(BFloat16(3.0f)), 3.0f);
  EXPECT_EQ(static_cast<float>(BFloat16(1.00390625f)), 1.0f);  // Halfway between 1 and 1+2^-7: even.
  EXPECT_TRUE(std::isnan(static_cast<float>(BFloat16(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace pmx
