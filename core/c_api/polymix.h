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

/* ===== autograd ===== */
/* Imperative autograd (MXNet's mx.autograd). While the calling thread is recording, every pmx_op_invoke whose
 * inputs include a marked variable (or an array computed from one) is recorded; pmx_autograd_backward and
 * pmx_autograd_grad then differentiate the recorded graph. Recording and training flags are per thread and off
 * by default; pmx_op_invoke runs operators in the thread's training mode (Dropout, BatchNorm). Marks and graph
 * membership belong to the array behind a handle, so every holder of that handle sees them; views
 * (pmx_ndarray_reshape/slice/at) and copies start outside any graph. While recording, writing into an array
 * that is already in a graph (given_outputs of pmx_op_invoke, in-place updates) fails with ValueError. */

/* Gradient requests of pmx_autograd_mark_variables (MXNet's grad_req values). */
#define PMX_GRAD_REQ_NULL 0  /* 'null': compute no gradient for the variable. */
#define PMX_GRAD_REQ_WRITE 1 /* 'write': each backward overwrites the gradient buffer. */
#define PMX_GRAD_REQ_ADD 3   /* 'add': each backward adds to the gradient buffer. */

/* Turns recording on (non-zero) or off for the calling thread; writes the previous state (0/1) to *previous
 * unless it is NULL. */
PMX_API int pmx_autograd_set_recording(int recording, int* previous);
/* Writes 1 to *out if the calling thread is recording, else 0. */
PMX_API int pmx_autograd_is_recording(int* out);
/* Turns training mode on (non-zero) or off for the calling thread; writes the previous state (0/1) to *previous
 * unless it is NULL. */
PMX_API int pmx_autograd_set_training(int training, int* previous);
/* Writes 1 to *out if the calling thread is in training mode, else 0. */
PMX_API int pmx_autograd_is_training(int* out);
/* Marks `count` arrays as variables (MXNet's mark_variables / attach_grad): gradients[i] becomes the gradient
 * buffer of variables[i] (same shape, dtype and device; a NULL `gradients` or NULL entry allocates zeros) and
 * grad_reqs[i] its request (PMX_GRAD_REQ_*; NULL means PMX_GRAD_REQ_WRITE for all). An array already in a
 * graph is detached from it. Nothing is marked if any argument is bad. */
PMX_API int pmx_autograd_mark_variables(int count, const PmxNDArrayHandle* variables,
                                        const PmxNDArrayHandle* gradients, const int* grad_reqs);
/* Writes a new handle to the gradient buffer of a variable (sharing its memory) to *out, or NULL if the array
 * is not a variable. */
PMX_API int pmx_autograd_get_grad(PmxNDArrayHandle array, PmxNDArrayHandle* out);
/* Writes 1 to *out if a backward has written the gradient buffer of variable `array` since its flag was last
 * cleared (MXNet's fresh_out_grad, which Gluon's Trainer reads to find stale gradients), else 0 (also for an
 * array that is not a variable). */
PMX_API int pmx_autograd_get_fresh_grad(PmxNDArrayHandle array, int* out);
/* Sets (fresh != 0) or clears the fresh-gradient flag of variable `array`; ValueError if it is not a variable. */
PMX_API int pmx_autograd_set_fresh_grad(PmxNDArrayHandle array, int fresh);
/* Writes a new handle to the same data outside any graph (MXNet's NDArray.detach()) to *out. */
PMX_API int pmx_autograd_detach(PmxNDArrayHandle array, PmxNDArrayHandle* out);
/* Differentiates `num_heads` recorded arrays and writes the gradients of the variables they depend on into
 * the variables' buffers per their requests. `head_grads` is NULL (all ones) or holds one array per head (a
 * NULL entry means ones). retain_graph keeps the graph for another backward (otherwise it is freed and a second
 * backward through it fails); create_graph records the backward pass itself, so the buffers can be
 * differentiated again (higher-order gradients; pass retain_graph too); is_train is the training mode of the
 * backward pass. Fails with ValueError if a head is not in a graph, if no variable needing a gradient is
 * reached, or if an operator on the path is not differentiable. */
PMX_API int pmx_autograd_backward(int num_heads, const PmxNDArrayHandle* heads, const PmxNDArrayHandle* head_grads,
                                  int retain_graph, int create_graph, int is_train);
/* Computes the gradients of `num_heads` heads with respect to `num_variables` arrays (MXNet's autograd.grad)
 * without touching any gradient buffer; arguments as pmx_autograd_backward. A variable may be any array in a
 * graph; one the heads do not depend on gets zeros. Writes num_variables to *out_count and, to *out_grads, a
 * thread-local array (valid until the thread's next call of this function) of new handles the caller owns. */
PMX_API int pmx_autograd_grad(int num_heads, const PmxNDArrayHandle* heads, const PmxNDArrayHandle* head_grads,
                              int num_variables, const PmxNDArrayHandle* variables, int retain_graph,
                              int create_graph, int is_train, int* out_count, PmxNDArrayHandle** out_grads);

/* ===== symbol ===== */
/* Symbolic graphs (MXNet's mx.sym): variables, operator calls composed into graphs, listing, attributes,
 * shape/type inference and MXNet's symbol JSON (files of MXNet 1.x and older load; files written load in
 * MXNet 1.9.1). A symbol is a list of node outputs; symbols built from one another share nodes as MXNet's do,
 * so pmx_symbol_set_attr through one handle is seen by every symbol that contains the node. Strings and
 * arrays returned through `out` pointers are thread-local and stay valid until the calling thread's next call
 * of the same function. */

/* A symbol (one or more outputs of a graph). */
typedef struct PmxSymbol* PmxSymbolHandle;

/* Creates a variable named `name` with `num_attrs` attributes attr_keys[i] = attr_values[i] (attr_keys and
 * attr_values may be NULL when num_attrs is 0). MXNet's hidden keys ("lr_mult", "wd_mult", "ctx_group", ...)
 * are stored as "__lr_mult__"; "__shape__" and "__dtype__" (an MXNet type flag) seed shape/type inference. */
PMX_API int pmx_symbol_create_variable(const char* name, int num_attrs, const char* const* attr_keys,
                                       const char* const* attr_values, PmxSymbolHandle* out);
/* Calls operator `op` (a name or alias) on symbols, as MXNet's mx.sym.<op>(...): the `num_positional` symbols
 * fill its inputs from the first, then named[i] fills the input called named_keys[i]; inputs given neither way
 * become new variables "<name>_<input>" (fc1_weight, bn1_moving_mean) carrying a copy of the call's parameters
 * and attributes, as in MXNet. A variadic op's count parameter (num_args) defaults to the positional count.
 * Parameters are MXNet-style strings (param_keys[i] = param_values[i]); keys starting with "__" and MXNet's
 * hidden keys go to the node's attributes, as do attr_keys[i] = attr_values[i]. `name` NULL or "" takes a
 * fresh name from the thread's name manager ("fullyconnected0"). Every input symbol must have exactly one
 * output. Writes the new symbol (the op's visible outputs) to *out. */
PMX_API int pmx_symbol_create_op(const char* op, int num_positional, const PmxSymbolHandle* positional,
                                 int num_named, const char* const* named_keys, const PmxSymbolHandle* named,
                                 int num_params, const char* const* param_keys, const char* const* param_values,
                                 const char* name, int num_attrs, const char* const* attr_keys,
                                 const char* const* attr_values, PmxSymbolHandle* out);
/* Writes a symbol whose outputs are those of all `num_symbols` symbols, in order (mx.sym.Group), to *out. */
PMX_API int pmx_symbol_group(int num_symbols, const PmxSymbolHandle* symbols, PmxSymbolHandle* out);
/* Writes the number of outputs of a symbol to *out. */
PMX_API int pmx_symbol_num_outputs(PmxSymbolHandle symbol, int* out);
/* Writes a symbol of output `index` alone (symbol[index]) to *out; IndexError when out of range. */
PMX_API int pmx_symbol_get_output(PmxSymbolHandle symbol, int index, PmxSymbolHandle* out);
/* Writes a symbol of the output called `name` in pmx_symbol_list_outputs (symbol['fc1_output']) to *out;
 * ValueError when no output, or more than one, has that name. */
PMX_API int pmx_symbol_get_output_by_name(PmxSymbolHandle symbol, const char* name, PmxSymbolHandle* out);
/* Writes the number of arguments (variables that are not auxiliary states, in MXNet's order) to *out_count
 * and their names to *out_names (list_arguments). */
PMX_API int pmx_symbol_list_arguments(PmxSymbolHandle symbol, int* out_count, const char* const** out_names);
/* Writes the output names ("fc1_output", "split0_output1"; a variable's own name) (list_outputs). */
PMX_API int pmx_symbol_list_outputs(PmxSymbolHandle symbol, int* out_count, const char* const** out_names);
/* Writes the names of the auxiliary states (BatchNorm's moving_mean/moving_var) (list_auxiliary_states). */
PMX_API int pmx_symbol_list_auxiliary_states(PmxSymbolHandle symbol, int* out_count,
                                             const char* const** out_names);
/* Writes the names of all variables, arguments and auxiliary states, in graph order (list_inputs). */
PMX_API int pmx_symbol_list_inputs(PmxSymbolHandle symbol, int* out_count, const char* const** out_names);
/* Writes a symbol whose outputs are every visible output of every node, variables included (get_internals). */
PMX_API int pmx_symbol_get_internals(PmxSymbolHandle symbol, PmxSymbolHandle* out);
/* Writes a symbol of the inputs of this symbol's output nodes (get_children); it has no outputs for a
 * variable. */
PMX_API int pmx_symbol_get_children(PmxSymbolHandle symbol, PmxSymbolHandle* out);
/* Writes a deep copy (new nodes with the same names, parameters and attributes) to *out. */
PMX_API int pmx_symbol_copy(PmxSymbolHandle symbol, PmxSymbolHandle* out);
/* Writes the name of the symbol's node to *out and 1 to *out_success; for a group of several nodes writes
 * NULL and 0. */
PMX_API int pmx_symbol_get_name(PmxSymbolHandle symbol, const char** out, int* out_success);
/* Writes attribute or parameter `key` of the symbol's node (as given; "lr_mult" also finds "__lr_mult__";
 * "name" is the node name) to *out and 1 to *out_success; NULL and 0 when the node has no such key or the
 * symbol is a group of several nodes. */
PMX_API int pmx_symbol_get_attr(PmxSymbolHandle symbol, const char* key, const char** out, int* out_success);
/* Sets attribute `key` of the symbol's node ("name" renames it; MXNet's hidden keys become "__key__"). On an
 * operator node a key not starting with "__" is a parameter and is validated; a change of the op's input or
 * output count is a ValueError. ValueError for a group of several nodes. */
PMX_API int pmx_symbol_set_attr(PmxSymbolHandle symbol, const char* key, const char* value);
/* Writes every node's parameters and attributes (MXNet's attr_dict; hidden keys appear under both spellings)
 * as *out_count triples: (*out_triples)[3*i] is a node name, [3*i+1] a key, [3*i+2] its value. */
PMX_API int pmx_symbol_list_attr(PmxSymbolHandle symbol, int* out_count, const char* const** out_triples);
/* Infers shapes from the known shapes of some inputs, given by name: known_names[i] has known_ndims[i]
 * dimensions, stored one input after another in known_dims (ndim 0 is a scalar). With partial == 0, a result
 * with unknown shapes is a ValueError naming them (infer_shape); otherwise unknown shapes are reported as
 * such (infer_shape_partial). A conflict is a ValueError naming the node. Writes the numbers of arguments,
 * outputs and auxiliary states to out_counts[0..2]; to *out_ndims one ndim per slot (arguments in
 * list_arguments order, then outputs, then auxiliary states), -1 for an unknown shape; to *out_dims the dims
 * of the known slots one after another; and 1 to *out_complete if every shape in the graph is known, else 0.
 * An unknown input name is a ValueError. */
PMX_API int pmx_symbol_infer_shape(PmxSymbolHandle symbol, int num_known, const char* const* known_names,
                                   const int* known_ndims, const int64_t* known_dims, int partial,
                                   int out_counts[3], const int** out_ndims, const int64_t** out_dims,
                                   int* out_complete);
/* Infers dtypes (MXNet type flags, PMX_DTYPE_*) from the known dtypes of some inputs by name, as
 * pmx_symbol_infer_shape: writes out_counts[0..2], to *out_dtypes one flag per slot (-1 unknown) and
 * *out_complete. */
PMX_API int pmx_symbol_infer_type(PmxSymbolHandle symbol, int num_known, const char* const* known_names,
                                  const int* known_dtypes, int partial, int out_counts[3], const int** out_dtypes,
                                  int* out_complete);
/* Writes the symbol as MXNet symbol JSON (exactly as MXNet 1.9.1's tojson lays it out) to *out. */
PMX_API int pmx_symbol_to_json(PmxSymbolHandle symbol, const char** out);
/* Parses MXNet symbol JSON (MXNet 1.x, and older files upgraded as MXNet does); ValueError naming the node for
 * an unknown operator or a malformed file. */
PMX_API int pmx_symbol_from_json(const char* json, PmxSymbolHandle* out);
/* Writes the symbol's JSON to the file `path` (mx.sym.save / Symbol.save). */
PMX_API int pmx_symbol_save(PmxSymbolHandle symbol, const char* path);
/* Reads a symbol JSON file (mx.sym.load); errors name the path. */
PMX_API int pmx_symbol_load(const char* path, PmxSymbolHandle* out);
/* Releases a symbol handle; nodes live while any symbol uses them. */
PMX_API int pmx_symbol_free(PmxSymbolHandle symbol);

/* ===== executor ===== */
/* Graph execution: an Executor binds a symbol to arrays for forward and backward passes (MXNet's bind /
 * simple_bind), and a CachedOp calls a symbol like one operator (what Gluon's hybridize runs). Both infer shapes
 * and dtypes once per input signature, plan memory once (in-place reuse, buffer sharing), fuse chains of
 * elementwise ops and push each pass to the engine without per-call inference or allocation. Gradient requests
 * are the PMX_GRAD_REQ_* values of the autograd group. Arrays returned through thread-local handle arrays are new
 * handles owned by the caller; those arrays stay valid until the thread's next call of the same function. */

/* An executor: a symbol bound to argument, gradient and auxiliary-state arrays on one device. */
typedef struct PmxExecutor* PmxExecutorHandle;
/* A cached op: a symbol compiled per input signature and called on arrays. */
typedef struct PmxCachedOp* PmxCachedOpHandle;

/* The array groups of an executor (pmx_executor_arrays, pmx_executor_array_names, pmx_executor_get_array). */
#define PMX_EXECUTOR_ARGS 0    /* Arguments, in list_arguments order. */
#define PMX_EXECUTOR_GRADS 1   /* Gradients, one per argument (NULL for grad_req null). */
#define PMX_EXECUTOR_AUX 2     /* Auxiliary states, in list_auxiliary_states order. */
#define PMX_EXECUTOR_OUTPUTS 3 /* Outputs, in list_outputs order (overwritten by each forward). */

/* Binds `symbol` on a device (MXNet's bind): `args` holds one array per argument (list_arguments order),
 * `arg_grads` NULL (no gradients) or one array per argument (NULL entries for arguments without gradient),
 * `grad_reqs` NULL (PMX_GRAD_REQ_WRITE where a gradient array is given, else NULL) or one request per argument,
 * `aux_states` one array per auxiliary state. Arrays are used, not copied: forward reads the arguments, backward
 * writes the gradients, training-mode forward updates auxiliary states (BatchNorm) in place. ValueError naming
 * the argument on a count, shape, dtype or device mismatch. */
PMX_API int pmx_executor_bind(PmxSymbolHandle symbol, int device_type, int device_id, int num_args,
                              const PmxNDArrayHandle* args, const PmxNDArrayHandle* arg_grads, const int* grad_reqs,
                              int num_aux, const PmxNDArrayHandle* aux_states, PmxExecutorHandle* out);
/* Binds `symbol` allocating every array (MXNet's simple_bind): the shapes of `num_shapes` inputs by name
 * (shape_names[i] has shape_ndims[i] dims, stored one input after another in shape_dims), dtypes of
 * `num_dtypes` inputs (PMX_DTYPE_*; others are inferred, float32 where nothing decides), grad requests of
 * `num_grad_reqs` arguments by name and `default_grad_req` for the rest. Arguments, gradients and auxiliary
 * states start as zeros. ValueError when a shape cannot be inferred (naming it) or a name is unknown. */
PMX_API int pmx_executor_simple_bind(PmxSymbolHandle symbol, int device_type, int device_id, int num_shapes,
                                     const char* const* shape_names, const int* shape_ndims,
                                     const int64_t* shape_dims, int num_dtypes, const char* const* dtype_names,
                                     const int* dtypes, int num_grad_reqs, const char* const* grad_req_names,
                                     const int* grad_reqs, int default_grad_req, PmxExecutorHandle* out);
/* Runs the forward pass (is_train non-zero: training mode, as Dropout and BatchNorm see it). Asynchronous. */
PMX_API int pmx_executor_forward(PmxExecutorHandle executor, int is_train);
/* Runs the backward pass of the last forward, writing (or adding, grad_req add) the gradients: `head_grads` NULL
 * or one array per output (copied in; NULL entries, or NULL, allowed for outputs whose gradient ignores its head
 * gradient, i.e. loss layers such as SoftmaxOutput and MakeLoss). ValueError if the executor has no gradients or
 * a needed head gradient is missing. Asynchronous. */
PMX_API int pmx_executor_backward(PmxExecutorHandle executor, int num_head_grads, const PmxNDArrayHandle* head_grads,
                                  int is_train);
/* Writes the number of arrays of group `kind` (PMX_EXECUTOR_*) to *out_count and new handles to them (sharing
 * memory; NULL for a missing gradient) to *out_arrays (thread-local array). */
PMX_API int pmx_executor_arrays(PmxExecutorHandle executor, int kind, int* out_count, PmxNDArrayHandle** out_arrays);
/* Writes the names of group `kind` (arguments, gradients: the argument names, auxiliary states, outputs) to
 * *out_count and *out_names (thread-local). */
PMX_API int pmx_executor_array_names(PmxExecutorHandle executor, int kind, int* out_count,
                                     const char* const** out_names);
/* Writes a new handle to the array of group `kind` called `name` (arg_dict / grad_dict / aux_dict /
 * output_dict) to *out, or NULL for the gradient of an argument with grad_req null; ValueError for an unknown
 * name. */
PMX_API int pmx_executor_get_array(PmxExecutorHandle executor, int kind, const char* name, PmxNDArrayHandle* out);
/* Copies parameters in by name (copy_params_from): `num_args` arguments arg_names[i] = arg_values[i] and
 * `num_aux` auxiliary states. A name that is neither is a ValueError unless allow_extra_params is non-zero. */
PMX_API int pmx_executor_copy_params_from(PmxExecutorHandle executor, int num_args, const char* const* arg_names,
                                          const PmxNDArrayHandle* arg_values, int num_aux,
                                          const char* const* aux_names, const PmxNDArrayHandle* aux_values,
                                          int allow_extra_params);
/* Writes a new executor for new input shapes (MXNet's reshape; shapes given as for pmx_executor_simple_bind)
 * to *out. Arrays whose shape does not change are shared; changed ones reuse the old memory when not larger,
 * else are allocated when allow_up_sizing is non-zero (ValueError otherwise). Without partial_shaping an
 * argument whose shape changes without being given is a ValueError. The old executor stays valid. */
PMX_API int pmx_executor_reshape(PmxExecutorHandle executor, int num_shapes, const char* const* shape_names,
                                 const int* shape_ndims, const int64_t* shape_dims, int partial_shaping,
                                 int allow_up_sizing, PmxExecutorHandle* out);
/* Writes the bytes of the executor's planned internal buffers to out[0] and what its internal values would
 * take without memory planning to out[1]. */
PMX_API int pmx_executor_memory(PmxExecutorHandle executor, int64_t out[2]);
/* Releases an executor (its arrays live on while other handles use them). */
PMX_API int pmx_executor_free(PmxExecutorHandle executor);

/* Creates a cached op from `symbol` with MXNet's CachedOp flags flag_keys[i] = flag_values[i]: static_alloc,
 * static_shape ("true"/"false"), forward_bulk_size, backward_bulk_size (accepted: inline_limit, data_indices,
 * param_indices), and Polymix's fuse, inplace, share_memory, cse. ValueError for an unknown flag. */
PMX_API int pmx_cached_op_create(PmxSymbolHandle symbol, int num_flags, const char* const* flag_keys,
                                 const char* const* flag_values, PmxCachedOpHandle* out);
/* Writes the number of inputs of a cached op to *out_count and their names (every variable of the symbol,
 * arguments and auxiliary states, in list_inputs order) to *out_names (thread-local). */
PMX_API int pmx_cached_op_input_names(PmxCachedOpHandle op, int* out_count, const char* const** out_names);
/* Calls a cached op on `num_inputs` arrays (one per input name, on one device) in the thread's training mode
 * (pmx_autograd_set_training): the first call per input signature (shapes, dtypes, device, which inputs need
 * gradients) compiles the graph, later ones reuse it. Auxiliary states are updated in place in training mode.
 * While the thread is recording and some input is in a graph, the call is recorded as one autograd node whose
 * gradient runs the cached backward graph. Writes the output count to *out_count and new output handles to
 * *out_outputs (thread-local array). */
PMX_API int pmx_cached_op_invoke(PmxCachedOpHandle op, int num_inputs, const PmxNDArrayHandle* inputs,
                                 int* out_count, PmxNDArrayHandle** out_outputs);
/* Releases a cached op (outputs and recorded graphs that use it stay valid). */
PMX_API int pmx_cached_op_free(PmxCachedOpHandle op);

/* ===== optim ===== */
/* Training pieces every binding wraps, written once in the core: optimizers (mx.optimizer), learning-rate
 * schedules (mx.lr_scheduler), initializers (mx.init) and evaluation metrics (mx.metric), with MXNet 1.9.1's
 * names, parameters, defaults and formulas. Parameters are MXNet's keyword arguments as strings, as str() of the
 * value prints them ("0.1", "None", "True", "[10, 20]", "gaussian"); num_params may be 0 with NULL keys and
 * values. Unknown names and parameters and bad values fail with ValueError naming the accepted ones. Strings and
 * arrays returned through `out` pointers are thread-local and stay valid until the calling thread's next call of
 * the same function. An optimizer, schedule, initializer or metric must not be used by two threads at once. */

/* An optimizer: hyper-parameters, per-parameter multipliers and update counts. */
typedef struct PmxOptimizer* PmxOptimizerHandle;
/* The state of one weight under an optimizer (momentum, moments, float32 master copy). */
typedef struct PmxOptimizerState* PmxOptimizerStateHandle;
/* A learning-rate schedule (stateful, as MXNet's: asking for a count may advance it). */
typedef struct PmxLRScheduler* PmxLRSchedulerHandle;
/* A weight initializer. */
typedef struct PmxInitializer* PmxInitializerHandle;
/* An evaluation metric accumulating over updates. */
typedef struct PmxMetric* PmxMetricHandle;

/* Creates an optimizer by MXNet's registered name ("sgd", "nag", "adam", "adamw", "rmsprop", "adagrad",
 * "adadelta", "ftrl", "signum", "lamb"; case-insensitive) with keyword arguments as mx.optimizer.create takes
 * them (learning_rate, wd, rescale_grad, clip_gradient, multi_precision, begin_num_update, momentum, beta1, ...). */
PMX_API int pmx_optimizer_create(const char* name, int num_params, const char* const* param_keys,
                                 const char* const* param_values, PmxOptimizerHandle* out);
/* Sets one hyper-parameter (e.g. "rescale_grad", which a trainer sets before each step). Setting
 * "learning_rate" while a schedule is attached fails with ValueError, as MXNet's set_learning_rate. */
PMX_API int pmx_optimizer_set_param(PmxOptimizerHandle optimizer, const char* key, const char* value);
/* Writes the string form of a hyper-parameter ("None" when unset, "True"/"False" for flags) to *out. */
PMX_API int pmx_optimizer_get_param(PmxOptimizerHandle optimizer, const char* key, const char** out);
/* Attaches a schedule (NULL detaches) and sets its base_lr to the optimizer's learning_rate, as MXNet's
 * Optimizer(lr_scheduler=...) does. The schedule is shared: freeing its handle later is safe. */
PMX_API int pmx_optimizer_set_lr_scheduler(PmxOptimizerHandle optimizer, PmxLRSchedulerHandle scheduler);
/* Writes the current learning rate (the schedule's value at the current update count, else learning_rate). */
PMX_API int pmx_optimizer_get_learning_rate(PmxOptimizerHandle optimizer, double* out);
/* Writes the number of updates so far (the largest update count of any index, from begin_num_update). */
PMX_API int pmx_optimizer_get_num_update(PmxOptimizerHandle optimizer, int64_t* out);
/* Names `count` parameters: indices[i] is called names[i] (MXNet's param_idx2name). Resets the wd multipliers
 * to MXNet's default: 0 for every name not ending in "_weight" or "_gamma". */
PMX_API int pmx_optimizer_set_param_names(PmxOptimizerHandle optimizer, int count, const int* indices,
                                          const char* const* names);
/* Replaces the lr multipliers (MXNet's set_lr_mult): names[i] gets name_mults[i], indices[i] gets
 * index_mults[i]; an index's own multiplier wins over its name's; others are 1. */
PMX_API int pmx_optimizer_set_lr_mult(PmxOptimizerHandle optimizer, int num_names, const char* const* names,
                                      const double* name_mults, int num_indices, const int* indices,
                                      const double* index_mults);
/* Replaces the wd multipliers (MXNet's set_wd_mult) as pmx_optimizer_set_lr_mult, on top of the default of
 * pmx_optimizer_set_param_names. */
PMX_API int pmx_optimizer_set_wd_mult(PmxOptimizerHandle optimizer, int num_names, const char* const* names,
                                      const double* name_mults, int num_indices, const int* indices,
                                      const double* index_mults);
/* Creates the state of weight `index` (zeros like the weight; with multi_precision and a float16 weight, float32
 * states plus a float32 master copy of the weight). Free it with pmx_optimizer_state_free. */
PMX_API int pmx_optimizer_create_state(PmxOptimizerHandle optimizer, int index, PmxNDArrayHandle weight,
                                       PmxOptimizerStateHandle* out);
/* Writes the state's arrays (shared, as new handles the caller owns, in the optimizer's order: SGD's momentum,
 * Adam's mean and var, ...) to *out_arrays (thread-local) and their number to *out_count, and a new handle to
 * the float32 master copy to *out_weight32, or NULL without multi-precision. For saving and restoring states. */
PMX_API int pmx_optimizer_state_get_arrays(PmxOptimizerStateHandle state, int* out_count,
                                           PmxNDArrayHandle** out_arrays, PmxNDArrayHandle* out_weight32);
/* Updates `weight` in place from `grad` and the weight's state (MXNet's update_multi_precision): counts the
 * update of `index`, applies its learning rate and weight decay, and mutates the state. ValueError when the
 * shapes or devices of weight, grad and state differ. */
PMX_API int pmx_optimizer_update(PmxOptimizerHandle optimizer, int index, PmxNDArrayHandle weight,
                                 PmxNDArrayHandle grad, PmxOptimizerStateHandle state);
/* Releases a state handle (its arrays live while other handles to them do). */
PMX_API int pmx_optimizer_state_free(PmxOptimizerStateHandle state);
/* Releases an optimizer. */
PMX_API int pmx_optimizer_free(PmxOptimizerHandle optimizer);

/* Creates a learning-rate schedule: "factor" (step, factor, stop_factor_lr), "multifactor" (step as a list,
 * factor), "poly" (max_update, pwr, final_lr) or "cosine" (max_update, final_lr), each with base_lr,
 * warmup_steps, warmup_begin_lr and warmup_mode ("linear" or "constant"). */
PMX_API int pmx_lr_scheduler_create(const char* name, int num_params, const char* const* param_keys,
                                    const char* const* param_values, PmxLRSchedulerHandle* out);
/* Writes the learning rate after `num_update` updates (MXNet's scheduler(num_update); Factor and MultiFactor
 * keep the decays already passed). */
PMX_API int pmx_lr_scheduler_get_lr(PmxLRSchedulerHandle scheduler, int64_t num_update, double* out);
/* Releases a schedule handle (optimizers it is attached to keep it). */
PMX_API int pmx_lr_scheduler_free(PmxLRSchedulerHandle scheduler);

/* Creates an initializer by name ("uniform", "normal", "xavier", "msraprelu", "constant", "zero"/"zeros",
 * "one"/"ones", "orthogonal") with keyword arguments, or from MXNet's JSON form '["xavier", {"magnitude": 2.34}]'
 * (then num_params must be 0). Random draws follow pmx_random_seed. */
PMX_API int pmx_initializer_create(const char* name_or_json, int num_params, const char* const* param_keys,
                                   const char* const* param_values, PmxInitializerHandle* out);
/* Creates MXNet's Mixed initializer: a parameter gets initializers[i] for the first patterns[i] (a regular
 * expression) matching at the start of its name; no match is a ValueError at apply time. The initializers are
 * shared: freeing their handles later is safe. */
PMX_API int pmx_initializer_create_mixed(int count, const char* const* patterns,
                                         const PmxInitializerHandle* initializers, PmxInitializerHandle* out);
/* Writes the JSON form MXNet stores in a variable's __init__ attribute (exactly as MXNet 1.9.1's dumps()).
 * NotImplementedError for Mixed, which has none in MXNet either. */
PMX_API int pmx_initializer_dumps(PmxInitializerHandle initializer, const char** out);
/* Initializes `array` as the parameter `name` with MXNet's dispatch: a non-empty `init_attr` (the variable's
 * __init__ JSON; NULL or "" for none) decides; else names ending in "weight" get the initializer's rule, "bias",
 * "beta", "moving_mean" 0 and "gamma", "moving_var" 1; other names fail with ValueError. */
PMX_API int pmx_initializer_apply(PmxInitializerHandle initializer, const char* name, const char* init_attr,
                                  PmxNDArrayHandle array);
/* Releases an initializer handle. */
PMX_API int pmx_initializer_free(PmxInitializerHandle initializer);

/* Creates a metric by MXNet's name or alias ("accuracy"/"acc", "top_k_accuracy"/"top_k_acc", "f1", "mae",
 * "mse", "rmse", "crossentropy"/"ce", "perplexity", "loss", "composite") with keyword arguments (name, axis,
 * top_k, average, eps, ignore_label). */
PMX_API int pmx_metric_create(const char* name, int num_params, const char* const* param_keys,
                              const char* const* param_values, PmxMetricHandle* out);
/* Adds `child` to a metric created as "composite" (TypeError otherwise); the child is shared, so its own
 * handle sees the composite's updates. */
PMX_API int pmx_metric_composite_add(PmxMetricHandle composite, PmxMetricHandle child);
/* Accumulates one batch: labels[i] goes with preds[i] (Loss reads only preds). Reads the arrays back to the
 * host, so errors of pending work on them surface here. */
PMX_API int pmx_metric_update(PmxMetricHandle metric, int num_labels, const PmxNDArrayHandle* labels, int num_preds,
                              const PmxNDArrayHandle* preds);
/* Writes the result: *out_count names and values (one, or one per child of a composite); NaN before any
 * instance. */
PMX_API int pmx_metric_get(PmxMetricHandle metric, int* out_count, const char* const** out_names,
                           const double** out_values);
/* Clears the accumulated values. */
PMX_API int pmx_metric_reset(PmxMetricHandle metric);
/* Releases a metric handle (composites it was added to keep it). */
PMX_API int pmx_metric_free(PmxMetricHandle metric);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* POLYMIX_CORE_C_API_POLYMIX_H_ */
