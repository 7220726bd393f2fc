// The NDArray group of the C ABI for JS: creation, properties, views, copies, waits.
#include "bindings/js/src/addon.h"
#include "bindings/js/src/async.h"

namespace pmx_js {
namespace {

// A private handle to the same array for work on another thread: the caller may free its own handle (dispose)
// while the work runs, and the memory stays alive until the work frees this one.
bool PrivateHandle(napi_env env, PmxNDArrayHandle handle, PmxNDArrayHandle* out) {
  if (pmx_autograd_detach(handle, out) != 0) {
    ThrowLastError(env);
    return false;
  }
  return true;
}

// Reads (shape, dtype, device type, device id) arguments starting at argv[first].
bool ToPlacement(napi_env env, napi_value* argv, std::vector<int64_t>* shape, int* dtype, int* device_type,
                 int* device_id) {
  return ToShape(env, argv[0], "shape", shape) && ToInt(env, argv[1], "dtype", dtype) &&
         ToInt(env, argv[2], "device type", device_type) && ToInt(env, argv[3], "device id", device_id);
}

// createFromData(shape, dtype, deviceType, deviceId, typedArray) -> handle
napi_value CreateFromData(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  std::vector<int64_t> shape;
  int dtype = 0, device_type = 0, device_id = 0;
  void* data = nullptr;
  size_t nbytes = 0;
  if (!GetArgs(env, info, 5, argv, "createFromData") ||
      !ToPlacement(env, argv, &shape, &dtype, &device_type, &device_id) ||
      !ToTypedArrayBytes(env, argv[4], "data", &data, &nbytes)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_create_from_data(data, nbytes, shape.data(), static_cast<int>(shape.size()), dtype, device_type,
                                   device_id, &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapHandle(env, out);
}

// createFull(shape, dtype, deviceType, deviceId, value) -> handle
napi_value CreateFull(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  std::vector<int64_t> shape;
  int dtype = 0, device_type = 0, device_id = 0;
  double value = 0;
  if (!GetArgs(env, info, 5, argv, "createFull") || !ToPlacement(env, argv, &shape, &dtype, &device_type, &device_id) ||
      !ToDouble(env, argv[4], "value", &value)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_create_full(shape.data(), static_cast<int>(shape.size()), dtype, device_type, device_id, value,
                              &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapHandle(env, out);
}

// createEmpty(shape, dtype, deviceType, deviceId) -> handle
napi_value CreateEmpty(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  std::vector<int64_t> shape;
  int dtype = 0, device_type = 0, device_id = 0;
  if (!GetArgs(env, info, 4, argv, "createEmpty") || !ToPlacement(env, argv, &shape, &dtype, &device_type, &device_id)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_create_empty(shape.data(), static_cast<int>(shape.size()), dtype, device_type, device_id, &out) !=
      0) {
    return ThrowLastError(env);
  }
  return WrapHandle(env, out);
}

// free(handle)
napi_value Free(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxNDArrayHandle handle = nullptr;
  if (!GetArgs(env, info, 1, argv, "free") || !ToHandle(env, argv[0], "array", false, &handle)) return nullptr;
  if (pmx_ndarray_free(handle) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// info(handle) -> [dtype, deviceType, deviceId, ...shape]: everything lib/ndarray.js caches, in one call.
napi_value Info(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxNDArrayHandle handle = nullptr;
  if (!GetArgs(env, info, 1, argv, "info") || !ToHandle(env, argv[0], "array", false, &handle)) return nullptr;
  int ndim = 0, dtype = 0, device_type = 0, device_id = 0;
  const int64_t* dims = nullptr;
  if (pmx_ndarray_get_shape(handle, &ndim, &dims) != 0 || pmx_ndarray_get_dtype(handle, &dtype) != 0 ||
      pmx_ndarray_get_device(handle, &device_type, &device_id) != 0) {
    return ThrowLastError(env);
  }
  napi_value result;
  PMX_JS_CALL(env, napi_create_array_with_length(env, 3 + ndim, &result));
  const int64_t head[3] = {dtype, device_type, device_id};
  for (int i = 0; i < 3 + ndim; ++i) {
    napi_value value = MakeInt(env, i < 3 ? head[i] : dims[i - 3]);
    if (value == nullptr) return nullptr;
    PMX_JS_CALL(env, napi_set_element(env, result, i, value));
  }
  return result;
}

// copyToHostSync(handle, typedArray): blocks until the array is computed, then copies it out.
napi_value CopyToHostSync(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxNDArrayHandle handle = nullptr;
  void* data = nullptr;
  size_t nbytes = 0;
  if (!GetArgs(env, info, 2, argv, "copyToHostSync") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToTypedArrayBytes(env, argv[1], "destination", &data, &nbytes)) {
    return nullptr;
  }
  if (pmx_ndarray_copy_to_host(handle, data, nbytes) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// copyToHost(handle, typedArray) -> Promise<undefined>: the same copy on a worker thread.
napi_value CopyToHost(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxNDArrayHandle handle = nullptr;
  void* data = nullptr;
  size_t nbytes = 0;
  if (!GetArgs(env, info, 2, argv, "copyToHost") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToTypedArrayBytes(env, argv[1], "destination", &data, &nbytes)) {
    return nullptr;
  }
  PmxNDArrayHandle own = nullptr;
  if (!PrivateHandle(env, handle, &own)) return nullptr;
  return StartAsync(
      env, "polymix.copyToHost",
      [own, data, nbytes]() {
        const CapturedError error = Check(pmx_ndarray_copy_to_host(own, data, nbytes));
        pmx_ndarray_free(own);
        return error;
      },
      [](napi_env env) { return Undefined(env); }, {argv[1]});
}

// copyFromHost(handle, typedArray): copies host data into the array (ordered after its pending work).
napi_value CopyFromHost(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxNDArrayHandle handle = nullptr;
  void* data = nullptr;
  size_t nbytes = 0;
  if (!GetArgs(env, info, 2, argv, "copyFromHost") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToTypedArrayBytes(env, argv[1], "source", &data, &nbytes)) {
    return nullptr;
  }
  if (pmx_ndarray_copy_from_host(handle, data, nbytes) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// copyToDevice(handle, deviceType, deviceId) -> handle
napi_value CopyToDevice(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxNDArrayHandle handle = nullptr;
  int device_type = 0, device_id = 0;
  if (!GetArgs(env, info, 3, argv, "copyToDevice") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToInt(env, argv[1], "device type", &device_type) || !ToInt(env, argv[2], "device id", &device_id)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_copy_to_device(handle, device_type, device_id, &out) != 0) return ThrowLastError(env);
  return WrapHandle(env, out);
}

// copyInto(source, destination)
napi_value CopyInto(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxNDArrayHandle source = nullptr, destination = nullptr;
  if (!GetArgs(env, info, 2, argv, "copyInto") || !ToHandle(env, argv[0], "source", false, &source) ||
      !ToHandle(env, argv[1], "destination", false, &destination)) {
    return nullptr;
  }
  if (pmx_ndarray_copy_into(source, destination) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// reshape(handle, shape) -> handle (a view)
napi_value Reshape(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxNDArrayHandle handle = nullptr;
  std::vector<int64_t> shape;
  if (!GetArgs(env, info, 2, argv, "reshape") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToShape(env, argv[1], "shape", &shape)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_reshape(handle, shape.data(), static_cast<int>(shape.size()), &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapHandle(env, out);
}

// slice(handle, begin, end) -> handle (a view of rows [begin, end))
napi_value Slice(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxNDArrayHandle handle = nullptr;
  int64_t begin = 0, end = 0;
  if (!GetArgs(env, info, 3, argv, "slice") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToInt64(env, argv[1], "begin", &begin) || !ToInt64(env, argv[2], "end", &end)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_slice(handle, begin, end, &out) != 0) return ThrowLastError(env);
  return WrapHandle(env, out);
}

// at(handle, index) -> handle (a view of one row)
napi_value At(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxNDArrayHandle handle = nullptr;
  int64_t index = 0;
  if (!GetArgs(env, info, 2, argv, "at") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToInt64(env, argv[1], "index", &index)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_at(handle, index, &out) != 0) return ThrowLastError(env);
  return WrapHandle(env, out);
}

// astype(handle, dtype) -> handle (a converted copy)
napi_value Astype(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxNDArrayHandle handle = nullptr;
  int dtype = 0;
  if (!GetArgs(env, info, 2, argv, "astype") || !ToHandle(env, argv[0], "array", false, &handle) ||
      !ToInt(env, argv[1], "dtype", &dtype)) {
    return nullptr;
  }
  PmxNDArrayHandle out = nullptr;
  if (pmx_ndarray_astype(handle, dtype, &out) != 0) return ThrowLastError(env);
  return WrapHandle(env, out);
}

// waitToReadSync(handle): blocks until pending writes have finished (their errors surface here).
napi_value WaitToReadSync(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxNDArrayHandle handle = nullptr;
  if (!GetArgs(env, info, 1, argv, "waitToReadSync") || !ToHandle(env, argv[0], "array", false, &handle)) {
    return nullptr;
  }
  if (pmx_ndarray_wait_to_read(handle) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// waitToRead(handle) -> Promise<undefined>
napi_value WaitToRead(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxNDArrayHandle handle = nullptr;
  if (!GetArgs(env, info, 1, argv, "waitToRead") || !ToHandle(env, argv[0], "array", false, &handle)) return nullptr;
  PmxNDArrayHandle own = nullptr;
  if (!PrivateHandle(env, handle, &own)) return nullptr;
  return StartAsync(
      env, "polymix.waitToRead",
      [own]() {
        const CapturedError error = Check(pmx_ndarray_wait_to_read(own));
        pmx_ndarray_free(own);
        return error;
      },
      [](napi_env env) { return Undefined(env); }, {});
}

// waitAllSync(): blocks until all pushed work has finished.
napi_value WaitAllSync(napi_env env, napi_callback_info info) {
  if (pmx_engine_wait_all() != 0) return ThrowLastError(env);
  return Undefined(env);
}

// waitAll() -> Promise<undefined>
napi_value WaitAll(napi_env env, napi_callback_info info) {
  return StartAsync(
      env, "polymix.waitAll", []() { return Check(pmx_engine_wait_all()); }, [](napi_env env) { return Undefined(env); },
      {});
}

// storageStats(deviceType, deviceId) -> [bytesInUse, peakBytesInUse, bytesPooled, allocations, poolHits,
// systemAllocations, frees]
napi_value StorageStats(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int device_type = 0, device_id = 0;
  if (!GetArgs(env, info, 2, argv, "storageStats") || !ToInt(env, argv[0], "device type", &device_type) ||
      !ToInt(env, argv[1], "device id", &device_id)) {
    return nullptr;
  }
  int64_t stats[7] = {0};
  if (pmx_storage_stats(device_type, device_id, stats) != 0) return ThrowLastError(env);
  napi_value result;
  PMX_JS_CALL(env, napi_create_array_with_length(env, 7, &result));
  for (uint32_t i = 0; i < 7; ++i) {
    napi_value value = MakeInt(env, stats[i]);
    if (value == nullptr) return nullptr;
    PMX_JS_CALL(env, napi_set_element(env, result, i, value));
  }
  return result;
}

}  // namespace

void AddNDArrayExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"createFromData", CreateFromData},
                                      {"createFull", CreateFull},
                                      {"createEmpty", CreateEmpty},
                                      {"free", Free},
                                      {"info", Info},
                                      {"copyToHostSync", CopyToHostSync},
                                      {"copyToHost", CopyToHost},
                                      {"copyFromHost", CopyFromHost},
                                      {"copyToDevice", CopyToDevice},
                                      {"copyInto", CopyInto},
                                      {"reshape", Reshape},
                                      {"slice", Slice},
                                      {"at", At},
                                      {"astype", Astype},
                                      {"waitToReadSync", WaitToReadSync},
                                      {"waitToRead", WaitToRead},
                                      {"waitAllSync", WaitAllSync},
                                      {"waitAll", WaitAll},
                                      {"storageStats", StorageStats},
                                  });
}

}  // namespace pmx_js
