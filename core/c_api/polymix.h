/* The Polymix C ABI: the one stable interface every language binding uses.
 *
 * Conventions
 * - Every function returns int: 0 on success, non-zero on failure. On failure the calling thread's last
 *   error holds a kind (PMX_ERROR_*) and a message (pmx_last_error_kind / pmx_last_error_message); each
 *   binding raises its language's matching exception. No function lets a C++ exception escape.
 * - Handles are opaque. A handle returned through an `out` parameter is owned by the caller and released
 *   with its *_free function. Freeing NULL is a no-op.
 * - Shapes are int64 dimensions in row-major (C) order; dtypes are MXNet type flags (PMX_DTYPE_*);
 *   devices are a type (PMX_DEVICE_*) plus an id.
 * - Work is asynchronous: functions that read data back (pmx_ndarray_copy_to_host, pmx_ndarray_wait_*)
 *   are synchronisation points, and errors of earlier asynchronous work surface there.
 */
#ifndef POLYMIX_CORE_C_API_POLYMIX_H_
#define POLYMIX_CORE_C_API_POLYMIX_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define PMX_API __declspec(dllexport)
#else
#define PMX_API __attribute__((visibility("default")))
#endif

/* The ABI version this header describes; bump on any incompatible change. */
#define PMX_ABI_VERSION 1

/* Error kinds (values of pmx_last_error_kind). */
#define PMX_OK 0                          /* No error. */
#define PMX_ERROR_RUNTIME 1               /* RuntimeError: anything else. */
#define PMX_ERROR_VALUE 2                 /* ValueError: bad value (shape mismatch, corrupt file, ...). */
#define PMX_ERROR_TYPE 3                  /* TypeError: wrong type (unsupported dtype, ...). */
#define PMX_ERROR_INDEX 4                 /* IndexError: index or axis out of range. */
#define PMX_ERROR_NOT_IMPLEMENTED 5       /* NotImplementedError: not in this build (e.g. no CUDA). */
#define PMX_ERROR_OUT_OF_MEMORY 6         /* OutOfMemory: an allocation failed. */

/* Element types: MXNet's type flags. */
#define PMX_DTYPE_FLOAT32 0   /* float32 */
#define PMX_DTYPE_FLOAT64 1   /* float64 */
#define PMX_DTYPE_FLOAT16 2   /* float16 */
#define PMX_DTYPE_UINT8 3     /* uint8 */
#define PMX_DTYPE_INT32 4     /* int32 */
#define PMX_DTYPE_INT8 5      /* int8 */
#define PMX_DTYPE_INT64 6     /* int64 */
#define PMX_DTYPE_BOOL 7      /* bool (one byte) */
#define PMX_DTYPE_BFLOAT16 12 /* bfloat16 */

/* Device types: MXNet's Context::DeviceType. */
#define PMX_DEVICE_CPU 1        /* host memory */
#define PMX_DEVICE_GPU 2        /* CUDA device memory */
#define PMX_DEVICE_CPU_PINNED 3 /* page-locked host memory */

/* An n-dimensional array (a reference to possibly shared memory; views share their base's memory). */
typedef struct PmxNDArray* PmxNDArrayHandle;
/* A list of arrays with optional names, as loaded from a .params file. */
typedef struct PmxNDArrayList* PmxNDArrayListHandle;
/* DLPack's managed tensor (see <dlpack/dlpack.h>); declared here so this header stands alone. */
struct DLManagedTensor;

/* ---- Version and errors ---------------------------------------------------------------------- */

/* The ABI version of the loaded library (compare with PMX_ABI_VERSION). Never fails. */
PMX_API int pmx_abi_version(void);
/* The kind (PMX_ERROR_*) of the calling thread's last error; PMX_OK if none. Never fails. */
PMX_API int pmx_last_error_kind(void);
/* The message of the calling thread's last error ("" if none); valid until the thread's next call. */
PMX_API const char* pmx_last_error_message(void);
/* The name of an error kind, e.g. "ValueError"; "RuntimeError" for unknown kinds. Never fails. */
PMX_API const char* pmx_error_kind_name(int kind);

/* ---- Devices and engine ---------------------------------------------------------------------- */

/* Writes 1 to *out if this library was built with CUDA, else 0. */
PMX_API int pmx_built_with_cuda(int* out);
/* Writes the number of usable GPUs (0 without CUDA or devices) to *out. */
PMX_API int pmx_gpu_count(int* out);
/* Blocks until all pushed work has finished; fails with the first error of that work. */
PMX_API int pmx_engine_wait_all(void);
/* Writes the storage statistics of a device to out[0..6]: bytes_in_use, peak_bytes_in_use,
 * bytes_pooled, allocations, pool_hits, system_allocations, frees. */
PMX_API int pmx_storage_stats(int device_type, int device_id, int64_t out[7]);
/* Returns every pooled (free) block of a device to the system. */
PMX_API int pmx_storage_release_pool(int device_type, int device_id);

/* ---- NDArray: creation and lifetime ----------------------------------------------------------- */

/* Creates an uninitialised array of `shape` (ndim dims; ndim 0 is a scalar) on a device. */
PMX_API int pmx_ndarray_create_empty(const int64_t* shape, int ndim, int dtype, int device_type,
                                     int device_id, PmxNDArrayHandle* out);
/* Creates an array filled with `value` (converted to dtype). */
PMX_API int pmx_ndarray_create_full(const int64_t* shape, int ndim, int dtype, int device_type,
                                    int device_id, double value, PmxNDArrayHandle* out);
/* Creates an array by copying `nbytes` of row-major host data, which must equal size * dtype size. */
PMX_API int pmx_ndarray_create_from_data(const void* data, size_t nbytes, const int64_t* shape, int ndim,
                                         int dtype, int device_type, int device_id, PmxNDArrayHandle* out);
/* Releases a handle; the memory goes when the last handle and all pending work on it are gone. */
PMX_API int pmx_ndarray_free(PmxNDArrayHandle array);

/* ---- NDArray: properties ---------------------------------------------------------------------- */

/* Writes the number of dimensions to *out_ndim and a pointer to the dims (valid while the handle
 * lives) to *out_shape. */
PMX_API int pmx_ndarray_get_shape(PmxNDArrayHandle array, int* out_ndim, const int64_t** out_shape);
/* Writes the dtype flag to *out. */
PMX_API int pmx_ndarray_get_dtype(PmxNDArrayHandle array, int* out);
/* Writes the device type and id. */
PMX_API int pmx_ndarray_get_device(PmxNDArrayHandle array, int* out_type, int* out_id);
/* Writes the number of elements to *out. */
PMX_API int pmx_ndarray_get_size(PmxNDArrayHandle array, int64_t* out);

/* ---- NDArray: data movement ------------------------------------------------------------------- */

/* Waits for pending writes, then copies the whole array to host memory; nbytes must equal its size in
 * bytes. */
PMX_API int pmx_ndarray_copy_to_host(PmxNDArrayHandle array, void* data, size_t nbytes);
/* Copies `nbytes` of host data into the array (asynchronously ordered after pending reads/writes;
 * the data is copied before the call returns). */
PMX_API int pmx_ndarray_copy_from_host(PmxNDArrayHandle array, const void* data, size_t nbytes);
/* Copies an array to a new array on another (or the same) device. */
PMX_API int pmx_ndarray_copy_to_device(PmxNDArrayHandle array, int device_type, int device_id,
                                       PmxNDArrayHandle* out);
/* Copies `source` into `destination`, which must have the same shape (dtypes may differ: converts). */
PMX_API int pmx_ndarray_copy_into(PmxNDArrayHandle source, PmxNDArrayHandle destination);
/* A view with a new shape of the same size, sharing memory. */
PMX_API int pmx_ndarray_reshape(PmxNDArrayHandle array, const int64_t* shape, int ndim,
                                PmxNDArrayHandle* out);
/* A view of rows [begin, end) along the first axis, sharing memory. */
PMX_API int pmx_ndarray_slice(PmxNDArrayHandle array, int64_t begin, int64_t end, PmxNDArrayHandle* out);
/* A view of row `index` along the first axis (one dimension fewer), sharing memory. */
PMX_API int pmx_ndarray_at(PmxNDArrayHandle array, int64_t index, PmxNDArrayHandle* out);
/* A converted copy with another dtype. */
PMX_API int pmx_ndarray_astype(PmxNDArrayHandle array, int dtype, PmxNDArrayHandle* out);
/* Blocks until pending writes to the array have finished; fails with their error. */
PMX_API int pmx_ndarray_wait_to_read(PmxNDArrayHandle array);
/* Blocks until pending reads and writes of the array have finished; fails with their error. */
PMX_API int pmx_ndarray_wait_to_write(PmxNDArrayHandle array);

/* ---- Files: MXNet .params ----------------------------------------------------------------------- */

/* Saves `count` arrays to `path` in MXNet's .params format; `names` is NULL for an unnamed list or
 * holds `count` strings. The file is replaced atomically. */
PMX_API int pmx_ndarray_save(const char* path, int count, const PmxNDArrayHandle* arrays,
                             const char* const* names);
/* Loads a .params file (MXNet 1.x formats V1/V2/V3 and legacy) onto the CPU. */
PMX_API int pmx_ndarray_load(const char* path, PmxNDArrayListHandle* out);
/* Writes the number of arrays in a list to *out. */
PMX_API int pmx_ndarray_list_size(PmxNDArrayListHandle list, int* out);
/* Writes a new handle to array `index` of a list (free it with pmx_ndarray_free). */
PMX_API int pmx_ndarray_list_get(PmxNDArrayListHandle list, int index, PmxNDArrayHandle* out);
/* Writes the name of array `index` (valid while the list lives), or NULL for an unnamed list. */
PMX_API int pmx_ndarray_list_get_name(PmxNDArrayListHandle list, int index, const char** out);
/* Releases a list (arrays taken from it with pmx_ndarray_list_get stay valid). */
PMX_API int pmx_ndarray_list_free(PmxNDArrayListHandle list);

/* ---- DLPack --------------------------------------------------------------------------------------- */

/* Exports an array as a DLManagedTensor sharing its memory (waits for pending writes first); the
 * consumer calls its deleter when done. */
PMX_API int pmx_ndarray_to_dlpack(PmxNDArrayHandle array, struct DLManagedTensor** out);
/* Wraps a DLManagedTensor without copying and takes ownership (its deleter runs when the last
 * handle is gone). Only compact row-major tensors are accepted. */
PMX_API int pmx_ndarray_from_dlpack(struct DLManagedTensor* tensor, PmxNDArrayHandle* out);

/* ---- Operators ------------------------------------------------------------------------------------ */

/* Writes the whole operator registry as JSON (names, aliases, docs, inputs, outputs, typed parameters with
 * defaults) to *out; the text stays valid until the thread's next call of this function. */
PMX_API int pmx_op_schema_json(const char** out);
/* Runs operator `op` (a name or alias) on `num_inputs` arrays with parameters given as MXNet-style strings
 * (param_keys[i] = param_values[i]). With num_given_outputs == 0 new outputs are allocated; otherwise the
 * results are written into `given_outputs` (MXNet's out=), which must match the inferred shapes and dtypes.
 * Writes the number of visible outputs to *out_count and, to *out_arrays, a thread-local array (valid until
 * the thread's next call) of new handles that the caller owns. */
PMX_API int pmx_op_invoke(const char* op, int num_inputs, const PmxNDArrayHandle* inputs, int num_params,
                          const char* const* param_keys, const char* const* param_values, int num_given_outputs,
                          const PmxNDArrayHandle* given_outputs, int* out_count, PmxNDArrayHandle** out_arrays);
/* Runs `op` forward, then its composed gradient for the head gradients `head_grads` (one per visible
 * output): writes one gradient per input to *out_grads (thread-local array of new handles owned by the
 * caller; NULL where no gradient flows) and the input count to *out_count. */
PMX_API int pmx_op_gradient(const char* op, int num_inputs, const PmxNDArrayHandle* inputs, int num_params,
                            const char* const* param_keys, const char* const* param_values, int num_head_grads,
                            const PmxNDArrayHandle* head_grads, int* out_count, PmxNDArrayHandle** out_grads);
/* Seeds the random generators of every device (mx.random.seed). */
PMX_API int pmx_random_seed(uint64_t seed);

/* ---- Testing: for every binding's tests of marshalling and error mapping ---------------------------- */

/* Fails with the given error kind and message (kind PMX_ERROR_*; unknown kinds fail as RuntimeError). */
PMX_API int pmx_testing_raise(int kind, const char* message);
/* Writes `value` back to *out, proving int64 marshalling. */
PMX_API int pmx_testing_echo_int64(int64_t value, int64_t* out);
/* Writes `value` back to *out, proving double marshalling. */
PMX_API int pmx_testing_echo_double(double value, double* out);
/* Writes the length of `text` to *out and a pointer to a copy of it (valid until the thread's next
 * call) to *out_text, proving string marshalling both ways. */
PMX_API int pmx_testing_echo_string(const char* text, const char** out_text, int64_t* out);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* POLYMIX_CORE_C_API_POLYMIX_H_ */
