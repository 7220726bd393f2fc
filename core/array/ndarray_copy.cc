// NDArray copies between devices, dtype conversion and fills, pushed to the engine.
#include <cstring>

#include "core/array/internal/chunk.h"
#include "core/array/internal/host_kernels.h"
#include "core/array/ndarray.h"
#include "core/base/error.h"

namespace pmx {
namespace {

using internal::PushGpuOp;
using internal::PushOp;

// Whether the bytes of two views of one chunk intersect.
bool Overlaps(const NDArray& a, const NDArray& b) {
  if (!a.SharesChunkWith(b)) return false;
  const size_t a_begin = a.byte_offset(), a_end = a_begin + a.nbytes();
  const size_t b_begin = b.byte_offset(), b_end = b_begin + b.nbytes();
  return a_begin < b_end && b_begin < a_end;
}

// Copies the bytes of `source` into `destination` (same dtype and size, non-overlapping on a GPU).
// A host-to-GPU copy runs on the destination GPU's copy workers, anything from a GPU on the source
// GPU's, as FnProperty documents.
void CopyBytes(const NDArray& source, const NDArray& destination) {
  const void* from = source.data();
  void* to = destination.data();
  const size_t bytes = source.nbytes();
  const Device from_device = source.device(), to_device = destination.device();
  if (from_device.is_host() && to_device.is_host()) {
    PushOp("copy_to", Device::cpu(), FnProperty::kNormal, {source.var()}, {destination.var()},
           [=](RunContext) { std::memmove(to, from, bytes); });
  } else if (from_device.is_host()) {
    PushGpuOp("copy_to", to_device, FnProperty::kCopyToGPU, {source.var()}, {destination.var()},
              [=](gpu::Stream stream) { gpu::MemcpyAsync(to, from, bytes, gpu::CopyKind::kHostToDevice, stream); });
  } else if (to_device.is_host()) {
    PushGpuOp("copy_to", from_device, FnProperty::kCopyFromGPU, {source.var()}, {destination.var()},
              [=](gpu::Stream stream) { gpu::MemcpyAsync(to, from, bytes, gpu::CopyKind::kDeviceToHost, stream); });
  } else if (from_device.id == to_device.id) {
    PushGpuOp("copy_to", from_device, FnProperty::kCopyFromGPU, {source.var()}, {destination.var()},
              [=](gpu::Stream stream) { gpu::MemcpyAsync(to, from, bytes, gpu::CopyKind::kDeviceToDevice, stream); });
  } else {
    PushGpuOp("copy_to", from_device, FnProperty::kCopyFromGPU, {source.var()}, {destination.var()},
              [=](gpu::Stream stream) { gpu::MemcpyPeerAsync(to, to_device.id, from, from_device.id, bytes, stream); });
  }
}

// Converts `source` into `destination`, both host arrays or both on one GPU (non-overlapping).
void CastOnDevice(const NDArray& source, const NDArray& destination) {
  const void* from = source.data();
  void* to = destination.data();
  const DType from_dtype = source.dtype(), to_dtype = destination.dtype();
  const int64_t count = source.size();
  if (source.device().is_host()) {
    PushOp("astype", Device::cpu(), FnProperty::kNormal, {source.var()}, {destination.var()},
           [=](RunContext) { internal::HostCast(from, from_dtype, to, to_dtype, count); });
  } else {
    PushGpuOp("astype", source.device(), FnProperty::kNormal, {source.var()}, {destination.var()},
              [=](gpu::Stream stream) { gpu::CastAsync(from, from_dtype, to, to_dtype, count, stream); });
  }
}

}  // namespace

NDArray NDArray::CopyTo(Device device) const {
  CheckNotNone("copy_to");
  NDArray copy = Empty(shape_, dtype_, device);
  CopyTo(copy);
  return copy;
}

void NDArray::CopyTo(const NDArray& destination) const {
  CheckNotNone("copy_to");
  destination.CheckNotNone("copy_to");
  PMX_CHECK(destination.shape_ == shape_, kValueError,
            "[copy_to] destination has shape %s: expected the source's shape %s", destination.shape_.ToString(),
            shape_.ToString());
  if (size() == 0) return;
  const bool same_place = device() == destination.device() || (device().is_host() && destination.device().is_host());
  if (Overlaps(*this, destination)) {
    if (byte_offset_ == destination.byte_offset_ && dtype_ == destination.dtype_) return;  // Onto itself.
    // memmove handles overlap for a plain host copy; a cast or a GPU copy goes through a temporary.
    if (!(device().is_host() && dtype_ == destination.dtype_)) {
      CopyTo(device()).CopyTo(destination);
      return;
    }
  }
  if (dtype_ == destination.dtype_) {
    CopyBytes(*this, destination);
  } else if (same_place) {
    CastOnDevice(*this, destination);
  } else {
    AsType(destination.dtype_).CopyTo(destination);  // Convert where the data is, then move it.
  }
}

NDArray NDArray::AsType(DType dtype) const {
  CheckNotNone("astype");
  NDArray converted = Empty(shape_, dtype, device());
  CopyTo(converted);
  return converted;
}

void NDArray::Fill(double value) const {
  CheckNotNone("fill");
  internal::CheckFillValue(value, dtype_, "fill");  // At the call, not later inside the engine.
  if (size() == 0) return;
  void* destination = data();
  const DType dtype = dtype_;
  const int64_t count = size();
  if (device().is_host()) {
    PushOp("fill", Device::cpu(), FnProperty::kNormal, {}, {var()},
           [=](RunContext) { internal::HostFill(destination, dtype, count, value); });
  } else {
    PushGpuOp("fill", device(), FnProperty::kNormal, {}, {var()},
              [=](gpu::Stream stream) { gpu::FillAsync(destination, dtype, count, value, stream); });
  }
}

}  // namespace pmx
