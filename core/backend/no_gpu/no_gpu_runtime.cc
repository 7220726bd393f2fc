// The GPU runtime for builds without CUDA: no devices, and a clear NotImplementedError from every call
// that needs one.
#include "core/backend/gpu_runtime.h"
#include "core/base/error.h"

namespace pmx {
namespace gpu {
namespace {

[[noreturn]] void NoCuda(const char* what) {
  Throw(ErrorKind::kNotImplementedError,
        "[%s] Polymix was built without CUDA: rebuild with --config=cuda to use GPUs", what);
}

}  // namespace

bool BuiltWithCuda() { return false; }
int DeviceCount() { return 0; }
void CheckDevice(int device) { NoCuda("gpu"); }
void SetDevice(int device) { NoCuda("SetDevice"); }
void* DeviceMalloc(int device, size_t bytes) { NoCuda("DeviceMalloc"); }
void DeviceFree(int device, void* pointer) { NoCuda("DeviceFree"); }
void* PinnedMalloc(size_t bytes) { NoCuda("PinnedMalloc"); }
void PinnedFree(void* pointer) { NoCuda("PinnedFree"); }
Stream CreateStream(int device) { NoCuda("CreateStream"); }
void DestroyStream(int device, Stream stream) { NoCuda("DestroyStream"); }
void SynchronizeStream(Stream stream) { NoCuda("SynchronizeStream"); }
void MemcpyAsync(void* destination, const void* source, size_t bytes, CopyKind kind, Stream stream) {
  NoCuda("MemcpyAsync");
}
void MemcpyPeerAsync(void* destination, int destination_device, const void* source, int source_device,
                     size_t bytes, Stream stream) {
  NoCuda("MemcpyPeerAsync");
}
void FillAsync(void* destination, DType dtype, int64_t count, double value, Stream stream) {
  NoCuda("FillAsync");
}
void CastAsync(const void* source, DType source_dtype, void* destination, DType destination_dtype,
               int64_t count, Stream stream) {
  NoCuda("CastAsync");
}

}  // namespace gpu
}  // namespace pmx
