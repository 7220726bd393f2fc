#include "core/array/dlpack.h"

#include <cstdint>
#include <memory>
#include <vector>

#include "core/backend/gpu_runtime.h"
#include "core/base/error.h"

namespace pmx {
namespace {

// DLPack 0.8's kDLBool; Debian's DLPack 0.6 header predates it (see Note [DLPack dtypes and lifetime]).
constexpr uint8_t kDLBoolCode = 6;

// What a managed tensor exported by ToDLPack points back to.
struct ExportedTensor {
  NDArray array;                 // Keeps the chunk (and its memory) alive.
  std::vector<int64_t> shape;    // DLTensor::shape points here.
  std::vector<int64_t> strides;  // DLTensor::strides points here.
  DLManagedTensor managed;       // What the consumer gets.
};

DLDataType ToDLDataType(DType dtype) {
  const uint8_t bits = static_cast<uint8_t>(DTypeSize(dtype) * 8);
  switch (dtype) {
    case DType::kFloat16:
    case DType::kFloat32:
    case DType::kFloat64: return DLDataType{kDLFloat, bits, 1};
    case DType::kBfloat16: return DLDataType{kDLBfloat, bits, 1};
    case DType::kInt8:
    case DType::kInt32:
    case DType::kInt64: return DLDataType{kDLInt, bits, 1};
    case DType::kUint8: return DLDataType{kDLUInt, bits, 1};
    case DType::kBool: return DLDataType{kDLBoolCode, 8, 1};
  }
  Throw(ErrorKind::kTypeError, "[to_dlpack] unsupported dtype flag %d", static_cast<int>(dtype));
}

DType FromDLDataType(DLDataType type) {
  PMX_CHECK(type.lanes == 1, kTypeError, "[from_dlpack] dtype has %d lanes: expected 1 (vector types are not supported)",
            static_cast<int>(type.lanes));
  const int code = type.code, bits = type.bits;
  if (code == kDLFloat && bits == 16) return DType::kFloat16;
  if (code == kDLFloat && bits == 32) return DType::kFloat32;
  if (code == kDLFloat && bits == 64) return DType::kFloat64;
  if (code == kDLBfloat && bits == 16) return DType::kBfloat16;
  if (code == kDLInt && bits == 8) return DType::kInt8;
  if (code == kDLInt && bits == 32) return DType::kInt32;
  if (code == kDLInt && bits == 64) return DType::kInt64;
  if (code == kDLUInt && bits == 8) return DType::kUint8;
  if ((code == kDLBoolCode && bits == 8) || (code == kDLUInt && bits == 1)) return DType::kBool;
  Throw(ErrorKind::kTypeError,
        "[from_dlpack] unsupported dtype (code %d, %d bits): expected float16/32/64, bfloat16, int8/32/64, uint8 or "
        "bool",
        code, bits);
}

Device FromDLDevice(DLDevice device) {
  switch (device.device_type) {
    case kDLCPU: return Device::cpu();
    case kDLCUDAHost: return Device::cpu_pinned();
    case kDLCUDA:
      gpu::CheckDevice(device.device_id);  // NotImplementedError without CUDA, ValueError for a missing GPU.
      return Device::gpu(device.device_id);
    default:
      Throw(ErrorKind::kNotImplementedError,
            "[from_dlpack] DLPack device type %d is not supported: expected 1 (cpu), 2 (cuda) or 3 (cuda_host)",
            static_cast<int>(device.device_type));
  }
}

DLDevice ToDLDevice(Device device) {
  switch (device.type) {
    case DeviceType::kCPU: return DLDevice{kDLCPU, 0};
    case DeviceType::kCPUPinned: return DLDevice{kDLCUDAHost, 0};
    case DeviceType::kGPU: return DLDevice{kDLCUDA, device.id};
  }
  Throw(ErrorKind::kValueError, "[to_dlpack] unknown device %s", device.ToString());
}

}  // namespace

DLManagedTensor* ToDLPack(const NDArray& array) {
  PMX_CHECK(!array.is_none(), kValueError, "[to_dlpack] the array is none (it has no data): expected an array");
  array.WaitToRead();
  auto exported = std::make_unique<ExportedTensor>();
  exported->array = array;
  exported->shape.assign(array.shape().dims().begin(), array.shape().dims().end());
  exported->strides = array.shape().Strides();
  DLTensor& tensor = exported->managed.dl_tensor;
  tensor.data = array.data();
  tensor.device = ToDLDevice(array.device());
  tensor.ndim = array.ndim();
  tensor.dtype = ToDLDataType(array.dtype());
  tensor.shape = exported->shape.data();
  tensor.strides = exported->strides.data();
  tensor.byte_offset = 0;
  exported->managed.manager_ctx = exported.get();
  exported->managed.deleter = [](DLManagedTensor* self) { delete static_cast<ExportedTensor*>(self->manager_ctx); };
  return &exported.release()->managed;
}

NDArray FromDLPack(DLManagedTensor* managed) {
  PMX_CHECK(managed != nullptr, kValueError, "[from_dlpack] the DLManagedTensor is null");
  const DLTensor& tensor = managed->dl_tensor;
  PMX_CHECK(tensor.ndim >= 0, kValueError, "[from_dlpack] ndim is %d: expected >= 0", tensor.ndim);
  PMX_CHECK(tensor.ndim == 0 || tensor.shape != nullptr, kValueError,
            "[from_dlpack] shape is null for a tensor of ndim %d", tensor.ndim);
  const DType dtype = FromDLDataType(tensor.dtype);
  std::vector<int64_t> dims(tensor.shape, tensor.shape + tensor.ndim);
  for (int axis = 0; axis < tensor.ndim; ++axis) {
    PMX_CHECK(dims[axis] >= 0, kValueError, "[from_dlpack] dimension %d is %d: expected a size >= 0", axis,
              dims[axis]);
  }
  const Shape shape(absl::MakeConstSpan(dims));
  if (tensor.strides != nullptr && shape.size() != 0) {
    const std::vector<int64_t> compact = shape.Strides();
    for (int axis = 0; axis < tensor.ndim; ++axis) {
      PMX_CHECK(dims[axis] == 1 || tensor.strides[axis] == compact[axis], kValueError,
                "[from_dlpack] stride of dimension %d is %d elements: expected %d (compact row-major; shape %s); "
                "make the tensor contiguous before exporting it",
                axis, tensor.strides[axis], compact[axis], shape.ToString());
    }
  }
  char* data = static_cast<char*>(tensor.data);
  if (data != nullptr) data += tensor.byte_offset;
  PMX_CHECK(reinterpret_cast<uintptr_t>(data) % DTypeSize(dtype) == 0, kValueError,
            "[from_dlpack] data address %p is not aligned to the %d-byte elements of %s", static_cast<void*>(data),
            DTypeSize(dtype), DTypeName(dtype));
  const Device device = FromDLDevice(tensor.device);
  return NDArray::FromExternal(data, shape, dtype, device, [managed] {
    if (managed->deleter != nullptr) managed->deleter(managed);
  });
}

}  // namespace pmx
