#include "core/array/dlpack.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/backend/gpu_runtime.h"
#include "core/base/error.h"
#include "core/engine/engine.h"
#include "core/storage/storage.h"

namespace pmx {
namespace {

template <typename Fn>
Error Catch(Fn&& fn) {
  try {
    fn();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected an Error";
  return Error(ErrorKind::kRuntimeError, "no error");
}

bool Contains(const Error& error, const std::string& needle) {
  return error.message().find(needle) != std::string::npos;
}

// A producer's tensor over a std::vector, counting deleter calls.
struct Producer {
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  std::vector<uint8_t> memory;
  DLManagedTensor managed{};
  std::atomic<int> deletes{0};

  Producer(std::vector<int64_t> dims, DLDataType dtype, size_t bytes) : shape(std::move(dims)), memory(bytes) {
    for (size_t i = 0; i < memory.size(); ++i) memory[i] = static_cast<uint8_t>(i);
    managed.dl_tensor.data = memory.data();
    managed.dl_tensor.device = DLDevice{kDLCPU, 0};
    managed.dl_tensor.ndim = static_cast<int>(shape.size());
    managed.dl_tensor.dtype = dtype;
    managed.dl_tensor.shape = shape.data();
    managed.dl_tensor.strides = nullptr;
    managed.dl_tensor.byte_offset = 0;
    managed.manager_ctx = this;
    managed.deleter = [](DLManagedTensor* self) { static_cast<Producer*>(self->manager_ctx)->deletes++; };
  }
  void SetStrides(std::vector<int64_t> values) {
    strides = std::move(values);
    managed.dl_tensor.strides = strides.data();
  }
};

TEST(DLPackTest, ExportDescribesTheArray) {
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  NDArray array = NDArray::FromHostBuffer(values.data(), 24, Shape{2, 3}, DType::kFloat32);
  DLManagedTensor* managed = ToDLPack(array);
  const DLTensor& tensor = managed->dl_tensor;
  EXPECT_EQ(tensor.data, array.data());
  EXPECT_EQ(tensor.device.device_type, kDLCPU);
  EXPECT_EQ(tensor.device.device_id, 0);
  EXPECT_EQ(tensor.ndim, 2);
  EXPECT_EQ(tensor.dtype.code, kDLFloat);
  EXPECT_EQ(tensor.dtype.bits, 32);
  EXPECT_EQ(tensor.dtype.lanes, 1);
  EXPECT_EQ(std::vector<int64_t>(tensor.shape, tensor.shape + 2), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::vector<int64_t>(tensor.strides, tensor.strides + 2), (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(tensor.byte_offset, 0u);
  EXPECT_EQ(static_cast<float*>(tensor.data)[4], 5.0f);
  managed->deleter(managed);
}

TEST(DLPackTest, ExportMapsEveryDtype) {
  struct Case {
    DType dtype;
    uint8_t code;
    uint8_t bits;
  };
  const Case cases[] = {{DType::kFloat16, kDLFloat, 16}, {DType::kFloat32, kDLFloat, 32},
                        {DType::kFloat64, kDLFloat, 64}, {DType::kBfloat16, kDLBfloat, 16},
                        {DType::kInt8, kDLInt, 8},       {DType::kInt32, kDLInt, 32},
                        {DType::kInt64, kDLInt, 64},     {DType::kUint8, kDLUInt, 8},
                        {DType::kBool, 6, 8}};
  for (const Case& test : cases) {
    DLManagedTensor* managed = ToDLPack(NDArray::Zeros(Shape{2}, test.dtype));
    EXPECT_EQ(managed->dl_tensor.dtype.code, test.code) << DTypeName(test.dtype);
    EXPECT_EQ(managed->dl_tensor.dtype.bits, test.bits) << DTypeName(test.dtype);
    // Import maps it back.
    NDArray back = FromDLPack(managed);
    EXPECT_EQ(back.dtype(), test.dtype);
  }
  Engine::Get()->WaitForAll();
}

TEST(DLPackTest, ExportWaitsForPendingWritesAndKeepsMemoryAlive) {
  Engine::Get()->WaitForAll();
  const int64_t before = Storage::Get()->Stats(Device::cpu()).bytes_in_use;
  DLManagedTensor* managed;
  {
    NDArray array = NDArray::Zeros(Shape{4096}, DType::kInt32);
    for (int i = 1; i <= 10; ++i) array.Fill(i);
    managed = ToDLPack(array.Slice(1000, 2000));
    EXPECT_EQ(managed->dl_tensor.data, static_cast<char*>(array.data()) + 4000);
  }
  // Every handle is gone, but the tensor still owns the chunk, and the fills have landed.
  Engine::Get()->WaitForAll();
  const int32_t* data = static_cast<const int32_t*>(managed->dl_tensor.data);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(data[i], 10);
  EXPECT_GT(Storage::Get()->Stats(Device::cpu()).bytes_in_use, before);
  managed->deleter(managed);
  Engine::Get()->WaitForAll();
  EXPECT_EQ(Storage::Get()->Stats(Device::cpu()).bytes_in_use, before);
}

TEST(DLPackTest, ExportOfNoneIsValueError) {
  Error error = Catch([] { ToDLPack(NDArray()); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[to_dlpack]")) << error.message();
}

TEST(DLPackTest, ImportIsZeroCopyAndCallsTheDeleterOnceAfterPendingWork) {
  Producer producer({2, 3}, DLDataType{kDLInt, 32, 1}, 24);
  NDArray copy;
  {
    NDArray array = FromDLPack(&producer.managed);
    EXPECT_EQ(array.data(), producer.memory.data());
    EXPECT_EQ(array.shape(), (Shape{2, 3}));
    EXPECT_EQ(array.dtype(), DType::kInt32);
    EXPECT_EQ(array.device(), Device::cpu());
    NDArray row = array.At(1);
    row.Fill(-7);  // Writes the producer's memory.
    copy = array.CopyTo(Device::cpu());
    EXPECT_EQ(producer.deletes, 0);
  }
  Engine::Get()->WaitForAll();
  EXPECT_EQ(producer.deletes, 1);
  const int32_t* written = reinterpret_cast<const int32_t*>(producer.memory.data());
  for (int i = 3; i < 6; ++i) EXPECT_EQ(written[i], -7);
  std::vector<int32_t> values(6);
  copy.CopyToHost(values.data(), 24);
  EXPECT_EQ(values[0], 0x03020100);
  EXPECT_EQ(values[5], -7);
}

TEST(DLPackTest, ImportHonoursByteOffsetAndCompactStrides) {
  Producer producer({2, 1, 2}, DLDataType{kDLUInt, 8, 1}, 8);
  producer.managed.dl_tensor.byte_offset = 4;
  producer.SetStrides({2, 999, 1});  // The stride of a size-1 dimension does not matter.
  {
    NDArray array = FromDLPack(&producer.managed);
    EXPECT_EQ(array.data(), producer.memory.data() + 4);
    std::vector<uint8_t> values(4);
    array.CopyToHost(values.data(), 4);
    EXPECT_EQ(values, (std::vector<uint8_t>{4, 5, 6, 7}));
  }
  Engine::Get()->WaitForAll();  // The deleter runs on a worker; the producer must outlive it.
  EXPECT_EQ(producer.deletes, 1);
}

TEST(DLPackTest, ImportRejectsNonCompactStridesWithoutTakingOwnership) {
  Producer producer({2, 3}, DLDataType{kDLFloat, 32, 1}, 24);
  producer.SetStrides({1, 2});  // Column-major.
  Error error = Catch([&] { FromDLPack(&producer.managed); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[from_dlpack] stride of dimension 0 is 1 elements: expected 3")) << error.message();
  Engine::Get()->WaitForAll();
  EXPECT_EQ(producer.deletes, 0);

  producer.SetStrides({3, 1});
  FromDLPack(&producer.managed);  // Compact explicit strides are fine (and the array dies at once).
  Engine::Get()->WaitForAll();
  EXPECT_EQ(producer.deletes, 1);
}

TEST(DLPackTest, ImportDtypeMapping) {
  struct Case {
    DLDataType type;
    DType expected;
  };
  const Case cases[] = {{{kDLFloat, 16, 1}, DType::kFloat16}, {{kDLBfloat, 16, 1}, DType::kBfloat16},
                        {{kDLFloat, 64, 1}, DType::kFloat64}, {{kDLInt, 8, 1}, DType::kInt8},
                        {{kDLInt, 64, 1}, DType::kInt64},     {{kDLUInt, 8, 1}, DType::kUint8},
                        {{6, 8, 1}, DType::kBool},            {{kDLUInt, 1, 1}, DType::kBool}};
  for (const Case& test : cases) {
    Producer producer({4}, test.type, 32);
    EXPECT_EQ(FromDLPack(&producer.managed).dtype(), test.expected);
    Engine::Get()->WaitForAll();
  }
  for (DLDataType bad : {DLDataType{kDLComplex, 64, 1}, DLDataType{kDLFloat, 32, 4}, DLDataType{kDLUInt, 16, 1},
                         DLDataType{kDLInt, 16, 1}}) {
    Producer producer({4}, bad, 32);
    Error error = Catch([&] { FromDLPack(&producer.managed); });
    EXPECT_EQ(error.kind(), ErrorKind::kTypeError) << error.message();
    EXPECT_EQ(producer.deletes, 0);
  }
}

TEST(DLPackTest, ImportRejectsBadTensors) {
  EXPECT_EQ(Catch([] { FromDLPack(nullptr); }).kind(), ErrorKind::kValueError);
  {
    Producer producer({2, -1}, DLDataType{kDLFloat, 32, 1}, 8);
    Error error = Catch([&] { FromDLPack(&producer.managed); });
    EXPECT_TRUE(Contains(error, "dimension 1 is -1")) << error.message();
  }
  {
    Producer producer({1}, DLDataType{kDLFloat, 32, 1}, 8);
    producer.managed.dl_tensor.byte_offset = 2;
    Error error = Catch([&] { FromDLPack(&producer.managed); });
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_TRUE(Contains(error, "not aligned")) << error.message();
  }
  {
    Producer producer({1}, DLDataType{kDLFloat, 32, 1}, 4);
    producer.managed.dl_tensor.device = DLDevice{kDLOpenCL, 0};
    EXPECT_EQ(Catch([&] { FromDLPack(&producer.managed); }).kind(), ErrorKind::kNotImplementedError);
  }
  if (gpu::DeviceCount() == 0) {
    Producer producer({1}, DLDataType{kDLFloat, 32, 1}, 4);
    producer.managed.dl_tensor.device = DLDevice{kDLCUDA, 0};
    const ErrorKind kind = Catch([&] { FromDLPack(&producer.managed); }).kind();
    EXPECT_TRUE(kind == ErrorKind::kNotImplementedError || kind == ErrorKind::kValueError);
    EXPECT_EQ(producer.deletes, 0);
  }
}

TEST(DLPackTest, RoundTripSharesMemoryAndZeroSizeAndScalars) {
  NDArray array = NDArray::Full(Shape{3}, 1.5, DType::kFloat64);
  NDArray back = FromDLPack(ToDLPack(array));
  EXPECT_EQ(back.data(), array.data());
  back.Fill(4);
  std::vector<double> values(3);
  array.CopyToHost(values.data(), 24);
  EXPECT_EQ(values, std::vector<double>(3, 4.0));

  NDArray scalar = FromDLPack(ToDLPack(NDArray::Full(Shape(), 3, DType::kInt64)));
  EXPECT_EQ(scalar.shape(), Shape());
  int64_t value = 0;
  scalar.CopyToHost(&value, 8);
  EXPECT_EQ(value, 3);

  NDArray empty = FromDLPack(ToDLPack(NDArray::Zeros(Shape{0, 5})));
  EXPECT_EQ(empty.shape(), (Shape{0, 5}));
  EXPECT_EQ(empty.size(), 0);
}

}  // namespace
}  // namespace pmx
