// The executor group of the C ABI for JS: executors (bind / simple_bind, forward, backward, arrays by group) and
// cached ops. Passes are pushed to the engine and return at once, so none of these blocks the event loop for
// long: reading an output (NDArray.data()) is where a caller waits, off the JS thread.
#include "bindings/js/src/addon.h"

namespace pmx_js {
namespace {

bool ToExecutor(napi_env env, napi_value value, PmxExecutorHandle* out) {
  return ToTyped(env, value, ObjectKind::kExecutor, "executor", false, out);
}

bool ToCachedOp(napi_env env, napi_value value, PmxCachedOpHandle* out) {
  return ToTyped(env, value, ObjectKind::kCachedOp, "cached op", false, out);
}

// executorBind(symbol, deviceType, deviceId, args, argGrads | null, gradReqs | null, auxStates) -> executor
napi_value Bind(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  PmxSymbolHandle symbol = nullptr;
  int device_type = 0, device_id = 0;
  std::vector<PmxNDArrayHandle> args, grads, aux;
  std::vector<int> reqs;
  if (!GetArgs(env, info, 7, argv, "executorBind") ||
      !ToTyped(env, argv[0], ObjectKind::kSymbol, "symbol", false, &symbol) ||
      !ToInt(env, argv[1], "device type", &device_type) || !ToInt(env, argv[2], "device id", &device_id) ||
      !ToHandleList(env, argv[3], "args", false, &args) ||
      (!IsNullish(env, argv[4]) && !ToHandleList(env, argv[4], "argsGrad", true, &grads)) ||
      (!IsNullish(env, argv[5]) && !ToIntList(env, argv[5], "gradReq", &reqs)) ||
      !ToHandleList(env, argv[6], "auxStates", false, &aux)) {
    return nullptr;
  }
  if ((!IsNullish(env, argv[4]) && grads.size() != args.size()) ||
      (!IsNullish(env, argv[5]) && reqs.size() != args.size())) {
    return ThrowError(env, PMX_ERROR_VALUE, "[bind] expected one gradient and one grad_req per argument, given " +
                                                std::to_string(args.size()) + " arguments, " +
                                                std::to_string(grads.size()) + " gradients and " +
                                                std::to_string(reqs.size()) + " requests");
  }
  PmxExecutorHandle out = nullptr;
  if (pmx_executor_bind(symbol, device_type, device_id, static_cast<int>(args.size()), args.data(),
                        IsNullish(env, argv[4]) ? nullptr : grads.data(),
                        IsNullish(env, argv[5]) ? nullptr : reqs.data(), static_cast<int>(aux.size()), aux.data(),
                        &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapObject(env, ObjectKind::kExecutor, out);
}

// executorSimpleBind(symbol, deviceType, deviceId, shapeNames, shapes, dtypeNames, dtypeFlags, reqNames, reqs,
//                    defaultReq) -> executor
napi_value SimpleBind(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  PmxSymbolHandle symbol = nullptr;
  int device_type = 0, device_id = 0, default_req = 0;
  std::vector<std::string> shape_names, dtype_names, req_names;
  std::vector<int> ndims, dtypes, reqs;
  std::vector<int64_t> dims;
  if (!GetArgs(env, info, 10, argv, "executorSimpleBind") ||
      !ToTyped(env, argv[0], ObjectKind::kSymbol, "symbol", false, &symbol) ||
      !ToInt(env, argv[1], "device type", &device_type) || !ToInt(env, argv[2], "device id", &device_id) ||
      !ToStringList(env, argv[3], "shape names", &shape_names) ||
      !ToShapeList(env, argv[4], "shapes", &ndims, &dims) ||
      !ToStringList(env, argv[5], "dtype names", &dtype_names) || !ToIntList(env, argv[6], "dtypes", &dtypes) ||
      !ToStringList(env, argv[7], "grad_req names", &req_names) || !ToIntList(env, argv[8], "gradReq", &reqs) ||
      !ToInt(env, argv[9], "default grad_req", &default_req)) {
    return nullptr;
  }
  if (shape_names.size() != ndims.size() || dtype_names.size() != dtypes.size() || req_names.size() != reqs.size()) {
    return ThrowError(env, PMX_ERROR_VALUE, "[simpleBind] names and values differ in number");
  }
  const auto shape_pointers = CStrings(shape_names), dtype_pointers = CStrings(dtype_names),
             req_pointers = CStrings(req_names);
  PmxExecutorHandle out = nullptr;
  if (pmx_executor_simple_bind(symbol, device_type, device_id, static_cast<int>(shape_names.size()),
                               shape_pointers.data(), ndims.data(), dims.data(), static_cast<int>(dtype_names.size()),
                               dtype_pointers.data(), dtypes.data(), static_cast<int>(req_names.size()),
                               req_pointers.data(), reqs.data(), default_req, &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapObject(env, ObjectKind::kExecutor, out);
}

// executorForward(executor, isTrain)
napi_value Forward(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxExecutorHandle executor = nullptr;
  bool is_train = false;
  if (!GetArgs(env, info, 2, argv, "executorForward") || !ToExecutor(env, argv[0], &executor) ||
      !ToBool(env, argv[1], "isTrain", &is_train)) {
    return nullptr;
  }
  if (pmx_executor_forward(executor, is_train) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// executorBackward(executor, headGrads | null, isTrain)
napi_value Backward(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxExecutorHandle executor = nullptr;
  std::vector<PmxNDArrayHandle> head_grads;
  bool is_train = true;
  if (!GetArgs(env, info, 3, argv, "executorBackward") || !ToExecutor(env, argv[0], &executor) ||
      (!IsNullish(env, argv[1]) && !ToHandleList(env, argv[1], "outGrads", true, &head_grads)) ||
      !ToBool(env, argv[2], "isTrain", &is_train)) {
    return nullptr;
  }
  if (pmx_executor_backward(executor, static_cast<int>(head_grads.size()),
                            head_grads.empty() ? nullptr : head_grads.data(), is_train) != 0) {
    return ThrowLastError(env);
  }
  return Undefined(env);
}

// executorArrays(executor, kind) -> {names, handles}: the group's names and new handles (null for a missing
// gradient).
napi_value Arrays(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxExecutorHandle executor = nullptr;
  int kind = 0;
  if (!GetArgs(env, info, 2, argv, "executorArrays") || !ToExecutor(env, argv[0], &executor) ||
      !ToInt(env, argv[1], "kind", &kind)) {
    return nullptr;
  }
  int name_count = 0;
  const char* const* names = nullptr;
  if (pmx_executor_array_names(executor, kind, &name_count, &names) != 0) return ThrowLastError(env);
  napi_value js_names = MakeStringArray(env, name_count, names);
  if (js_names == nullptr) return nullptr;
  int count = 0;
  PmxNDArrayHandle* handles = nullptr;
  if (pmx_executor_arrays(executor, kind, &count, &handles) != 0) return ThrowLastError(env);
  napi_value js_handles = WrapHandles(env, count, handles);
  if (js_handles == nullptr) return nullptr;
  napi_value result;
  PMX_JS_CALL(env, napi_create_object(env, &result));
  PMX_JS_CALL(env, napi_set_named_property(env, result, "names", js_names));
  PMX_JS_CALL(env, napi_set_named_property(env, result, "handles", js_handles));
  return result;
}

// executorCopyParamsFrom(executor, argNames, args, auxNames, aux, allowExtraParams)
napi_value CopyParamsFrom(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  PmxExecutorHandle executor = nullptr;
  std::vector<std::string> arg_names, aux_names;
  std::vector<PmxNDArrayHandle> args, aux;
  bool allow_extra = false;
  if (!GetArgs(env, info, 6, argv, "executorCopyParamsFrom") || !ToExecutor(env, argv[0], &executor) ||
      !ToStringList(env, argv[1], "argParams", &arg_names) || !ToHandleList(env, argv[2], "argParams", false, &args) ||
      !ToStringList(env, argv[3], "auxParams", &aux_names) || !ToHandleList(env, argv[4], "auxParams", false, &aux) ||
      !ToBool(env, argv[5], "allowExtraParams", &allow_extra)) {
    return nullptr;
  }
  if (arg_names.size() != args.size() || aux_names.size() != aux.size()) {
    return ThrowError(env, PMX_ERROR_VALUE, "[copyParamsFrom] names and arrays differ in number");
  }
  const auto arg_pointers = CStrings(arg_names), aux_pointers = CStrings(aux_names);
  if (pmx_executor_copy_params_from(executor, static_cast<int>(args.size()), arg_pointers.data(), args.data(),
                                    static_cast<int>(aux.size()), aux_pointers.data(), aux.data(), allow_extra) != 0) {
    return ThrowLastError(env);
  }
  return Undefined(env);
}

// executorReshape(executor, shapeNames, shapes, partialShaping, allowUpSizing) -> executor
napi_value Reshape(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  PmxExecutorHandle executor = nullptr;
  std::vector<std::string> names;
  std::vector<int> ndims;
  std::vector<int64_t> dims;
  bool partial = false, up_sizing = false;
  if (!GetArgs(env, info, 5, argv, "executorReshape") || !ToExecutor(env, argv[0], &executor) ||
      !ToStringList(env, argv[1], "shape names", &names) || !ToShapeList(env, argv[2], "shapes", &ndims, &dims) ||
      !ToBool(env, argv[3], "partialShaping", &partial) || !ToBool(env, argv[4], "allowUpSizing", &up_sizing)) {
    return nullptr;
  }
  if (names.size() != ndims.size()) return ThrowError(env, PMX_ERROR_VALUE, "[reshape] one shape per name");
  const auto name_pointers = CStrings(names);
  PmxExecutorHandle out = nullptr;
  if (pmx_executor_reshape(executor, static_cast<int>(names.size()), name_pointers.data(), ndims.data(), dims.data(),
                           partial, up_sizing, &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapObject(env, ObjectKind::kExecutor, out);
}

// executorMemory(executor) -> [plannedBytes, unplannedBytes]
napi_value Memory(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxExecutorHandle executor = nullptr;
  if (!GetArgs(env, info, 1, argv, "executorMemory") || !ToExecutor(env, argv[0], &executor)) return nullptr;
  int64_t bytes[2] = {0, 0};
  if (pmx_executor_memory(executor, bytes) != 0) return ThrowLastError(env);
  return MakeNumberArray(env, {static_cast<double>(bytes[0]), static_cast<double>(bytes[1])});
}

// executorFree(executor)
napi_value FreeExecutor(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxExecutorHandle executor = nullptr;
  if (!GetArgs(env, info, 1, argv, "executorFree") || !ToExecutor(env, argv[0], &executor)) return nullptr;
  if (pmx_executor_free(executor) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// cachedOpCreate(symbol, flagKeys, flagValues) -> cached op
napi_value CachedOpCreate(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxSymbolHandle symbol = nullptr;
  std::vector<std::string> keys, values;
  if (!GetArgs(env, info, 3, argv, "cachedOpCreate") ||
      !ToTyped(env, argv[0], ObjectKind::kSymbol, "symbol", false, &symbol) ||
      !ToStringList(env, argv[1], "flag names", &keys) || !ToStringList(env, argv[2], "flag values", &values)) {
    return nullptr;
  }
  if (keys.size() != values.size()) return ThrowError(env, PMX_ERROR_VALUE, "[CachedOp] one value per flag");
  const auto key_pointers = CStrings(keys), value_pointers = CStrings(values);
  PmxCachedOpHandle out = nullptr;
  if (pmx_cached_op_create(symbol, static_cast<int>(keys.size()), key_pointers.data(), value_pointers.data(), &out) !=
      0) {
    return ThrowLastError(env);
  }
  return WrapObject(env, ObjectKind::kCachedOp, out);
}

// cachedOpInputNames(op) -> names
napi_value CachedOpInputNames(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxCachedOpHandle op = nullptr;
  if (!GetArgs(env, info, 1, argv, "cachedOpInputNames") || !ToCachedOp(env, argv[0], &op)) return nullptr;
  int count = 0;
  const char* const* names = nullptr;
  if (pmx_cached_op_input_names(op, &count, &names) != 0) return ThrowLastError(env);
  return MakeStringArray(env, count, names);
}

// cachedOpInvoke(op, inputs) -> output handles (recorded by autograd while the thread records)
napi_value CachedOpInvoke(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxCachedOpHandle op = nullptr;
  std::vector<PmxNDArrayHandle> inputs;
  if (!GetArgs(env, info, 2, argv, "cachedOpInvoke") || !ToCachedOp(env, argv[0], &op) ||
      !ToHandleList(env, argv[1], "inputs", false, &inputs)) {
    return nullptr;
  }
  int count = 0;
  PmxNDArrayHandle* outputs = nullptr;
  if (pmx_cached_op_invoke(op, static_cast<int>(inputs.size()), inputs.data(), &count, &outputs) != 0) {
    return ThrowLastError(env);
  }
  return WrapHandles(env, count, outputs);
}

// cachedOpFree(op)
napi_value CachedOpFree(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxCachedOpHandle op = nullptr;
  if (!GetArgs(env, info, 1, argv, "cachedOpFree") || !ToCachedOp(env, argv[0], &op)) return nullptr;
  if (pmx_cached_op_free(op) != 0) return ThrowLastError(env);
  return Undefined(env);
}

}  // namespace

void AddExecutorExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"executorBind", Bind},
                                      {"executorSimpleBind", SimpleBind},
                                      {"executorForward", Forward},
                                      {"executorBackward", Backward},
                                      {"executorArrays", Arrays},
                                      {"executorCopyParamsFrom", CopyParamsFrom},
                                      {"executorReshape", Reshape},
                                      {"executorMemory", Memory},
                                      {"executorFree", FreeExecutor},
                                      {"cachedOpCreate", CachedOpCreate},
                                      {"cachedOpInputNames", CachedOpInputNames},
                                      {"cachedOpInvoke", CachedOpInvoke},
                                      {"cachedOpFree", CachedOpFree},
                                  });
}

}  // namespace pmx_js
