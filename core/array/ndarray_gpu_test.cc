// NDArray on GPUs: copies, casts, fills, views, pinned memory, .params and DLPack. Every test skips on a
// machine (or a build) without GPUs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/array/dlpack.h"
#include "core/array/ndarray.h"
#include "core/array/ndarray_io.h"
#include "core/backend/gpu_runtime.h"
#include "core/engine/engine.h"
#include "core/storage/storage.h"

namespace pmx {
namespace {

constexpr DType kAllDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBfloat16, DType::kUint8,
                                DType::kInt8,    DType::kInt32,   DType::kInt64,   DType::kBool};

class NDArrayGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (gpu::DeviceCount() == 0) GTEST_SKIP() << "no GPU (built with CUDA: " << gpu::BuiltWithCuda() << ")";
  }
};

// The raw bytes of `array`, read back through a synchronising copy.
std::vector<uint8_t> Bytes(const NDArray& array) {
  std::vector<uint8_t> bytes(array.nbytes());
  array.CopyToHost(bytes.data(), bytes.size());
  return bytes;
}

template <typename T>
std::vector<T> Values(const NDArray& array) {
  std::vector<T> values(array.size());
  array.CopyToHost(values.data(), values.size() * sizeof(T));
  return values;
}

NDArray HostIota(const Shape& shape, DType dtype, double scale = 1.0) {
  std::vector<double> values(shape.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i) * scale;
  return NDArray::FromHostBuffer(values.data(), values.size() * 8, shape, DType::kFloat64).AsType(dtype);
}

TEST_F(NDArrayGpuTest, HostGpuHostRoundTripsEveryDtype) {
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(DTypeName(dtype));
    NDArray host = HostIota(Shape{17, 33}, dtype);
    NDArray device = host.CopyTo(Device::gpu(0));
    EXPECT_EQ(device.device(), Device::gpu(0));
    EXPECT_EQ(Bytes(device), Bytes(host));  // CopyToHost from the GPU.
    EXPECT_EQ(Bytes(device.CopyTo(Device::cpu())), Bytes(host));
  }
}

TEST_F(NDArrayGpuTest, FillsOnTheGpu) {
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(DTypeName(dtype));
    EXPECT_EQ(Bytes(NDArray::Zeros(Shape{1000}, dtype, Device::gpu(0))),
              Bytes(NDArray::Zeros(Shape{1000}, dtype, Device::cpu())));
    EXPECT_EQ(Bytes(NDArray::Ones(Shape{3, 7}, dtype, Device::gpu(0))),
              Bytes(NDArray::Ones(Shape{3, 7}, dtype, Device::cpu())));
    EXPECT_EQ(Bytes(NDArray::Full(Shape{5}, 2.75, dtype, Device::gpu(0))),
              Bytes(NDArray::Full(Shape{5}, 2.75, dtype, Device::cpu())));
  }
}

TEST_F(NDArrayGpuTest, CastsMatchTheCpu) {
  for (DType from : kAllDTypes) {
    NDArray host = HostIota(Shape{4, 64}, from, 0.75);
    NDArray device = host.CopyTo(Device::gpu(0));
    for (DType to : kAllDTypes) {
      SCOPED_TRACE(std::string(DTypeName(from)) + " -> " + DTypeName(to));
      NDArray converted = device.AsType(to);
      EXPECT_EQ(converted.device(), Device::gpu(0));
      EXPECT_EQ(Bytes(converted), Bytes(host.AsType(to)));
    }
  }
}

TEST_F(NDArrayGpuTest, CastEdgeCasesMatchTheCpu) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {2.7f, -2.7f, 300.f, -300.f, nan, 1e20f, -1e20f, 0.f, 65520.f, 1e-8f};
  NDArray host = NDArray::FromHostBuffer(values.data(), values.size() * 4, Shape{10}, DType::kFloat32);
  NDArray device = host.CopyTo(Device::gpu(0));
  for (DType to : kAllDTypes) {
    SCOPED_TRACE(DTypeName(to));
    EXPECT_EQ(Bytes(device.AsType(to)), Bytes(host.AsType(to)));
  }
}

TEST_F(NDArrayGpuTest, CopyToWithConversionAcrossDevices) {
  NDArray host = HostIota(Shape{8, 8}, DType::kFloat32);
  NDArray device_int = NDArray::Zeros(Shape{8, 8}, DType::kInt32, Device::gpu(0));
  host.CopyTo(device_int);  // Converted on the host, then moved.
  NDArray back_double = NDArray::Zeros(Shape{8, 8}, DType::kFloat64, Device::cpu());
  device_int.CopyTo(back_double);  // Converted on the GPU, then moved.
  std::vector<double> values = Values<double>(back_double);
  for (int i = 0; i < 64; ++i) ASSERT_EQ(values[i], i);
}

TEST_F(NDArrayGpuTest, ViewsOnTheGpu) {
  NDArray device = HostIota(Shape{6, 4}, DType::kFloat32).CopyTo(Device::gpu(0));
  NDArray rows = device.Slice(2, 5);
  EXPECT_EQ(Values<float>(rows.At(0)), (std::vector<float>{8, 9, 10, 11}));
  rows.At(1).Fill(-1);
  std::vector<float> all = Values<float>(device);
  for (int i = 12; i < 16; ++i) EXPECT_EQ(all[i], -1);
  EXPECT_EQ(all[16], 16);
  // Overlapping GPU copy goes through a temporary.
  device.Slice(0, 5).CopyTo(device.Slice(1, 6));
  all = Values<float>(device);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(all[4 + i], i);
  EXPECT_EQ(all[20], 16);
  // Device-to-device copies into a view.
  NDArray other = NDArray::Full(Shape{4}, 42, DType::kFloat32, Device::gpu(0));
  other.CopyTo(device.At(0));
  EXPECT_EQ(Values<float>(device.At(0)), std::vector<float>(4, 42));
}

TEST_F(NDArrayGpuTest, PinnedMemory) {
  NDArray pinned = HostIota(Shape{256}, DType::kInt64).CopyTo(Device::cpu_pinned());
  EXPECT_EQ(pinned.device(), Device::cpu_pinned());
  NDArray device = pinned.CopyTo(Device::gpu(0));
  NDArray back = NDArray::Zeros(Shape{256}, DType::kInt64, Device::cpu_pinned());
  device.CopyTo(back);
  std::vector<int64_t> values = Values<int64_t>(back);
  for (int i = 0; i < 256; ++i) ASSERT_EQ(values[i], i);
}

TEST_F(NDArrayGpuTest, ManyAsynchronousCopiesThenOneWait) {
  NDArray target = NDArray::Zeros(Shape{64, 1024}, DType::kFloat32, Device::gpu(0));
  for (int row = 0; row < 64; ++row) {
    NDArray::Full(Shape{1024}, row, DType::kFloat16, Device::cpu())
        .CopyTo(Device::gpu(0))
        .AsType(DType::kFloat32)
        .CopyTo(target.At(row));
  }
  NDArray host = target.CopyTo(Device::cpu());
  host.WaitToRead();
  std::vector<float> values = Values<float>(host);
  for (int row = 0; row < 64; ++row) ASSERT_EQ(values[row * 1024 + 1023], row);
}

TEST_F(NDArrayGpuTest, DroppingGpuArraysWithPendingWorkIsSafe) {
  Engine::Get()->WaitForAll();
  const int64_t before = Storage::Get()->Stats(Device::gpu(0)).bytes_in_use;
  std::vector<NDArray> kept;
  for (int i = 0; i < 20; ++i) {
    NDArray temporary = NDArray::Full(Shape{1 << 16}, i, DType::kFloat32, Device::gpu(0));
    kept.push_back(temporary.AsType(DType::kInt32).Slice(0, 4).CopyTo(Device::cpu()));
  }
  Engine::Get()->WaitForAll();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Values<int32_t>(kept[i]), std::vector<int32_t>(4, i));
  EXPECT_EQ(Storage::Get()->Stats(Device::gpu(0)).bytes_in_use, before);
}

TEST_F(NDArrayGpuTest, MultiGpuCopies) {
  if (gpu::DeviceCount() < 2) GTEST_SKIP() << "needs two GPUs";
  NDArray first = HostIota(Shape{100}, DType::kFloat64).CopyTo(Device::gpu(0));
  NDArray second = first.CopyTo(Device::gpu(1));
  EXPECT_EQ(second.device(), Device::gpu(1));
  EXPECT_EQ(Bytes(second), Bytes(first));
}

TEST_F(NDArrayGpuTest, SavingGpuArraysLoadsThemOnTheCpu) {
  NDArray device = HostIota(Shape{3, 5}, DType::kBfloat16).CopyTo(Device::gpu(0));
  params::ArrayList loaded = params::LoadFromBytes(params::SaveToBytes({device}, {"w"}));
  ASSERT_EQ(loaded.arrays.size(), 1u);
  EXPECT_EQ(loaded.arrays[0].device(), Device::cpu());
  EXPECT_EQ(Bytes(loaded.arrays[0]), Bytes(device));
}

TEST_F(NDArrayGpuTest, DLPackOnTheGpu) {
  NDArray device = HostIota(Shape{2, 3}, DType::kFloat32).CopyTo(Device::gpu(0));
  DLManagedTensor* managed = ToDLPack(device);
  EXPECT_EQ(managed->dl_tensor.device.device_type, kDLCUDA);
  EXPECT_EQ(managed->dl_tensor.device.device_id, 0);
  NDArray back = FromDLPack(managed);
  EXPECT_EQ(back.device(), Device::gpu(0));
  EXPECT_EQ(back.data(), device.data());
  EXPECT_EQ(Values<float>(back), (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace pmx
