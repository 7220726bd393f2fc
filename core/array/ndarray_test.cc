#include "core/array/ndarray.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/backend/gpu_runtime.h"
#include "core/base/error.h"
#include "core/base/half.h"
#include "core/engine/engine.h"
#include "core/storage/storage.h"

namespace pmx {
namespace {

constexpr DType kAllDTypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBfloat16, DType::kUint8,
                                DType::kInt8,    DType::kInt32,   DType::kInt64,   DType::kBool};

// The elements of `array` as T (whose size must be the element size), after a synchronising copy.
template <typename T>
std::vector<T> Values(const NDArray& array) {
  std::vector<T> values(array.size());
  array.CopyToHost(values.data(), values.size() * sizeof(T));
  return values;
}

// The elements of `array`, of any dtype, converted to double on the host.
std::vector<double> AsDoubles(const NDArray& array) {
  std::vector<double> result;
  DispatchDType(array.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using Stored = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;
    for (Stored value : Values<Stored>(array)) result.push_back(static_cast<double>(static_cast<float>(value)));
  });
  return result;
}

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

NDArray Iota(const Shape& shape, DType dtype = DType::kFloat32) {
  std::vector<float> values(shape.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  return NDArray::FromHostBuffer(values.data(), values.size() * 4, shape, DType::kFloat32).AsType(dtype);
}

TEST(NDArrayTest, EmptyHasShapeDtypeDeviceAndAlignedMemory) {
  NDArray array = NDArray::Empty(Shape{2, 3, 4}, DType::kInt64);
  EXPECT_FALSE(array.is_none());
  EXPECT_EQ(array.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(array.ndim(), 3);
  EXPECT_EQ(array.dtype(), DType::kInt64);
  EXPECT_EQ(array.device(), Device::cpu());
  EXPECT_EQ(array.size(), 24);
  EXPECT_EQ(array.nbytes(), 192u);
  EXPECT_EQ(array.byte_offset(), 0u);
  EXPECT_NE(array.var(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(array.data()) % 64, 0u);
  EXPECT_EQ(array.data<int64_t>(), array.data());
  EXPECT_EQ(Catch([&] { array.data<float>(); }).kind(), ErrorKind::kTypeError);
}

TEST(NDArrayTest, DefaultDeviceIsUsed) {
  NDArray array = NDArray::Empty(Shape{1});
  EXPECT_EQ(array.device(), DefaultDevice());
  EXPECT_EQ(array.dtype(), DType::kFloat32);
}

TEST(NDArrayTest, ZerosOnesFullForEveryDtype) {
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(DTypeName(dtype));
    for (double value : AsDoubles(NDArray::Zeros(Shape{3, 5}, dtype))) EXPECT_EQ(value, 0.0);
    for (double value : AsDoubles(NDArray::Ones(Shape{7}, dtype))) EXPECT_EQ(value, 1.0);
    const double expected = dtype == DType::kBool ? 1.0 : 3.0;
    std::vector<double> full = AsDoubles(NDArray::Full(Shape{2, 2}, 3.0, dtype));
    ASSERT_EQ(full.size(), 4u);
    for (double value : full) EXPECT_EQ(value, expected);
  }
  EXPECT_EQ(Values<float>(NDArray::Full(Shape(), 2.5)), std::vector<float>{2.5f});
}

TEST(NDArrayTest, FillValuesMustFitIntegerDtypes) {
  EXPECT_EQ(Values<int32_t>(NDArray::Full(Shape{2}, -2.9, DType::kInt32)), (std::vector<int32_t>{-2, -2}));
  EXPECT_EQ(Values<uint8_t>(NDArray::Full(Shape{1}, 255.5, DType::kUint8)), std::vector<uint8_t>{255});
  EXPECT_EQ(Values<uint8_t>(NDArray::Full(Shape{1}, -0.5, DType::kUint8)), std::vector<uint8_t>{0});
  EXPECT_EQ(Values<uint8_t>(NDArray::Full(Shape{1}, -3, DType::kBool)), std::vector<uint8_t>{1});
  EXPECT_TRUE(std::isinf(static_cast<float>(Values<Float16>(NDArray::Full(Shape{1}, 1e10, DType::kFloat16))[0])));
  Error error = Catch([] { NDArray::Full(Shape{2}, 300, DType::kInt8); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[fill] value 300 does not fit dtype int8: expected a value in [-128, 127]"))
      << error.message();
  EXPECT_EQ(Catch([] { NDArray::Full(Shape{2}, -1, DType::kUint8); }).kind(), ErrorKind::kValueError);
  EXPECT_EQ(Catch([] { NDArray::Full(Shape{2}, std::nan(""), DType::kInt64); }).kind(), ErrorKind::kValueError);
  EXPECT_EQ(Catch([] { NDArray::Full(Shape{2}, 9.3e18, DType::kInt64); }).kind(), ErrorKind::kValueError);
}

TEST(NDArrayTest, FromHostBufferCopiesAndChecksSize) {
  std::vector<int32_t> source = {1, -2, 3, -4, 5, -6};
  NDArray array = NDArray::FromHostBuffer(source.data(), 24, Shape{2, 3}, DType::kInt32);
  source[0] = 100;  // The array owns a copy.
  EXPECT_EQ(Values<int32_t>(array), (std::vector<int32_t>{1, -2, 3, -4, 5, -6}));
  EXPECT_EQ(Values<int32_t>(NDArray::FromHostBuffer(source.data(), Shape{6}, DType::kInt32))[0], 100);

  Error error = Catch([&] { NDArray::FromHostBuffer(source.data(), 20, Shape{2, 3}, DType::kInt32); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "buffer has 20 bytes: expected 24 for shape (2, 3) of int32")) << error.message();

  std::vector<int32_t> small(5);
  error = Catch([&] { array.CopyToHost(small.data(), small.size() * 4); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[copy_to_host] buffer has 20 bytes: expected 24")) << error.message();
  error = Catch([&] { array.CopyFromHost(small.data(), small.size() * 4); });
  EXPECT_TRUE(Contains(error, "[copy_from_host] buffer has 20 bytes: expected 24")) << error.message();
}

TEST(NDArrayTest, CopyFromHostOverwrites) {
  NDArray array = NDArray::Zeros(Shape{4}, DType::kFloat64);
  const std::vector<double> values = {0.5, 1.5, -2.5, 1e300};
  array.CopyFromHost(values.data(), 32);
  EXPECT_EQ(Values<double>(array), values);
}

TEST(NDArrayTest, ZeroSizeArrays) {
  NDArray array = NDArray::Zeros(Shape{3, 0}, DType::kFloat32);
  EXPECT_EQ(array.size(), 0);
  EXPECT_EQ(array.nbytes(), 0u);
  EXPECT_TRUE(Values<float>(array).empty());
  EXPECT_EQ(array.CopyTo(Device::cpu()).shape(), (Shape{3, 0}));
  EXPECT_EQ(array.AsType(DType::kInt8).dtype(), DType::kInt8);
  EXPECT_EQ(array.Slice(1, 3).shape(), (Shape{2, 0}));
  EXPECT_EQ(NDArray::FromHostBuffer(nullptr, 0, Shape{0}, DType::kInt64).size(), 0);
}

TEST(NDArrayTest, TooLargeShapeIsValueError) {
  const int64_t huge = int64_t{1} << 40;
  Error error = Catch([&] { NDArray::Empty(Shape{huge, huge}, DType::kFloat32); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[empty] shape")) << error.message();
  EXPECT_TRUE(Contains(error, "overflows 64 bits")) << error.message();
}

TEST(NDArrayTest, NoneArray) {
  NDArray none;
  EXPECT_TRUE(none.is_none());
  EXPECT_EQ(none.var(), nullptr);
  EXPECT_EQ(none.data(), nullptr);
  EXPECT_EQ(none.device(), Device::cpu());
  none.WaitToRead();  // Nothing to wait for.
  Error error = Catch([&] { none.CopyTo(Device::cpu()); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[copy_to] the array is none")) << error.message();
  EXPECT_EQ(Catch([&] { none.Reshape(Shape()); }).kind(), ErrorKind::kValueError);
  EXPECT_EQ(Catch([&] { NDArray::Zeros(Shape{1}).CopyTo(none); }).kind(), ErrorKind::kValueError);
}

TEST(NDArrayTest, BadDevicesAreValueErrors) {
  Error error = Catch([] { NDArray::Empty(Shape{2}, DType::kFloat32, Device{static_cast<DeviceType>(9), 0}); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[empty] device type 9: expected 1 (cpu), 2 (gpu) or 3 (cpu_pinned)"))
      << error.message();
  error = Catch([] { NDArray::Zeros(Shape{2}, DType::kFloat32, Device::gpu(-1)); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "expected a non-negative device id")) << error.message();
}

TEST(NDArrayTest, GpuWithoutCudaIsAClearError) {
  if (gpu::DeviceCount() > 0) GTEST_SKIP() << "this machine has a GPU";
  Error error = Catch([] { NDArray::Zeros(Shape{2}, DType::kFloat32, Device::gpu(0)); });
  EXPECT_TRUE(error.kind() == ErrorKind::kNotImplementedError || error.kind() == ErrorKind::kValueError)
      << error.message();
}

// ---- Views ----

TEST(NDArrayTest, ReshapeSharesMemory) {
  NDArray base = Iota(Shape{2, 6});
  NDArray view = base.Reshape(Shape{3, 4});
  EXPECT_TRUE(view.SharesChunkWith(base));
  EXPECT_EQ(view.var(), base.var());
  EXPECT_EQ(view.data(), base.data());
  view.Fill(7);
  for (float value : Values<float>(base)) EXPECT_EQ(value, 7.0f);

  EXPECT_EQ(base.ReshapeInfer({-1, 3}).shape(), (Shape{4, 3}));
  EXPECT_EQ(base.ReshapeInfer({12}).shape(), (Shape{12}));
  EXPECT_EQ(base.Reshape(Shape{2, 2, 3}).Reshape(Shape{12}).data(), base.data());

  Error error = Catch([&] { base.Reshape(Shape{5, 2}); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "shape (2, 6) (12 elements) into shape (5, 2) (10 elements)")) << error.message();
  EXPECT_TRUE(Contains(Catch([&] { base.ReshapeInfer({-1, -1}); }), "both -1"));
  EXPECT_TRUE(Contains(Catch([&] { base.ReshapeInfer({-1, 5}); }), "cannot infer dim 0"));
  EXPECT_TRUE(Contains(Catch([&] { base.ReshapeInfer({-2, 6}); }), "dim 0 is -2"));
}

TEST(NDArrayTest, SliceAndAtAreViews) {
  NDArray base = Iota(Shape{4, 3});
  NDArray rows = base.Slice(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 3}));
  EXPECT_EQ(rows.byte_offset(), 12u);
  EXPECT_EQ(static_cast<char*>(rows.data()), static_cast<char*>(base.data()) + 12);
  EXPECT_EQ(rows.var(), base.var());
  EXPECT_EQ(Values<float>(rows), (std::vector<float>{3, 4, 5, 6, 7, 8}));

  NDArray row = base.At(3);
  EXPECT_EQ(row.shape(), (Shape{3}));
  EXPECT_EQ(Values<float>(row), (std::vector<float>{9, 10, 11}));
  NDArray element = row.At(1);
  EXPECT_EQ(element.shape(), Shape());
  EXPECT_EQ(Values<float>(element), std::vector<float>{10});
  EXPECT_EQ(element.byte_offset(), 40u);

  // A write through a view is visible in the base, and views of views compose.
  rows.At(1).Fill(-1);
  EXPECT_EQ(Values<float>(base), (std::vector<float>{0, 1, 2, 3, 4, 5, -1, -1, -1, 9, 10, 11}));
  EXPECT_EQ(Values<float>(base.Slice(1, 4).Slice(1, 2)), (std::vector<float>{-1, -1, -1}));
  EXPECT_EQ(base.Slice(2, 2).size(), 0);
}

TEST(NDArrayTest, BadSlicesAreIndexErrors) {
  NDArray base = NDArray::Zeros(Shape{4, 3});
  for (auto [begin, end] : {std::pair<int64_t, int64_t>{-1, 2}, {0, 5}, {3, 2}, {5, 6},
                            {0, std::numeric_limits<int64_t>::max()}}) {
    Error error = Catch([&, begin = begin, end = end] { base.Slice(begin, end); });
    EXPECT_EQ(error.kind(), ErrorKind::kIndexError);
    EXPECT_TRUE(Contains(error, "expected 0 <= begin <= end <= 4 (shape (4, 3))")) << error.message();
  }
  Error error = Catch([&] { base.At(4); });
  EXPECT_EQ(error.kind(), ErrorKind::kIndexError);
  EXPECT_TRUE(Contains(error, "[at] index 4 is out of range: expected 0 <= index < 4")) << error.message();
  EXPECT_EQ(Catch([&] { base.At(-1); }).kind(), ErrorKind::kIndexError);
  EXPECT_EQ(Catch([&] { NDArray::Zeros(Shape()).Slice(0, 1); }).kind(), ErrorKind::kIndexError);
  EXPECT_EQ(Catch([&] { NDArray::Zeros(Shape()).At(0); }).kind(), ErrorKind::kIndexError);
}

// ---- Copies and casts ----

TEST(NDArrayTest, CopyToMakesAnIndependentCopy) {
  NDArray source = Iota(Shape{2, 3});
  NDArray copy = source.CopyTo(Device::cpu());
  EXPECT_FALSE(copy.SharesChunkWith(source));
  source.Fill(0);
  EXPECT_EQ(Values<float>(copy), (std::vector<float>{0, 1, 2, 3, 4, 5}));

  NDArray destination = NDArray::Zeros(Shape{2, 3}, DType::kInt32);
  copy.CopyTo(destination);  // With a conversion.
  EXPECT_EQ(Values<int32_t>(destination), (std::vector<int32_t>{0, 1, 2, 3, 4, 5}));

  Error error = Catch([&] { copy.CopyTo(NDArray::Zeros(Shape{3, 2})); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error, "[copy_to] destination has shape (3, 2): expected the source's shape (2, 3)"))
      << error.message();
}

TEST(NDArrayTest, CopyBetweenOverlappingViews) {
  NDArray base = Iota(Shape{5});
  base.Slice(0, 4).CopyTo(base.Slice(1, 5));
  EXPECT_EQ(Values<float>(base), (std::vector<float>{0, 0, 1, 2, 3}));
  NDArray ints = Iota(Shape{4}, DType::kInt32);
  ints.Reshape(Shape{4}).CopyTo(ints);  // Onto itself: nothing changes.
  EXPECT_EQ(Values<int32_t>(ints), (std::vector<int32_t>{0, 1, 2, 3}));
  base.Slice(1, 3).CopyTo(base.Slice(0, 2));
  EXPECT_EQ(Values<float>(base), (std::vector<float>{0, 1, 1, 2, 3}));
}

TEST(NDArrayTest, AsTypeRoundTripsSmallIntegersThroughEveryDtype) {
  NDArray source = Iota(Shape{2, 3});  // 0..5 is exact in every dtype but bool.
  for (DType dtype : kAllDTypes) {
    SCOPED_TRACE(DTypeName(dtype));
    NDArray converted = source.AsType(dtype);
    EXPECT_EQ(converted.dtype(), dtype);
    EXPECT_EQ(converted.shape(), source.shape());
    EXPECT_FALSE(converted.SharesChunkWith(source));
    std::vector<double> values = AsDoubles(converted);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(values[i], dtype == DType::kBool ? (i != 0) : i);
    for (DType back : kAllDTypes) {
      if (dtype == DType::kBool || back == DType::kBool) continue;
      std::vector<double> round_trip = AsDoubles(converted.AsType(back));
      for (int i = 0; i < 6; ++i) EXPECT_EQ(round_trip[i], i) << DTypeName(back);
    }
  }
}

TEST(NDArrayTest, AsTypeFollowsTheConversionNote) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {2.7f, -2.7f, 300.f, -300.f, nan, 1e20f, -1e20f, 0.f};
  NDArray source = NDArray::FromHostBuffer(values.data(), values.size() * 4, Shape{8}, DType::kFloat32);
  EXPECT_EQ(Values<int8_t>(source.AsType(DType::kInt8)), (std::vector<int8_t>{2, -2, 127, -128, 0, 127, -128, 0}));
  EXPECT_EQ(Values<uint8_t>(source.AsType(DType::kUint8)), (std::vector<uint8_t>{2, 0, 255, 0, 0, 255, 0, 0}));
  EXPECT_EQ(Values<int32_t>(source.AsType(DType::kInt32)),
            (std::vector<int32_t>{2, -2, 300, -300, 0, INT32_MAX, INT32_MIN, 0}));
  EXPECT_EQ(Values<int64_t>(source.AsType(DType::kInt64)),
            (std::vector<int64_t>{2, -2, 300, -300, 0, INT64_MAX, INT64_MIN, 0}));
  EXPECT_EQ(Values<uint8_t>(source.AsType(DType::kBool)), (std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 1, 0}));

  // Integers narrow modulo 2^n; float16 rounds to nearest even and overflows to infinity.
  const std::vector<int32_t> ints = {257, -129, 2049, 70000};
  NDArray int_source = NDArray::FromHostBuffer(ints.data(), 16, Shape{4}, DType::kInt32);
  EXPECT_EQ(Values<uint8_t>(int_source.AsType(DType::kUint8)), (std::vector<uint8_t>{1, 127, 1, 112}));
  std::vector<Float16> halves = Values<Float16>(int_source.AsType(DType::kFloat16));
  EXPECT_EQ(static_cast<float>(halves[0]), 257.f);
  EXPECT_EQ(static_cast<float>(halves[2]), 2048.f);
  EXPECT_TRUE(std::isinf(static_cast<float>(halves[3])));
  std::vector<BFloat16> brains = Values<BFloat16>(int_source.AsType(DType::kBfloat16));
  EXPECT_EQ(static_cast<float>(brains[0]), 256.f);
  EXPECT_EQ(static_cast<float>(brains[3]), 70144.f);

  // A bool byte other than 0/1 (as a file may hold) reads as true.
  const std::vector<uint8_t> bytes = {0, 1, 2, 255};
  NDArray bools = NDArray::FromHostBuffer(bytes.data(), 4, Shape{4}, DType::kBool);
  EXPECT_EQ(Values<int32_t>(bools.AsType(DType::kInt32)), (std::vector<int32_t>{0, 1, 1, 1}));
  EXPECT_EQ(Values<uint8_t>(bools.AsType(DType::kUint8)), (std::vector<uint8_t>{0, 1, 1, 1}));
}

// ---- Asynchrony, ordering, lifetime ----

TEST(NDArrayTest, ManyOperationsThenOneWait) {
  constexpr int kRows = 64;
  NDArray target = NDArray::Zeros(Shape{kRows, 256}, DType::kFloat64);
  for (int row = 0; row < kRows; ++row) {
    NDArray::Full(Shape{256}, row, DType::kFloat32).AsType(DType::kFloat16).CopyTo(target.At(row));
  }
  NDArray as_int = target.AsType(DType::kInt64);
  as_int.WaitToRead();
  std::vector<int64_t> values = Values<int64_t>(as_int);
  for (int row = 0; row < kRows; ++row) {
    for (int column = 0; column < 256; ++column) ASSERT_EQ(values[row * 256 + column], row) << row;
  }
}

TEST(NDArrayTest, ReadsAndWritesStayOrdered) {
  // Each AsType must read the value of the Fill pushed just before it, and each Fill must wait for the
  // read before it (write after read).
  NDArray array = NDArray::Zeros(Shape{1000}, DType::kInt32);
  std::vector<NDArray> snapshots;
  for (int step = 0; step < 100; ++step) {
    array.Fill(step);
    snapshots.push_back(array.Slice(step % 10, 1000).AsType(DType::kFloat64));
  }
  Engine::Get()->WaitForAll();
  for (int step = 0; step < 100; ++step) {
    for (double value : Values<double>(snapshots[step])) ASSERT_EQ(value, step);
  }
}

TEST(NDArrayTest, WaitToWriteWaitsForPendingReads) {
  NDArray array = NDArray::Zeros(Shape{4});
  std::atomic<bool> read_done{false};
  Engine::Get()->PushSync(
      [&](RunContext) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        read_done = true;
      },
      Device::cpu(), {array.var()}, {}, FnProperty::kNormal, 0, "slow_read");
  array.WaitToWrite();
  EXPECT_TRUE(read_done);
}

TEST(NDArrayTest, ErrorsSurfaceAtSynchronisationPoints) {
  NDArray array = NDArray::Zeros(Shape{4});
  Engine::Get()->PushSync([](RunContext) { throw std::runtime_error("kernel exploded"); }, Device::cpu(), {},
                          {array.var()}, FnProperty::kNormal, 0, "failing_op");
  NDArray derived = array.AsType(DType::kFloat64);  // Skipped: it reads a failed array.
  Error error = Catch([&] { array.WaitToWrite(); });
  EXPECT_TRUE(Contains(error, "failing_op")) << error.message();
  EXPECT_TRUE(Contains(error, "kernel exploded")) << error.message();
  error = Catch([&] { array.WaitToRead(); });
  EXPECT_TRUE(Contains(error, "kernel exploded")) << error.message();
  std::vector<double> out(4);
  error = Catch([&] { derived.CopyToHost(out.data(), 32); });
  EXPECT_TRUE(Contains(error, "kernel exploded")) << error.message();
  // Once reported, the engine lets a new write replace the failed data.
  array.Fill(2);
  std::vector<float> fresh(4);
  array.CopyToHost(fresh.data(), 16);
  EXPECT_EQ(fresh, std::vector<float>(4, 2.0f));
  try {
    Engine::Get()->WaitForAll();
  } catch (const Error&) {
    // WaitForAll reports the failure once more; later tests start clean.
  }
}

TEST(NDArrayTest, DroppingArraysWithPendingWorkIsSafe) {
  Engine::Get()->WaitForAll();
  const int64_t before = Storage::Get()->Stats(Device::cpu()).bytes_in_use;
  std::vector<NDArray> results;
  for (int i = 0; i < 50; ++i) {
    NDArray temporary = NDArray::Full(Shape{512, 64}, i, DType::kFloat32);
    NDArray view = temporary.Slice(10, 20);
    results.push_back(view.AsType(DType::kFloat64).Slice(0, 1).CopyTo(Device::cpu()));
    // `temporary`, `view` and the converted array die here, with their work still queued.
  }
  Engine::Get()->WaitForAll();
  for (int i = 0; i < 50; ++i) {
    for (double value : Values<double>(results[i])) ASSERT_EQ(value, i);
  }
  results.clear();
  Engine::Get()->WaitForAll();
  EXPECT_EQ(Storage::Get()->Stats(Device::cpu()).bytes_in_use, before);
}

TEST(NDArrayTest, NaiveEngineRunsOperationsAtOnce) {
  const char* engine_type = std::getenv("POLYMIX_ENGINE_TYPE");
  if (engine_type == nullptr || std::string(engine_type) != "NaiveEngine") GTEST_SKIP() << "ThreadedEngine";
  NDArray array = NDArray::Zeros(Shape{3}, DType::kInt32);
  array.Fill(5);
  EXPECT_EQ(Engine::Get()->PendingOperations(), 0);
  EXPECT_EQ(array.data<int32_t>()[2], 5);  // Done without a wait.
}

TEST(NDArrayTest, ExternalMemoryIsReleasedAfterPendingWork) {
  std::vector<float> memory = {1, 2, 3, 4};
  std::atomic<int> releases{0};
  NDArray copy;
  {
    NDArray wrapped = NDArray::FromExternal(memory.data(), Shape{2, 2}, DType::kFloat32, Device::cpu(),
                                            [&] { releases++; });
    EXPECT_EQ(wrapped.data(), memory.data());
    wrapped.At(1).Fill(9);
    copy = wrapped.CopyTo(Device::cpu());
  }
  Engine::Get()->WaitForAll();
  EXPECT_EQ(releases, 1);
  EXPECT_EQ(memory, (std::vector<float>{1, 2, 9, 9}));
  EXPECT_EQ(Values<float>(copy), (std::vector<float>{1, 2, 9, 9}));
}

}  // namespace
}  // namespace pmx
