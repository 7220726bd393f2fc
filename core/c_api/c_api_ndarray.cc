// The C ABI: NDArray creation, properties, data movement, .params files and DLPack.
#include <dlpack/dlpack.h>

#include "core/array/dlpack.h"
#include "core/c_api/internal/c_api_internal.h"

using pmx::Device;
using pmx::NDArray;
using pmx::c_api::ArrayOf;
using pmx::c_api::CheckNotNull;
using pmx::c_api::NewHandle;
using pmx::c_api::ShapeFrom;

extern "C" {

int pmx_ndarray_create_empty(const int64_t* shape, int ndim, int dtype, int device_type, int device_id,
                             PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_create_empty", "out");
  *out = nullptr;
  *out = NewHandle(NDArray::Empty(ShapeFrom(shape, ndim, "pmx_ndarray_create_empty"), pmx::DTypeFromFlag(dtype),
                                  Device::FromTypeAndId(device_type, device_id)));
  PMX_API_END();
}

int pmx_ndarray_create_full(const int64_t* shape, int ndim, int dtype, int device_type, int device_id, double value,
                            PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_create_full", "out");
  *out = nullptr;
  *out = NewHandle(NDArray::Full(ShapeFrom(shape, ndim, "pmx_ndarray_create_full"), value, pmx::DTypeFromFlag(dtype),
                                 Device::FromTypeAndId(device_type, device_id)));
  PMX_API_END();
}

int pmx_ndarray_create_from_data(const void* data, size_t nbytes, const int64_t* shape, int ndim, int dtype,
                                 int device_type, int device_id, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_create_from_data", "out");
  *out = nullptr;
  const pmx::Shape array_shape = ShapeFrom(shape, ndim, "pmx_ndarray_create_from_data");
  if (array_shape.size() > 0) CheckNotNull(data, "pmx_ndarray_create_from_data", "data");
  *out = NewHandle(NDArray::FromHostBuffer(data, nbytes, array_shape, pmx::DTypeFromFlag(dtype),
                                           Device::FromTypeAndId(device_type, device_id)));
  PMX_API_END();
}

int pmx_ndarray_free(PmxNDArrayHandle array) {
  PMX_API_BEGIN();
  delete array;
  PMX_API_END();
}

int pmx_ndarray_get_shape(PmxNDArrayHandle array, int* out_ndim, const int64_t** out_shape) {
  PMX_API_BEGIN();
  CheckNotNull(out_ndim, "pmx_ndarray_get_shape", "out_ndim");
  CheckNotNull(out_shape, "pmx_ndarray_get_shape", "out_shape");
  const NDArray& value = ArrayOf(array, "pmx_ndarray_get_shape");
  *out_ndim = value.ndim();
  *out_shape = value.shape().dims().data();
  PMX_API_END();
}

int pmx_ndarray_get_dtype(PmxNDArrayHandle array, int* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_get_dtype", "out");
  *out = static_cast<int>(ArrayOf(array, "pmx_ndarray_get_dtype").dtype());
  PMX_API_END();
}

int pmx_ndarray_get_device(PmxNDArrayHandle array, int* out_type, int* out_id) {
  PMX_API_BEGIN();
  CheckNotNull(out_type, "pmx_ndarray_get_device", "out_type");
  CheckNotNull(out_id, "pmx_ndarray_get_device", "out_id");
  const Device device = ArrayOf(array, "pmx_ndarray_get_device").device();
  *out_type = static_cast<int>(device.type);
  *out_id = device.id;
  PMX_API_END();
}

int pmx_ndarray_get_size(PmxNDArrayHandle array, int64_t* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_get_size", "out");
  *out = ArrayOf(array, "pmx_ndarray_get_size").size();
  PMX_API_END();
}

int pmx_ndarray_copy_to_host(PmxNDArrayHandle array, void* data, size_t nbytes) {
  PMX_API_BEGIN();
  const NDArray& value = ArrayOf(array, "pmx_ndarray_copy_to_host");
  if (nbytes > 0) CheckNotNull(data, "pmx_ndarray_copy_to_host", "data");
  value.CopyToHost(data, nbytes);
  PMX_API_END();
}

int pmx_ndarray_copy_from_host(PmxNDArrayHandle array, const void* data, size_t nbytes) {
  PMX_API_BEGIN();
  const NDArray& value = ArrayOf(array, "pmx_ndarray_copy_from_host");
  if (nbytes > 0) CheckNotNull(data, "pmx_ndarray_copy_from_host", "data");
  value.CopyFromHost(data, nbytes);
  PMX_API_END();
}

int pmx_ndarray_copy_to_device(PmxNDArrayHandle array, int device_type, int device_id, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_copy_to_device", "out");
  *out = nullptr;
  *out = NewHandle(ArrayOf(array, "pmx_ndarray_copy_to_device").CopyTo(Device::FromTypeAndId(device_type, device_id)));
  PMX_API_END();
}

int pmx_ndarray_copy_into(PmxNDArrayHandle source, PmxNDArrayHandle destination) {
  PMX_API_BEGIN();
  ArrayOf(source, "pmx_ndarray_copy_into").CopyTo(ArrayOf(destination, "pmx_ndarray_copy_into"));
  PMX_API_END();
}

int pmx_ndarray_reshape(PmxNDArrayHandle array, const int64_t* shape, int ndim, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_reshape", "out");
  *out = nullptr;
  PMX_CHECK(ndim >= 0 && ndim <= 32, kValueError, "[pmx_ndarray_reshape] ndim is %d: expected 0 <= ndim <= 32", ndim);
  if (ndim > 0) CheckNotNull(shape, "pmx_ndarray_reshape", "shape");
  *out = NewHandle(ArrayOf(array, "pmx_ndarray_reshape").ReshapeInfer(absl::MakeConstSpan(shape, ndim)));
  PMX_API_END();
}

int pmx_ndarray_slice(PmxNDArrayHandle array, int64_t begin, int64_t end, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_slice", "out");
  *out = nullptr;
  *out = NewHandle(ArrayOf(array, "pmx_ndarray_slice").Slice(begin, end));
  PMX_API_END();
}

int pmx_ndarray_at(PmxNDArrayHandle array, int64_t index, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_at", "out");
  *out = nullptr;
  *out = NewHandle(ArrayOf(array, "pmx_ndarray_at").At(index));
  PMX_API_END();
}

int pmx_ndarray_astype(PmxNDArrayHandle array, int dtype, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_astype", "out");
  *out = nullptr;
  *out = NewHandle(ArrayOf(array, "pmx_ndarray_astype").AsType(pmx::DTypeFromFlag(dtype)));
  PMX_API_END();
}

int pmx_ndarray_wait_to_read(PmxNDArrayHandle array) {
  PMX_API_BEGIN();
  ArrayOf(array, "pmx_ndarray_wait_to_read").WaitToRead();
  PMX_API_END();
}

int pmx_ndarray_wait_to_write(PmxNDArrayHandle array) {
  PMX_API_BEGIN();
  ArrayOf(array, "pmx_ndarray_wait_to_write").WaitToWrite();
  PMX_API_END();
}

int pmx_ndarray_save(const char* path, int count, const PmxNDArrayHandle* arrays, const char* const* names) {
  PMX_API_BEGIN();
  CheckNotNull(path, "pmx_ndarray_save", "path");
  PMX_CHECK(count >= 0, kValueError, "[pmx_ndarray_save] count is %d: expected >= 0", count);
  if (count > 0) CheckNotNull(arrays, "pmx_ndarray_save", "arrays");
  std::vector<NDArray> values;
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) {
    values.push_back(ArrayOf(arrays[i], "pmx_ndarray_save"));
    if (names != nullptr) {
      CheckNotNull(names[i], "pmx_ndarray_save", "names[i]");
      keys.emplace_back(names[i]);
    }
  }
  pmx::params::Save(path, values, keys);
  PMX_API_END();
}

int pmx_ndarray_load(const char* path, PmxNDArrayListHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_load", "out");
  *out = nullptr;
  CheckNotNull(path, "pmx_ndarray_load", "path");
  *out = new PmxNDArrayList{pmx::params::Load(path)};
  PMX_API_END();
}

int pmx_ndarray_list_size(PmxNDArrayListHandle list, int* out) {
  PMX_API_BEGIN();
  CheckNotNull(list, "pmx_ndarray_list_size", "list");
  CheckNotNull(out, "pmx_ndarray_list_size", "out");
  *out = static_cast<int>(list->list.arrays.size());
  PMX_API_END();
}

int pmx_ndarray_list_get(PmxNDArrayListHandle list, int index, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(list, "pmx_ndarray_list_get", "list");
  CheckNotNull(out, "pmx_ndarray_list_get", "out");
  const int size = static_cast<int>(list->list.arrays.size());
  PMX_CHECK(index >= 0 && index < size, kIndexError, "[pmx_ndarray_list_get] index %d is out of range: the list has %d",
            index, size);
  *out = NewHandle(list->list.arrays[index]);
  PMX_API_END();
}

int pmx_ndarray_list_get_name(PmxNDArrayListHandle list, int index, const char** out) {
  PMX_API_BEGIN();
  CheckNotNull(list, "pmx_ndarray_list_get_name", "list");
  CheckNotNull(out, "pmx_ndarray_list_get_name", "out");
  const int size = static_cast<int>(list->list.arrays.size());
  PMX_CHECK(index >= 0 && index < size, kIndexError,
            "[pmx_ndarray_list_get_name] index %d is out of range: the list has %d", index, size);
  *out = list->list.names.empty() ? nullptr : list->list.names[index].c_str();
  PMX_API_END();
}

int pmx_ndarray_list_free(PmxNDArrayListHandle list) {
  PMX_API_BEGIN();
  delete list;
  PMX_API_END();
}

int pmx_ndarray_to_dlpack(PmxNDArrayHandle array, DLManagedTensor** out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_to_dlpack", "out");
  *out = nullptr;
  *out = pmx::ToDLPack(ArrayOf(array, "pmx_ndarray_to_dlpack"));
  PMX_API_END();
}

int pmx_ndarray_from_dlpack(DLManagedTensor* tensor, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_ndarray_from_dlpack", "out");
  *out = nullptr;
  CheckNotNull(tensor, "pmx_ndarray_from_dlpack", "tensor");
  *out = NewHandle(pmx::FromDLPack(tensor));
  PMX_API_END();
}

}  // extern "C"
