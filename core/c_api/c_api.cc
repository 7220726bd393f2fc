// The C ABI: version, errors, devices, engine, storage and the testing group.
#include <cstring>

#include "core/backend/gpu_runtime.h"
#include "core/c_api/internal/c_api_internal.h"
#include "core/engine/engine.h"
#include "core/storage/storage.h"

namespace pmx {
namespace c_api {
namespace {

struct LastError {
  int kind = PMX_OK;
  std::string message;
};

LastError& ThreadError() {
  thread_local LastError error;
  return error;
}

}  // namespace

void SetLastError(const Error& error) {
  ThreadError().kind = static_cast<int>(error.kind());
  ThreadError().message = error.message();
}

std::string& ThreadLocalString() {
  thread_local std::string text;
  return text;
}

void CheckNotNull(const void* pointer, const char* function, const char* argument) {
  PMX_CHECK(pointer != nullptr, kValueError, "[%s] argument '%s' is NULL: expected a valid pointer", function,
            argument);
}

const NDArray& ArrayOf(PmxNDArrayHandle handle, const char* function) {
  CheckNotNull(handle, function, "array");
  return handle->array;
}

PmxNDArrayHandle NewHandle(NDArray array) { return new PmxNDArray{std::move(array)}; }

Shape ShapeFrom(const int64_t* dims, int ndim, const char* function) {
  PMX_CHECK(ndim >= 0 && ndim <= 32, kValueError, "[%s] ndim is %d: expected 0 <= ndim <= 32", function, ndim);
  if (ndim > 0) CheckNotNull(dims, function, "shape");
  return Shape(absl::MakeConstSpan(dims, ndim));
}

}  // namespace c_api
}  // namespace pmx

using pmx::c_api::CheckNotNull;

extern "C" {

int pmx_abi_version(void) { return PMX_ABI_VERSION; }

int pmx_last_error_kind(void) { return pmx::c_api::ThreadError().kind; }

const char* pmx_last_error_message(void) { return pmx::c_api::ThreadError().message.c_str(); }

const char* pmx_error_kind_name(int kind) {
  if (kind == PMX_OK) return "OK";
  if (kind < PMX_ERROR_RUNTIME || kind > PMX_ERROR_OUT_OF_MEMORY) return "RuntimeError";
  return pmx::ErrorKindName(static_cast<pmx::ErrorKind>(kind));
}

int pmx_built_with_cuda(int* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_built_with_cuda", "out");
  *out = pmx::gpu::BuiltWithCuda() ? 1 : 0;
  PMX_API_END();
}

int pmx_gpu_count(int* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_gpu_count", "out");
  *out = pmx::gpu::DeviceCount();
  PMX_API_END();
}

int pmx_engine_wait_all(void) {
  PMX_API_BEGIN();
  pmx::Engine::Get()->WaitForAll();
  PMX_API_END();
}

int pmx_storage_stats(int device_type, int device_id, int64_t out[7]) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_storage_stats", "out");
  const pmx::StorageStats stats =
      pmx::Storage::Get()->Stats(pmx::Device::FromTypeAndId(device_type, device_id));
  const int64_t values[7] = {stats.bytes_in_use,  stats.peak_bytes_in_use,  stats.bytes_pooled, stats.allocations,
                             stats.pool_hits, stats.system_allocations, stats.frees};
  std::memcpy(out, values, sizeof(values));
  PMX_API_END();
}

int pmx_storage_release_pool(int device_type, int device_id) {
  PMX_API_BEGIN();
  pmx::Storage::Get()->ReleasePool(pmx::Device::FromTypeAndId(device_type, device_id));
  PMX_API_END();
}

int pmx_testing_raise(int kind, const char* message) {
  PMX_API_BEGIN();
  const pmx::ErrorKind error_kind = kind >= PMX_ERROR_RUNTIME && kind <= PMX_ERROR_OUT_OF_MEMORY
                                        ? static_cast<pmx::ErrorKind>(kind)
                                        : pmx::ErrorKind::kRuntimeError;
  throw pmx::Error(error_kind, message ? message : "");
  PMX_API_END();
}

int pmx_testing_echo_int64(int64_t value, int64_t* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_testing_echo_int64", "out");
  *out = value;
  PMX_API_END();
}

int pmx_testing_echo_double(double value, double* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_testing_echo_double", "out");
  *out = value;
  PMX_API_END();
}

int pmx_testing_echo_string(const char* text, const char** out_text, int64_t* out) {
  PMX_API_BEGIN();
  CheckNotNull(text, "pmx_testing_echo_string", "text");
  CheckNotNull(out_text, "pmx_testing_echo_string", "out_text");
  CheckNotNull(out, "pmx_testing_echo_string", "out");
  std::string& copy = pmx::c_api::ThreadLocalString();
  copy = text;
  *out_text = copy.c_str();
  *out = static_cast<int64_t>(copy.size());
  PMX_API_END();
}

}  // extern "C"
