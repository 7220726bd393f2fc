// NDArray creation, accessors, views and synchronisation. Copies, casts and fills: ndarray_copy.cc.
#include "core/array/ndarray.h"

#include <cstring>
#include <utility>

#include "core/array/internal/chunk.h"
#include "core/base/error.h"

namespace pmx {
namespace {

// The bytes of `shape` elements of `dtype`; ValueError naming `op` when that overflows.
size_t CheckedByteSize(const Shape& shape, DType dtype, const char* op) {
  uint64_t bytes = DTypeSize(dtype);
  for (int64_t dim : shape.dims()) {
    PMX_CHECK(!__builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes), kValueError,
              "[%s] shape %s of %s is too large: its byte size overflows 64 bits", op, shape.ToString(),
              DTypeName(dtype));
  }
  if (shape.size() == 0) return 0;
  PMX_CHECK(bytes <= static_cast<uint64_t>(INT64_MAX), kValueError, "[%s] shape %s of %s is too large: %d bytes",
            op, shape.ToString(), DTypeName(dtype), bytes);
  return static_cast<size_t>(bytes);
}

// Throws ValueError naming `op` unless `device` is cpu, gpu or cpu_pinned with a non-negative id.
void CheckDevice(Device device, const char* op) {
  const auto type = static_cast<int32_t>(device.type);
  PMX_CHECK(device.type == DeviceType::kCPU || device.type == DeviceType::kGPU ||
                device.type == DeviceType::kCPUPinned,
            kValueError, "[%s] device type %d: expected 1 (cpu), 2 (gpu) or 3 (cpu_pinned)", op, type);
  PMX_CHECK(device.id >= 0, kValueError, "[%s] device %s: expected a non-negative device id", op, device.ToString());
}

}  // namespace

NDArray::NDArray(std::shared_ptr<internal::Chunk> chunk, Shape shape, DType dtype, size_t byte_offset)
    : chunk_(std::move(chunk)), shape_(std::move(shape)), dtype_(dtype), byte_offset_(byte_offset) {}

NDArray NDArray::Empty(const Shape& shape, DType dtype, Device device) {
  const size_t bytes = CheckedByteSize(shape, dtype, "empty");
  CheckDevice(device, "empty");
  return NDArray(std::make_shared<internal::Chunk>(bytes, device), shape, dtype, 0);
}

NDArray NDArray::Zeros(const Shape& shape, DType dtype, Device device) { return Full(shape, 0.0, dtype, device); }

NDArray NDArray::Ones(const Shape& shape, DType dtype, Device device) { return Full(shape, 1.0, dtype, device); }

NDArray NDArray::Full(const Shape& shape, double value, DType dtype, Device device) {
  NDArray array = Empty(shape, dtype, device);
  array.Fill(value);
  return array;
}

NDArray NDArray::FromHostBuffer(const void* data, const Shape& shape, DType dtype, Device device) {
  return FromHostBuffer(data, CheckedByteSize(shape, dtype, "from_host_buffer"), shape, dtype, device);
}

NDArray NDArray::FromHostBuffer(const void* data, size_t nbytes, const Shape& shape, DType dtype, Device device) {
  const size_t expected = CheckedByteSize(shape, dtype, "from_host_buffer");
  PMX_CHECK(nbytes == expected, kValueError,
            "[from_host_buffer] buffer has %d bytes: expected %d for shape %s of %s", nbytes, expected,
            shape.ToString(), DTypeName(dtype));
  PMX_CHECK(data != nullptr || nbytes == 0, kValueError, "[from_host_buffer] data is null for %d bytes", nbytes);
  NDArray array = Empty(shape, dtype, device);
  array.CopyFromHost(data, nbytes);
  return array;
}

NDArray NDArray::FromExternal(void* data, const Shape& shape, DType dtype, Device device,
                              std::function<void()> release) {
  const size_t bytes = CheckedByteSize(shape, dtype, "from_external");
  PMX_CHECK(data != nullptr || bytes == 0, kValueError, "[from_external] data is null for %d bytes", bytes);
  CheckDevice(device, "from_external");
  return NDArray(std::make_shared<internal::Chunk>(data, bytes, device, std::move(release)), shape, dtype, 0);
}

Device NDArray::device() const { return chunk_ ? chunk_->device : Device::cpu(); }

VarHandle NDArray::var() const { return chunk_ ? chunk_->var : nullptr; }

void* NDArray::data() const {
  if (chunk_ == nullptr || chunk_->data == nullptr) return nullptr;
  return static_cast<char*>(chunk_->data) + byte_offset_;
}

void NDArray::CheckNotNone(const char* op) const {
  PMX_CHECK(chunk_ != nullptr, kValueError, "[%s] the array is none (it has no data): expected an array", op);
}

void NDArray::CheckElementSize(size_t size) const {
  PMX_CHECK(size == DTypeSize(dtype_), kTypeError,
            "[data] requested elements of %d bytes from an array of %s (%d bytes per element)", size,
            DTypeName(dtype_), DTypeSize(dtype_));
}

// ---- Views ----

NDArray NDArray::Reshape(const Shape& shape) const {
  CheckNotNone("reshape");
  PMX_CHECK(shape.size() == size(), kValueError,
            "[reshape] cannot reshape an array of shape %s (%d elements) into shape %s (%d elements)",
            shape_.ToString(), size(), shape.ToString(), shape.size());
  return NDArray(chunk_, shape, dtype_, byte_offset_);
}

NDArray NDArray::ReshapeInfer(absl::Span<const int64_t> dims) const {
  CheckNotNone("reshape");
  std::vector<int64_t> resolved(dims.begin(), dims.end());
  int inferred_axis = -1;
  int64_t known = 1;
  for (size_t axis = 0; axis < resolved.size(); ++axis) {
    if (resolved[axis] == -1) {
      PMX_CHECK(inferred_axis < 0, kValueError,
                "[reshape] dims %d and %d are both -1: expected at most one dimension to infer", inferred_axis,
                static_cast<int>(axis));
      inferred_axis = static_cast<int>(axis);
    } else {
      PMX_CHECK(resolved[axis] >= 0, kValueError, "[reshape] dim %d is %d: expected a size >= 0 or -1 to infer",
                static_cast<int>(axis), resolved[axis]);
      PMX_CHECK(!__builtin_mul_overflow(known, resolved[axis], &known), kValueError,
                "[reshape] the requested dims overflow 64 bits");
    }
  }
  if (inferred_axis >= 0) {
    PMX_CHECK(known != 0 && size() % known == 0, kValueError,
              "[reshape] cannot infer dim %d: %d elements (shape %s) do not divide into blocks of %d", inferred_axis,
              size(), shape_.ToString(), known);
    resolved[inferred_axis] = size() / known;
  }
  return Reshape(Shape(absl::MakeConstSpan(resolved)));
}

NDArray NDArray::Slice(int64_t begin, int64_t end) const {
  CheckNotNone("slice");
  PMX_CHECK(ndim() >= 1, kIndexError, "[slice] cannot slice a scalar (shape ()): expected at least 1 dimension");
  const int64_t rows = shape_[0];
  PMX_CHECK(begin >= 0 && begin <= end && end <= rows, kIndexError,
            "[slice] rows [%d, %d) are out of range: expected 0 <= begin <= end <= %d (shape %s)", begin, end, rows,
            shape_.ToString());
  std::vector<int64_t> dims(shape_.dims().begin(), shape_.dims().end());
  dims[0] = end - begin;
  const size_t row_bytes = rows == 0 ? 0 : nbytes() / static_cast<size_t>(rows);
  return NDArray(chunk_, Shape(absl::MakeConstSpan(dims)), dtype_,
                 byte_offset_ + static_cast<size_t>(begin) * row_bytes);
}

NDArray NDArray::At(int64_t index) const {
  CheckNotNone("at");
  PMX_CHECK(ndim() >= 1, kIndexError, "[at] cannot index a scalar (shape ()): expected at least 1 dimension");
  PMX_CHECK(index >= 0 && index < shape_[0], kIndexError,
            "[at] index %d is out of range: expected 0 <= index < %d (shape %s)", index, shape_[0],
            shape_.ToString());
  const NDArray row = Slice(index, index + 1);
  return NDArray(chunk_, Shape(shape_.dims().subspan(1)), dtype_, row.byte_offset_);
}

// ---- Synchronisation and host transfers ----

void NDArray::WaitToRead() const {
  if (chunk_ == nullptr) return;
  Engine::Get()->WaitForVar(chunk_->var);
}

void NDArray::WaitToWrite() const {
  if (chunk_ == nullptr) return;
  // An empty write runs after every earlier read and write; waiting for it waits for them all.
  internal::PushOp("wait_to_write", Device::cpu(), FnProperty::kNormal, {}, {chunk_->var}, [](RunContext) {});
  Engine::Get()->WaitForVar(chunk_->var);
}

void NDArray::CopyToHost(void* data, size_t nbytes) const {
  CheckNotNone("copy_to_host");
  PMX_CHECK(nbytes == this->nbytes(), kValueError,
            "[copy_to_host] buffer has %d bytes: expected %d for shape %s of %s", nbytes, this->nbytes(),
            shape_.ToString(), DTypeName(dtype_));
  PMX_CHECK(data != nullptr || nbytes == 0, kValueError, "[copy_to_host] buffer is null for %d bytes", nbytes);
  if (nbytes == 0) {
    WaitToRead();  // Nothing to copy, but a stored error still surfaces here.
    return;
  }
  const void* source = this->data();
  const Device device = this->device();
  if (device.is_host()) {
    internal::RunReadAndWait("copy_to_host", Device::cpu(), FnProperty::kNormal, chunk_->var,
                             [=](RunContext) { std::memcpy(data, source, nbytes); });
  } else {
    internal::RunReadAndWait("copy_to_host", device, FnProperty::kCopyFromGPU, chunk_->var,
                             [=](RunContext context) {
                               PMX_CHECK(context.stream != nullptr, kRuntimeError,
                                         "[copy_to_host] the engine gave no CUDA stream");
                               gpu::SetDevice(device.id);
                               gpu::MemcpyAsync(data, source, nbytes, gpu::CopyKind::kDeviceToHost, context.stream);
                             });
  }
}

void NDArray::CopyFromHost(const void* data, size_t nbytes) const {
  CheckNotNone("copy_from_host");
  PMX_CHECK(nbytes == this->nbytes(), kValueError,
            "[copy_from_host] buffer has %d bytes: expected %d for shape %s of %s", nbytes, this->nbytes(),
            shape_.ToString(), DTypeName(dtype_));
  PMX_CHECK(data != nullptr || nbytes == 0, kValueError, "[copy_from_host] buffer is null for %d bytes", nbytes);
  if (nbytes == 0) return;
  void* destination = this->data();
  const Device device = this->device();
  if (device.is_host()) {
    internal::PushOp("copy_from_host", Device::cpu(), FnProperty::kNormal, {}, {chunk_->var},
                     [=](RunContext) { std::memcpy(destination, data, nbytes); });
  } else {
    internal::PushGpuOp("copy_from_host", device, FnProperty::kCopyToGPU, {}, {chunk_->var},
                        [=](gpu::Stream stream) {
                          gpu::MemcpyAsync(destination, data, nbytes, gpu::CopyKind::kHostToDevice, stream);
                        });
  }
  // The caller's buffer must stay valid until the copy has run.
  Engine::Get()->WaitForVar(chunk_->var);
}

}  // namespace pmx
