// The C ABI: executors (bind / simple_bind) and cached ops (hybridize).
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/c_api/internal/c_api_internal.h"
#include "core/c_api/internal/c_api_symbol.h"
#include "core/graph/cached_op.h"
#include "core/graph/executor.h"

// The object behind a PmxExecutorHandle.
struct PmxExecutor {
  std::unique_ptr<pmx::graph::Executor> executor;  // The executor.
};

// The object behind a PmxCachedOpHandle.
struct PmxCachedOp {
  std::unique_ptr<pmx::graph::CachedOp> op;  // The cached op.
};

using pmx::Device;
using pmx::DType;
using pmx::NDArray;
using pmx::Shape;
using pmx::c_api::ArrayOf;
using pmx::c_api::CheckNotNull;
using pmx::c_api::NewHandle;
using pmx::c_api::SymbolOf;
using pmx::graph::Executor;
using pmx::graph::GradReq;

namespace {

pmx::graph::Executor& ExecutorOf(PmxExecutorHandle handle, const char* function) {
  CheckNotNull(handle, function, "executor");
  return *handle->executor;
}

pmx::graph::CachedOp& CachedOpOf(PmxCachedOpHandle handle, const char* function) {
  CheckNotNull(handle, function, "op");
  return *handle->op;
}

Device DeviceFrom(int type, int id, const char* function) {
  PMX_CHECK(type == PMX_DEVICE_CPU || type == PMX_DEVICE_GPU || type == PMX_DEVICE_CPU_PINNED, kValueError,
            "[%s] device type %d is unknown: expected PMX_DEVICE_CPU (1), PMX_DEVICE_GPU (2) or "
            "PMX_DEVICE_CPU_PINNED (3)",
            function, type);
  PMX_CHECK(id >= 0, kValueError, "[%s] device id is %d: expected >= 0", function, id);
  Device device;
  device.type = static_cast<pmx::DeviceType>(type);
  device.id = id;
  return device;
}

GradReq GradReqFrom(int value, const char* function) {
  PMX_CHECK(value == PMX_GRAD_REQ_NULL || value == PMX_GRAD_REQ_WRITE || value == PMX_GRAD_REQ_ADD, kValueError,
            "[%s] grad_req %d is unknown: expected PMX_GRAD_REQ_NULL (0), PMX_GRAD_REQ_WRITE (1) or "
            "PMX_GRAD_REQ_ADD (3)",
            function, value);
  return static_cast<GradReq>(value);
}

// Arrays from `count` handles; NULL handles (where `allow_null`) become none arrays.
std::vector<NDArray> ArraysFrom(int count, const PmxNDArrayHandle* handles, bool allow_null, const char* function,
                                const char* what) {
  PMX_CHECK(count >= 0, kValueError, "[%s] the number of %s is %d: expected >= 0", function, what, count);
  std::vector<NDArray> arrays(count);
  if (count == 0 || (handles == nullptr && allow_null)) return arrays;
  CheckNotNull(handles, function, what);
  for (int i = 0; i < count; ++i) {
    if (handles[i] == nullptr && allow_null) continue;
    arrays[i] = ArrayOf(handles[i], function);
  }
  return arrays;
}

std::vector<std::string> NamesFrom(int count, const char* const* names, const char* function, const char* what) {
  PMX_CHECK(count >= 0, kValueError, "[%s] the number of %s is %d: expected >= 0", function, what, count);
  std::vector<std::string> result;
  if (count > 0) CheckNotNull(names, function, what);
  for (int i = 0; i < count; ++i) {
    CheckNotNull(names[i], function, what);
    result.push_back(names[i]);
  }
  return result;
}

// Shapes by name: names[i] has ndims[i] dims, stored one after another in dims.
std::map<std::string, Shape> ShapesFrom(int count, const char* const* names, const int* ndims, const int64_t* dims,
                                        const char* function) {
  const std::vector<std::string> keys = NamesFrom(count, names, function, "shape_names");
  if (count > 0) CheckNotNull(ndims, function, "shape_ndims");
  std::map<std::string, Shape> shapes;
  size_t offset = 0;
  for (int i = 0; i < count; ++i) {
    PMX_CHECK(ndims[i] >= 0, kValueError, "[%s] shape_ndims[%d] is %d: expected >= 0", function, i, ndims[i]);
    if (ndims[i] > 0) CheckNotNull(dims, function, "shape_dims");
    shapes[keys[i]] = pmx::c_api::ShapeFrom(dims == nullptr ? nullptr : dims + offset, ndims[i], function);
    offset += ndims[i];
  }
  return shapes;
}

// Hands `arrays` to the caller as new handles in a thread-local array (none arrays become NULL).
void ReturnArrays(const std::vector<NDArray>& arrays, int* out_count, PmxNDArrayHandle** out_arrays) {
  thread_local std::vector<PmxNDArrayHandle> handles;
  handles.clear();
  for (const NDArray& array : arrays) handles.push_back(array.is_none() ? nullptr : NewHandle(array));
  *out_count = static_cast<int>(handles.size());
  *out_arrays = handles.data();
}

// Hands `names` to the caller as a thread-local array of C strings.
void ReturnNames(const std::vector<std::string>& names, int* out_count, const char* const** out_names) {
  thread_local std::vector<std::string> storage;
  thread_local std::vector<const char*> pointers;
  storage = names;
  pointers.clear();
  for (const std::string& name : storage) pointers.push_back(name.c_str());
  *out_count = static_cast<int>(pointers.size());
  *out_names = pointers.data();
}

const std::vector<NDArray>& Group(const Executor& executor, int kind, const char* function) {
  switch (kind) {
    case PMX_EXECUTOR_ARGS: return executor.arg_arrays();
    case PMX_EXECUTOR_GRADS: return executor.grad_arrays();
    case PMX_EXECUTOR_AUX: return executor.aux_arrays();
    case PMX_EXECUTOR_OUTPUTS: return executor.outputs();
  }
  pmx::Throw(pmx::ErrorKind::kValueError,
             "[%s] array group %d is unknown: expected PMX_EXECUTOR_ARGS (0), PMX_EXECUTOR_GRADS (1), "
             "PMX_EXECUTOR_AUX (2) or PMX_EXECUTOR_OUTPUTS (3)",
             function, kind);
}

const std::vector<std::string>& GroupNames(const Executor& executor, int kind, const char* function) {
  Group(executor, kind, function);  // Validates `kind`.
  if (kind == PMX_EXECUTOR_AUX) return executor.aux_names();
  if (kind == PMX_EXECUTOR_OUTPUTS) return executor.output_names();
  return executor.arg_names();
}

PmxExecutorHandle NewExecutorHandle(std::unique_ptr<Executor> executor) {
  auto* handle = new PmxExecutor();
  handle->executor = std::move(executor);
  return handle;
}

}  // namespace

extern "C" {

int pmx_executor_bind(PmxSymbolHandle symbol, int device_type, int device_id, int num_args,
                      const PmxNDArrayHandle* args, const PmxNDArrayHandle* arg_grads, const int* grad_reqs,
                      int num_aux, const PmxNDArrayHandle* aux_states, PmxExecutorHandle* out) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_bind";
  CheckNotNull(out, kFunction, "out");
  const pmx::graph::Symbol& sym = SymbolOf(symbol, kFunction);
  std::vector<NDArray> arguments = ArraysFrom(num_args, args, false, kFunction, "args");
  std::vector<NDArray> gradients;
  if (arg_grads != nullptr) gradients = ArraysFrom(num_args, arg_grads, true, kFunction, "arg_grads");
  std::vector<GradReq> reqs;
  if (grad_reqs != nullptr) {
    for (int i = 0; i < num_args; ++i) reqs.push_back(GradReqFrom(grad_reqs[i], kFunction));
  }
  std::vector<NDArray> aux = ArraysFrom(num_aux, aux_states, false, kFunction, "aux_states");
  *out = NewExecutorHandle(Executor::Bind(sym, DeviceFrom(device_type, device_id, kFunction), std::move(arguments),
                                          std::move(gradients), std::move(reqs), std::move(aux)));
  PMX_API_END();
}

int pmx_executor_simple_bind(PmxSymbolHandle symbol, int device_type, int device_id, int num_shapes,
                             const char* const* shape_names, const int* shape_ndims, const int64_t* shape_dims,
                             int num_dtypes, const char* const* dtype_names, const int* dtypes, int num_grad_reqs,
                             const char* const* grad_req_names, const int* grad_reqs, int default_grad_req,
                             PmxExecutorHandle* out) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_simple_bind";
  CheckNotNull(out, kFunction, "out");
  const pmx::graph::Symbol& sym = SymbolOf(symbol, kFunction);
  const std::map<std::string, Shape> shapes = ShapesFrom(num_shapes, shape_names, shape_ndims, shape_dims, kFunction);
  std::map<std::string, DType> dtype_map;
  const std::vector<std::string> dtype_keys = NamesFrom(num_dtypes, dtype_names, kFunction, "dtype_names");
  if (num_dtypes > 0) CheckNotNull(dtypes, kFunction, "dtypes");
  for (int i = 0; i < num_dtypes; ++i) dtype_map[dtype_keys[i]] = pmx::DTypeFromFlag(dtypes[i]);
  std::map<std::string, GradReq> req_map;
  const std::vector<std::string> req_keys = NamesFrom(num_grad_reqs, grad_req_names, kFunction, "grad_req_names");
  if (num_grad_reqs > 0) CheckNotNull(grad_reqs, kFunction, "grad_reqs");
  for (int i = 0; i < num_grad_reqs; ++i) req_map[req_keys[i]] = GradReqFrom(grad_reqs[i], kFunction);
  *out = NewExecutorHandle(Executor::SimpleBind(sym, DeviceFrom(device_type, device_id, kFunction), shapes, dtype_map,
                                                req_map, GradReqFrom(default_grad_req, kFunction)));
  PMX_API_END();
}

int pmx_executor_forward(PmxExecutorHandle executor, int is_train) {
  PMX_API_BEGIN();
  ExecutorOf(executor, "pmx_executor_forward").Forward(is_train != 0);
  PMX_API_END();
}

int pmx_executor_backward(PmxExecutorHandle executor, int num_head_grads, const PmxNDArrayHandle* head_grads,
                          int is_train) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_backward";
  Executor& exec = ExecutorOf(executor, kFunction);
  exec.Backward(ArraysFrom(head_grads == nullptr ? 0 : num_head_grads, head_grads, true, kFunction, "head_grads"),
                is_train != 0);
  PMX_API_END();
}

int pmx_executor_arrays(PmxExecutorHandle executor, int kind, int* out_count, PmxNDArrayHandle** out_arrays) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_arrays";
  CheckNotNull(out_count, kFunction, "out_count");
  CheckNotNull(out_arrays, kFunction, "out_arrays");
  ReturnArrays(Group(ExecutorOf(executor, kFunction), kind, kFunction), out_count, out_arrays);
  PMX_API_END();
}

int pmx_executor_array_names(PmxExecutorHandle executor, int kind, int* out_count, const char* const** out_names) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_array_names";
  CheckNotNull(out_count, kFunction, "out_count");
  CheckNotNull(out_names, kFunction, "out_names");
  ReturnNames(GroupNames(ExecutorOf(executor, kFunction), kind, kFunction), out_count, out_names);
  PMX_API_END();
}

int pmx_executor_get_array(PmxExecutorHandle executor, int kind, const char* name, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_get_array";
  CheckNotNull(name, kFunction, "name");
  CheckNotNull(out, kFunction, "out");
  const Executor& exec = ExecutorOf(executor, kFunction);
  const std::vector<NDArray>& arrays = Group(exec, kind, kFunction);
  const std::vector<std::string>& names = GroupNames(exec, kind, kFunction);
  auto found = std::find(names.begin(), names.end(), name);
  PMX_CHECK(found != names.end(), kValueError, "[%s] no array of this group is named '%s'", kFunction, name);
  const NDArray& array = arrays[found - names.begin()];
  *out = array.is_none() ? nullptr : NewHandle(array);
  PMX_API_END();
}

int pmx_executor_copy_params_from(PmxExecutorHandle executor, int num_args, const char* const* arg_names,
                                  const PmxNDArrayHandle* arg_values, int num_aux, const char* const* aux_names,
                                  const PmxNDArrayHandle* aux_values, int allow_extra_params) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_copy_params_from";
  Executor& exec = ExecutorOf(executor, kFunction);
  auto to_map = [&](int count, const char* const* names, const PmxNDArrayHandle* values, const char* what) {
    const std::vector<std::string> keys = NamesFrom(count, names, kFunction, what);
    const std::vector<NDArray> arrays = ArraysFrom(count, values, false, kFunction, what);
    std::map<std::string, NDArray> params;
    for (int i = 0; i < count; ++i) params[keys[i]] = arrays[i];
    return params;
  };
  exec.CopyParamsFrom(to_map(num_args, arg_names, arg_values, "arg_params"),
                      to_map(num_aux, aux_names, aux_values, "aux_params"), allow_extra_params != 0);
  PMX_API_END();
}

int pmx_executor_reshape(PmxExecutorHandle executor, int num_shapes, const char* const* shape_names,
                         const int* shape_ndims, const int64_t* shape_dims, int partial_shaping, int allow_up_sizing,
                         PmxExecutorHandle* out) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_executor_reshape";
  CheckNotNull(out, kFunction, "out");
  const Executor& exec = ExecutorOf(executor, kFunction);
  *out = NewExecutorHandle(exec.Reshape(ShapesFrom(num_shapes, shape_names, shape_ndims, shape_dims, kFunction),
                                        partial_shaping != 0, allow_up_sizing != 0));
  PMX_API_END();
}

int pmx_executor_memory(PmxExecutorHandle executor, int64_t out[2]) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_executor_memory", "out");
  const Executor& exec = ExecutorOf(executor, "pmx_executor_memory");
  out[0] = static_cast<int64_t>(exec.planned_bytes());
  out[1] = static_cast<int64_t>(exec.unplanned_bytes());
  PMX_API_END();
}

int pmx_executor_free(PmxExecutorHandle executor) {
  PMX_API_BEGIN();
  delete executor;
  PMX_API_END();
}

int pmx_cached_op_create(PmxSymbolHandle symbol, int num_flags, const char* const* flag_keys,
                         const char* const* flag_values, PmxCachedOpHandle* out) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_cached_op_create";
  CheckNotNull(out, kFunction, "out");
  const pmx::graph::Symbol& sym = SymbolOf(symbol, kFunction);
  const std::vector<std::string> keys = NamesFrom(num_flags, flag_keys, kFunction, "flag_keys");
  const std::vector<std::string> values = NamesFrom(num_flags, flag_values, kFunction, "flag_values");
  std::map<std::string, std::string> flags;
  for (int i = 0; i < num_flags; ++i) flags[keys[i]] = values[i];
  auto* handle = new PmxCachedOp();
  try {
    handle->op = std::make_unique<pmx::graph::CachedOp>(sym, pmx::graph::ParseCachedOpFlags(flags));
  } catch (...) {
    delete handle;
    throw;
  }
  *out = handle;
  PMX_API_END();
}

int pmx_cached_op_input_names(PmxCachedOpHandle op, int* out_count, const char* const** out_names) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_cached_op_input_names";
  CheckNotNull(out_count, kFunction, "out_count");
  CheckNotNull(out_names, kFunction, "out_names");
  ReturnNames(CachedOpOf(op, kFunction).input_names(), out_count, out_names);
  PMX_API_END();
}

int pmx_cached_op_invoke(PmxCachedOpHandle op, int num_inputs, const PmxNDArrayHandle* inputs, int* out_count,
                         PmxNDArrayHandle** out_outputs) {
  PMX_API_BEGIN();
  constexpr const char* kFunction = "pmx_cached_op_invoke";
  CheckNotNull(out_count, kFunction, "out_count");
  CheckNotNull(out_outputs, kFunction, "out_outputs");
  pmx::graph::CachedOp& cached = CachedOpOf(op, kFunction);
  ReturnArrays(cached(ArraysFrom(num_inputs, inputs, false, kFunction, "inputs")), out_count, out_outputs);
  PMX_API_END();
}

int pmx_cached_op_free(PmxCachedOpHandle op) {
  PMX_API_BEGIN();
  delete op;
  PMX_API_END();
}

}  // extern "C"
