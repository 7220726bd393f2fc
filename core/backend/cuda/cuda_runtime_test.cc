// Tests of the CUDA GPU runtime. Every test that needs a GPU skips itself on machines without one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/backend/gpu_runtime.h"
#include "core/base/dtype.h"
#include "core/base/error.h"
#include "core/base/half.h"

namespace pmx {
namespace gpu {
namespace {

constexpr DType kAllDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBfloat16, DType::kUint8,
                                DType::kInt8,    DType::kInt32,   DType::kInt64,   DType::kBool};

// Expects `statement` to throw pmx::Error of `expected_kind`.
#define EXPECT_ERROR_KIND(statement, expected_kind)                                                  \
  do {                                                                                               \
    try {                                                                                            \
      statement;                                                                                     \
      ADD_FAILURE() << #statement << " did not throw";                                               \
    } catch (const Error& error) {                                                                   \
      EXPECT_EQ(error.kind(), expected_kind) << ErrorKindName(error.kind()) << ": " << error.what(); \
    }                                                                                                \
  } while (0)

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;
template <typename T>
constexpr bool kIsFloat = kIsHalf<T> || std::is_floating_point_v<T>;
template <typename T>
constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The CPU conversion the GPU must match (Note [Casts on the GPU] in kernels.cu).
template <typename To, typename From>
To CpuConvert(From value) {
  if constexpr (kIsHalf<From>) {
    return CpuConvert<To>(static_cast<float>(value));
  } else if constexpr (kIsHalf<To>) {
    return To(static_cast<float>(value));
  } else {
    return static_cast<To>(value);
  }
}

// Whether converting `value` to To is defined in C++ (a float value must fit an integer type).
template <typename To, typename From>
bool ConversionDefined(From value) {
  if constexpr (kIsFloat<From> && kIsInteger<To>) {
    const double number = static_cast<double>(static_cast<std::conditional_t<kIsHalf<From>, float, From>>(value));
    if (std::isnan(number)) return false;
    const double upper = std::ldexp(1.0, std::numeric_limits<To>::digits);
    const double lower = std::numeric_limits<To>::is_signed ? -upper : 0.0;
    return std::trunc(number) >= lower && std::trunc(number) < upper;
  } else {
    return true;
  }
}

// Whether a converted element is NaN (only floating types can be).
template <typename T>
bool IsNaN(T value) {
  if constexpr (kIsFloat<T>) {
    return std::isnan(static_cast<double>(static_cast<std::conditional_t<kIsHalf<T>, float, T>>(value)));
  } else {
    return false;
  }
}

// Test inputs for element type T: many edge cases (rounding ties, subnormals, overflow, NaN, wrap-around),
// built on the CPU with the CPU conversions.
template <typename T>
std::vector<T> Inputs() {
  std::vector<T> values;
  if constexpr (std::is_same_v<T, bool>) {
    values = {false, true, true, false};
  } else if constexpr (kIsFloat<T>) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double infinity = std::numeric_limits<double>::infinity();
    for (double value : {0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 3.0, 7.75, 100.0, 127.0, 128.0, 255.0, 256.0, 300.0,
                         -129.0, 1000.5, 2049.0, 65504.0, 65519.0, 65520.0, 1e5, -1e5, 3.0e38, 1e-3, 6e-8, 3e-8,
                         1e-40, 2147483648.0, 9007199254740993.0, 9.3e18, 1.00390625, 1.01171875, infinity,
                         -infinity, nan, -nan}) {
      values.push_back(CpuConvert<T>(value));
    }
  } else {
    for (int64_t value : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{2}, int64_t{3}, int64_t{100}, int64_t{127},
                          int64_t{128}, int64_t{255}, int64_t{256}, int64_t{300}, int64_t{-128}, int64_t{-129},
                          int64_t{2049}, int64_t{65504}, int64_t{65541}, int64_t{16777217}, int64_t{2147483647},
                          int64_t{-2147483647} - 1, int64_t{9007199254740993}, int64_t{-4611686018427387901}}) {
      values.push_back(static_cast<T>(value));  // Wraps modulo 2^bits for the narrow types.
    }
  }
  return values;
}

// Frees a DeviceMalloc block at scope exit.
class DeviceBuffer {
 public:
  DeviceBuffer(int device, size_t bytes) : device_(device), data_(DeviceMalloc(device, bytes)) {}
  ~DeviceBuffer() { DeviceFree(device_, data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* data() const { return data_; }

 private:
  int device_;
  void* data_;
};

TEST(CudaRuntimeTest, BuiltWithCudaAndDeviceCountNeverThrows) {
  EXPECT_TRUE(BuiltWithCuda());
  const int count = DeviceCount();
  EXPECT_GE(count, 0);
  EXPECT_EQ(DeviceCount(), count);
}

TEST(CudaRuntimeTest, MissingDeviceIsAValueError) {
  EXPECT_ERROR_KIND(CheckDevice(DeviceCount()), ErrorKind::kValueError);
  EXPECT_ERROR_KIND(CheckDevice(-1), ErrorKind::kValueError);
  EXPECT_ERROR_KIND(DeviceMalloc(DeviceCount(), 16), ErrorKind::kValueError);
  EXPECT_ERROR_KIND(SynchronizeStream(nullptr), ErrorKind::kValueError);
}

// Gives each GPU test gpu(0) and a stream on it, or skips.
class CudaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (DeviceCount() == 0) GTEST_SKIP() << "no GPU on this machine";
    SetDevice(0);
    stream_ = CreateStream(0);
  }
  void TearDown() override {
    if (stream_ != nullptr) DestroyStream(0, stream_);
  }

  // Copies `bytes` from the GPU to a new host vector and waits for it.
  std::vector<unsigned char> Download(const void* source, size_t bytes) {
    std::vector<unsigned char> host(bytes);
    MemcpyAsync(host.data(), source, bytes, CopyKind::kDeviceToHost, stream_);
    SynchronizeStream(stream_);
    return host;
  }

  Stream stream_ = nullptr;
};

TEST_F(CudaDeviceTest, CopiesRoundTrip) {
  constexpr size_t kBytes = (size_t{1} << 20) + 13;
  std::vector<unsigned char> pageable(kBytes);
  for (size_t i = 0; i < kBytes; ++i) pageable[i] = static_cast<unsigned char>(i * 7 + 3);
  DeviceBuffer first(0, kBytes);
  DeviceBuffer second(0, kBytes);
  MemcpyAsync(first.data(), pageable.data(), kBytes, CopyKind::kHostToDevice, stream_);
  MemcpyAsync(second.data(), first.data(), kBytes, CopyKind::kDeviceToDevice, stream_);
  EXPECT_EQ(Download(second.data(), kBytes), pageable);

  // The same through page-locked memory.
  auto* pinned = static_cast<unsigned char*>(PinnedMalloc(kBytes));
  ASSERT_NE(pinned, nullptr);
  for (size_t i = 0; i < kBytes; ++i) pinned[i] = static_cast<unsigned char>(i * 13 + 1);
  MemcpyAsync(first.data(), pinned, kBytes, CopyKind::kHostToDevice, stream_);
  SynchronizeStream(stream_);  // A copy from pinned memory is truly asynchronous: wait before reusing it.
  std::memset(pinned, 0, kBytes);
  MemcpyAsync(pinned, first.data(), kBytes, CopyKind::kDeviceToHost, stream_);
  SynchronizeStream(stream_);
  for (size_t i = 0; i < kBytes; ++i) {
    ASSERT_EQ(pinned[i], static_cast<unsigned char>(i * 13 + 1)) << "byte " << i;
  }
  PinnedFree(pinned);
  MemcpyAsync(first.data(), pageable.data(), 0, CopyKind::kHostToDevice, stream_);  // Zero bytes: no-op.
}

TEST_F(CudaDeviceTest, PeerCopyBetweenTwoGpus) {
  if (DeviceCount() < 2) GTEST_SKIP() << "needs two GPUs";
  constexpr size_t kBytes = 4096;
  std::vector<unsigned char> host(kBytes, 0x5a);
  DeviceBuffer on_first(0, kBytes);
  DeviceBuffer on_second(1, kBytes);
  MemcpyAsync(on_first.data(), host.data(), kBytes, CopyKind::kHostToDevice, stream_);
  MemcpyPeerAsync(on_second.data(), 1, on_first.data(), 0, kBytes, stream_);
  SynchronizeStream(stream_);
  SetDevice(1);
  Stream second_stream = CreateStream(1);
  std::vector<unsigned char> back(kBytes);
  MemcpyAsync(back.data(), on_second.data(), kBytes, CopyKind::kDeviceToHost, second_stream);
  SynchronizeStream(second_stream);
  DestroyStream(1, second_stream);
  SetDevice(0);
  EXPECT_EQ(back, host);
}

TEST_F(CudaDeviceTest, FillMatchesCpuConversionForEveryDType) {
  for (DType dtype : kAllDTypes) {
    for (double value : {0.0, 1.0, 3.0, 2.75, -1.5, 100.0}) {
      if (dtype == DType::kUint8 && value < 0) continue;  // Does not fit: see the next test.
      for (int64_t count : {int64_t{1}, int64_t{1000}, int64_t{1} << 20 | 3}) {
        const size_t element_size = DTypeSize(dtype);
        DeviceBuffer buffer(0, element_size * count);
        FillAsync(buffer.data(), dtype, count, value, stream_);
        const std::vector<unsigned char> bytes = Download(buffer.data(), element_size * count);
        DispatchDType(dtype, [&](auto tag) {
          using T = decltype(tag);
          T expected;
          if constexpr (std::is_same_v<T, bool>) {
            expected = value != 0;
          } else if constexpr (kIsInteger<T>) {
            expected = static_cast<T>(std::trunc(value));
          } else {
            expected = CpuConvert<T>(value);
          }
          for (int64_t i = 0; i < count; ++i) {
            ASSERT_EQ(std::memcmp(bytes.data() + i * sizeof(T), &expected, sizeof(T)), 0)
                << DTypeName(dtype) << " value " << value << " element " << i << " of " << count;
          }
        });
      }
    }
  }
}

TEST_F(CudaDeviceTest, FillRejectsValuesOutsideAnIntegerDType) {
  DeviceBuffer buffer(0, 64);
  EXPECT_ERROR_KIND(FillAsync(buffer.data(), DType::kInt8, 4, 300.0, stream_), ErrorKind::kValueError);
  EXPECT_ERROR_KIND(FillAsync(buffer.data(), DType::kUint8, 4, -1.0, stream_), ErrorKind::kValueError);
  EXPECT_ERROR_KIND(FillAsync(buffer.data(), DType::kInt32, 4, std::nan(""), stream_), ErrorKind::kValueError);
  EXPECT_ERROR_KIND(FillAsync(buffer.data(), DType::kFloat32, -1, 0.0, stream_), ErrorKind::kValueError);
  FillAsync(buffer.data(), DType::kInt8, 4, -128.0, stream_);  // The edges fit.
  FillAsync(buffer.data(), DType::kUint8, 4, 255.0, stream_);
  SynchronizeStream(stream_);
}

// Casts Inputs<From>() to To on the GPU and compares with CpuConvert element by element.
template <typename From, typename To>
void ExpectCastMatchesCpu(DType from_dtype, DType to_dtype, Stream stream) {
  // Repeat the inputs so that the kernel runs many blocks, tail included. (Arrays, not vectors:
  // std::vector<bool> has no data().)
  const std::vector<From> inputs = Inputs<From>();
  const size_t count = 70001;
  std::unique_ptr<From[]> source(new From[count]);
  for (size_t i = 0; i < count; ++i) source[i] = inputs[i % inputs.size()];
  DeviceBuffer device_source(0, sizeof(From) * count);
  DeviceBuffer device_destination(0, sizeof(To) * count);
  MemcpyAsync(device_source.data(), source.get(), sizeof(From) * count, CopyKind::kHostToDevice, stream);
  CastAsync(device_source.data(), from_dtype, device_destination.data(), to_dtype, static_cast<int64_t>(count),
            stream);
  std::unique_ptr<To[]> result(new To[count]);
  MemcpyAsync(result.get(), device_destination.data(), sizeof(To) * count, CopyKind::kDeviceToHost, stream);
  SynchronizeStream(stream);
  for (size_t i = 0; i < count; ++i) {
    if (!ConversionDefined<To>(source[i])) continue;
    const To expected = CpuConvert<To>(source[i]);
    if (IsNaN(expected)) {
      EXPECT_TRUE(IsNaN(result[i])) << DTypeName(from_dtype) << " -> " << DTypeName(to_dtype) << " input " << i;
    } else {
      ASSERT_EQ(std::memcmp(&expected, &result[i], sizeof(To)), 0)
          << DTypeName(from_dtype) << " -> " << DTypeName(to_dtype) << " input " << i << " ("
          << static_cast<double>(CpuConvert<double>(source[i])) << ")";
    }
  }
}

TEST_F(CudaDeviceTest, CastMatchesCpuConversionForEveryPair) {
  for (DType from : kAllDTypes) {
    for (DType to : kAllDTypes) {
      DispatchDType(from, [&](auto from_tag) {
        DispatchDType(to, [&](auto to_tag) {
          ExpectCastMatchesCpu<decltype(from_tag), decltype(to_tag)>(from, to, stream_);
        });
      });
    }
  }
}

TEST_F(CudaDeviceTest, OutOfMemoryOnAnAbsurdAllocation) {
  EXPECT_ERROR_KIND(DeviceMalloc(0, size_t{1} << 50), ErrorKind::kOutOfMemory);  // 1 PiB.
  // The failure is not sticky: the device still works.
  DeviceBuffer buffer(0, 1024);
  FillAsync(buffer.data(), DType::kFloat32, 256, 1.0, stream_);
  SynchronizeStream(stream_);
}

}  // namespace
}  // namespace gpu
}  // namespace pmx
