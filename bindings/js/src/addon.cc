// The addon's entry point and the conversions every group shares (see Note [Thin addon] in addon.h).
#include "bindings/js/src/addon.h"

#include <cmath>
#include <limits>

namespace pmx_js {
namespace {

// Per-environment state (one per Node.js thread that loads the addon): the JS error factory.
struct InstanceData {
  napi_ref error_factory = nullptr;  // (kind, message) => Error, set by lib/errors.js.
};

// Distinguishes our handle externals from any other external a caller might pass.
constexpr napi_type_tag kHandleTag = {0x706d786e64617272ULL, 0x6179206a73203031ULL};

void DeleteInstanceData(napi_env env, void* data, void* hint) {
  auto* instance = static_cast<InstanceData*>(data);
  if (instance->error_factory != nullptr) napi_delete_reference(env, instance->error_factory);
  delete instance;
}

InstanceData* Instance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<InstanceData*>(data);
}

// setErrorFactory(fn): fn(kindName, kind, message) returns the Error to throw or reject with.
napi_value SetErrorFactory(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv, "setErrorFactory")) return nullptr;
  napi_valuetype type;
  PMX_JS_CALL(env, napi_typeof(env, argv[0], &type));
  if (type != napi_function) return ThrowError(env, PMX_ERROR_TYPE, "[setErrorFactory] expected a function");
  InstanceData* instance = Instance(env);
  if (instance->error_factory != nullptr) napi_delete_reference(env, instance->error_factory);
  PMX_JS_CALL(env, napi_create_reference(env, argv[0], 1, &instance->error_factory));
  return Undefined(env);
}

// abiVersion(): [the loaded library's ABI version, the version this addon was compiled against].
napi_value AbiVersion(napi_env env, napi_callback_info info) {
  napi_value result;
  PMX_JS_CALL(env, napi_create_array_with_length(env, 2, &result));
  PMX_JS_CALL(env, napi_set_element(env, result, 0, MakeInt(env, pmx_abi_version())));
  PMX_JS_CALL(env, napi_set_element(env, result, 1, MakeInt(env, PMX_ABI_VERSION)));
  return result;
}

// errorKindName(kind): the core's name of an error kind.
napi_value ErrorKindName(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int kind = 0;
  if (!GetArgs(env, info, 1, argv, "errorKindName") || !ToInt(env, argv[0], "kind", &kind)) return nullptr;
  return MakeString(env, pmx_error_kind_name(kind));
}

// builtWithCuda(): whether the core has CUDA; gpuCount(): usable GPUs.
napi_value BuiltWithCuda(napi_env env, napi_callback_info info) {
  int value = 0;
  if (pmx_built_with_cuda(&value) != 0) return ThrowLastError(env);
  return MakeBool(env, value != 0);
}

napi_value GpuCount(napi_env env, napi_callback_info info) {
  int value = 0;
  if (pmx_gpu_count(&value) != 0) return ThrowLastError(env);
  return MakeInt(env, value);
}

napi_value Init(napi_env env, napi_value exports) {
  auto* instance = new InstanceData();
  if (napi_set_instance_data(env, instance, DeleteInstanceData, nullptr) != napi_ok) {
    delete instance;
    ThrowNapiFailure(env, "napi_set_instance_data");
    return nullptr;
  }
  std::vector<Export> functions = {
      {"setErrorFactory", SetErrorFactory},
      {"abiVersion", AbiVersion},
      {"errorKindName", ErrorKindName},
      {"builtWithCuda", BuiltWithCuda},
      {"gpuCount", GpuCount},
  };
  AddNDArrayExports(&functions);
  AddOpExports(&functions);
  AddAutogradExports(&functions);
  AddIoExports(&functions);
  AddTestingExports(&functions);
  AddSymbolExports(&functions);
  AddExecutorExports(&functions);
  AddOptimExports(&functions);
  for (const Export& function : functions) {
    napi_value value;
    if (napi_create_function(env, function.name, NAPI_AUTO_LENGTH, function.callback, nullptr, &value) != napi_ok ||
        napi_set_named_property(env, exports, function.name, value) != napi_ok) {
      ThrowNapiFailure(env, function.name);
      return nullptr;
    }
  }
  return exports;
}

}  // namespace

CapturedError CaptureLastError() {
  CapturedError error;
  error.kind = pmx_last_error_kind();
  error.message = pmx_last_error_message();
  if (error.kind == PMX_OK) error.kind = PMX_ERROR_RUNTIME;  // A failure always has a kind.
  return error;
}

napi_value MakeError(napi_env env, const CapturedError& error) {
  napi_value message = MakeString(env, error.message.c_str());
  InstanceData* instance = Instance(env);
  napi_value factory = nullptr;
  if (instance != nullptr && instance->error_factory != nullptr &&
      napi_get_reference_value(env, instance->error_factory, &factory) == napi_ok && factory != nullptr) {
    napi_value args[3] = {MakeString(env, pmx_error_kind_name(error.kind)), MakeInt(env, error.kind), message};
    napi_value result;
    if (napi_call_function(env, Undefined(env), factory, 3, args, &result) == napi_ok) return result;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  napi_value result;
  napi_create_error(env, nullptr, message, &result);
  return result;
}

napi_value ThrowLastError(napi_env env) {
  napi_throw(env, MakeError(env, CaptureLastError()));
  return nullptr;
}

napi_value ThrowError(napi_env env, int kind, const std::string& message) {
  napi_throw(env, MakeError(env, CapturedError{kind, message}));
  return nullptr;
}

napi_value ThrowNapiFailure(napi_env env, const char* call) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info* info = nullptr;
    napi_get_last_error_info(env, &info);
    std::string message = std::string("[polymix addon] ") + call + " failed";
    if (info != nullptr && info->error_message != nullptr) message += std::string(": ") + info->error_message;
    napi_throw_error(env, nullptr, message.c_str());
  }
  return nullptr;
}

bool GetArgs(napi_env env, napi_callback_info info, size_t count, napi_value* argv, const char* function) {
  size_t given = count;
  if (napi_get_cb_info(env, info, &given, argv, nullptr, nullptr) != napi_ok) {
    ThrowNapiFailure(env, "napi_get_cb_info");
    return false;
  }
  if (given != count) {
    ThrowError(env, PMX_ERROR_TYPE, "[" + std::string(function) + "] expected " + std::to_string(count) +
                                        " argument(s), given " + std::to_string(given));
    return false;
  }
  return true;
}

bool ToDouble(napi_env env, napi_value value, const char* what, double* out) {
  if (napi_get_value_double(env, value, out) != napi_ok) {
    ThrowError(env, PMX_ERROR_TYPE, std::string("[polymix] ") + what + ": expected a number");
    return false;
  }
  return true;
}

bool ToInt64(napi_env env, napi_value value, const char* what, int64_t* out) {
  double number = 0;
  if (!ToDouble(env, value, what, &number)) return false;
  // Exact integers only: a silently truncated 2.5 or an overflowing 1e300 would be a wrong shape or index.
  if (!std::isfinite(number) || std::trunc(number) != number || std::fabs(number) > 9007199254740992.0) {
    ThrowError(env, PMX_ERROR_TYPE, std::string("[polymix] ") + what + ": expected an integer, given " +
                                        std::to_string(number));
    return false;
  }
  *out = static_cast<int64_t>(number);
  return true;
}

bool ToInt(napi_env env, napi_value value, const char* what, int* out) {
  int64_t number = 0;
  if (!ToInt64(env, value, what, &number)) return false;
  if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
    ThrowError(env, PMX_ERROR_INDEX, std::string("[polymix] ") + what + ": " + std::to_string(number) +
                                         " is out of the 32-bit range");
    return false;
  }
  *out = static_cast<int>(number);
  return true;
}

bool ToBool(napi_env env, napi_value value, const char* what, bool* out) {
  if (napi_get_value_bool(env, value, out) != napi_ok) {
    ThrowError(env, PMX_ERROR_TYPE, std::string("[polymix] ") + what + ": expected a boolean");
    return false;
  }
  return true;
}

bool ToString(napi_env env, napi_value value, const char* what, std::string* out) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) {
    ThrowError(env, PMX_ERROR_TYPE, std::string("[polymix] ") + what + ": expected a string");
    return false;
  }
  out->assign(length, '\0');
  if (napi_get_value_string_utf8(env, value, &(*out)[0], length + 1, &length) != napi_ok) {
    ThrowNapiFailure(env, "napi_get_value_string_utf8");
    return false;
  }
  if (out->find('\0') != std::string::npos) {
    ThrowError(env, PMX_ERROR_VALUE, std::string("[polymix] ") + what + ": the string contains a NUL character");
    return false;
  }
  return true;
}

// Reads a JS array's length; throws a TypeError naming `what` for anything else.
static bool ArrayLength(napi_env env, napi_value value, const char* what, uint32_t* length) {
  bool is_array = false;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array) {
    ThrowError(env, PMX_ERROR_TYPE, std::string("[polymix] ") + what + ": expected an array");
    return false;
  }
  if (napi_get_array_length(env, value, length) != napi_ok) {
    ThrowNapiFailure(env, "napi_get_array_length");
    return false;
  }
  return true;
}

// Calls `visit(i, element)` for each element of the JS array `value` (TypeError naming `what` for anything else);
// stops and returns false at the first visit that returns false (it has thrown).
template <typename Visit>
static bool ForEachElement(napi_env env, napi_value value, const char* what, Visit&& visit) {
  uint32_t length = 0;
  if (!ArrayLength(env, value, what, &length)) return false;
  for (uint32_t i = 0; i < length; ++i) {
    napi_value element;
    if (napi_get_element(env, value, i, &element) != napi_ok) {
      ThrowNapiFailure(env, "napi_get_element");
      return false;
    }
    if (!visit(i, element)) return false;
  }
  return true;
}

// Converts every element of the JS array `value` with `convert(env, element, T*)` into `out`.
template <typename T, typename Convert>
static bool ToList(napi_env env, napi_value value, const char* what, std::vector<T>* out, Convert&& convert) {
  out->clear();
  return ForEachElement(env, value, what, [&](uint32_t, napi_value element) {
    out->emplace_back();
    return convert(element, &out->back());
  });
}

bool ToStringList(napi_env env, napi_value value, const char* what, std::vector<std::string>* out) {
  return ToList(env, value, what, out, [&](napi_value element, auto* item) { return ToString(env, element, what, item); });
}

bool ToShape(napi_env env, napi_value value, const char* what, std::vector<int64_t>* out) {
  return ToList(env, value, what, out, [&](napi_value element, auto* item) { return ToInt64(env, element, what, item); });
}

bool IsNullish(napi_env env, napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  return type == napi_null || type == napi_undefined;
}

napi_value WrapHandle(napi_env env, PmxNDArrayHandle handle) {
  if (handle == nullptr) return Null(env);
  napi_value result;
  if (napi_create_external(env, handle, nullptr, nullptr, &result) != napi_ok ||
      napi_type_tag_object(env, result, &kHandleTag) != napi_ok) {
    pmx_ndarray_free(handle);  // Nobody else can reach it.
    return ThrowNapiFailure(env, "napi_create_external");
  }
  return result;
}

bool ToHandle(napi_env env, napi_value value, const char* what, bool allow_null, PmxNDArrayHandle* out) {
  *out = nullptr;
  if (allow_null && IsNullish(env, value)) return true;
  napi_valuetype type;
  bool tagged = false;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, &kHandleTag, &tagged) != napi_ok || !tagged) {
    ThrowError(env, PMX_ERROR_TYPE, std::string("[polymix] ") + what + ": expected an NDArray handle");
    return false;
  }
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok) {
    ThrowNapiFailure(env, "napi_get_value_external");
    return false;
  }
  *out = static_cast<PmxNDArrayHandle>(data);
  return true;
}

bool ToHandleList(napi_env env, napi_value value, const char* what, bool allow_null,
                  std::vector<PmxNDArrayHandle>* out) {
  return ToList(env, value, what, out, [&](napi_value element, auto* item) { return ToHandle(env, element, what, allow_null, item); });
}

napi_value WrapHandles(napi_env env, int count, const PmxNDArrayHandle* handles) {
  napi_value result = nullptr;
  bool ok = napi_create_array_with_length(env, count, &result) == napi_ok;
  for (int i = 0; i < count; ++i) {
    if (!ok) {
      pmx_ndarray_free(handles[i]);  // Wrap nothing after a failure, and leak nothing either.
      continue;
    }
    napi_value element = WrapHandle(env, handles[i]);
    ok = element != nullptr && napi_set_element(env, result, i, element) == napi_ok;
  }
  return ok ? result : ThrowNapiFailure(env, "napi_set_element");
}

// One type tag per ObjectKind: a fixed upper half and the kind in the lower half.
static napi_type_tag ObjectTag(ObjectKind kind) {
  return napi_type_tag{0x706d786f626a6563ULL, 0x74616700000000ULL + static_cast<uint64_t>(kind)};
}

// Releases a handle of `kind` that could not be handed to JS.
static void FreeObject(ObjectKind kind, void* handle) {
  switch (kind) {
    case ObjectKind::kSymbol: pmx_symbol_free(static_cast<PmxSymbolHandle>(handle)); break;
    case ObjectKind::kExecutor: pmx_executor_free(static_cast<PmxExecutorHandle>(handle)); break;
    case ObjectKind::kCachedOp: pmx_cached_op_free(static_cast<PmxCachedOpHandle>(handle)); break;
    case ObjectKind::kOptimizer: pmx_optimizer_free(static_cast<PmxOptimizerHandle>(handle)); break;
    case ObjectKind::kOptimizerState: pmx_optimizer_state_free(static_cast<PmxOptimizerStateHandle>(handle)); break;
    case ObjectKind::kLRScheduler: pmx_lr_scheduler_free(static_cast<PmxLRSchedulerHandle>(handle)); break;
    case ObjectKind::kInitializer: pmx_initializer_free(static_cast<PmxInitializerHandle>(handle)); break;
    case ObjectKind::kMetric: pmx_metric_free(static_cast<PmxMetricHandle>(handle)); break;
  }
}

napi_value WrapObject(napi_env env, ObjectKind kind, void* handle) {
  if (handle == nullptr) return Null(env);
  napi_value result;
  const napi_type_tag tag = ObjectTag(kind);
  if (napi_create_external(env, handle, nullptr, nullptr, &result) != napi_ok ||
      napi_type_tag_object(env, result, &tag) != napi_ok) {
    FreeObject(kind, handle);  // Nobody else can reach it.
    return ThrowNapiFailure(env, "napi_create_external");
  }
  return result;
}

bool ToObject(napi_env env, napi_value value, ObjectKind kind, const char* what, bool allow_null, void** out) {
  *out = nullptr;
  if (allow_null && IsNullish(env, value)) return true;
  napi_valuetype type;
  bool tagged = false;
  const napi_type_tag tag = ObjectTag(kind);
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, &tag, &tagged) != napi_ok || !tagged) {
    static const char* const kNames[] = {"Symbol", "Executor", "CachedOp", "Optimizer", "OptimizerState",
                                         "LRScheduler", "Initializer", "Metric"};
    ThrowError(env, PMX_ERROR_TYPE,
               std::string("[polymix] ") + what + ": expected a " + kNames[static_cast<int>(kind)] + " handle");
    return false;
  }
  if (napi_get_value_external(env, value, out) != napi_ok) {
    ThrowNapiFailure(env, "napi_get_value_external");
    return false;
  }
  return true;
}

bool ToObjectList(napi_env env, napi_value value, ObjectKind kind, const char* what, std::vector<void*>* out) {
  return ToList(env, value, what, out, [&](napi_value element, auto* item) { return ToObject(env, element, kind, what, false, item); });
}

napi_value MakeStringArray(napi_env env, int count, const char* const* strings) {
  napi_value result;
  PMX_JS_CALL(env, napi_create_array_with_length(env, count, &result));
  for (int i = 0; i < count; ++i) {
    napi_value element = strings[i] == nullptr ? Null(env) : MakeString(env, strings[i]);
    if (element == nullptr) return nullptr;
    PMX_JS_CALL(env, napi_set_element(env, result, i, element));
  }
  return result;
}

napi_value MakeNumberArray(napi_env env, const std::vector<double>& values) {
  napi_value result;
  PMX_JS_CALL(env, napi_create_array_with_length(env, values.size(), &result));
  for (size_t i = 0; i < values.size(); ++i) {
    napi_value element;
    PMX_JS_CALL(env, napi_create_double(env, values[i], &element));
    PMX_JS_CALL(env, napi_set_element(env, result, static_cast<uint32_t>(i), element));
  }
  return result;
}

bool ToDoubleList(napi_env env, napi_value value, const char* what, std::vector<double>* out) {
  return ToList(env, value, what, out, [&](napi_value element, auto* item) { return ToDouble(env, element, what, item); });
}

bool ToIntList(napi_env env, napi_value value, const char* what, std::vector<int>* out) {
  return ToList(env, value, what, out, [&](napi_value element, auto* item) { return ToInt(env, element, what, item); });
}

bool ToShapeList(napi_env env, napi_value value, const char* what, std::vector<int>* ndims,
                 std::vector<int64_t>* dims) {
  ndims->clear();
  dims->clear();
  return ForEachElement(env, value, what, [&](uint32_t, napi_value element) {
    std::vector<int64_t> shape;
    if (!ToShape(env, element, what, &shape)) return false;
    ndims->push_back(static_cast<int>(shape.size()));
    dims->insert(dims->end(), shape.begin(), shape.end());
    return true;
  });
}

std::vector<const char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<const char*> pointers;
  pointers.reserve(strings.size());
  for (const std::string& text : strings) pointers.push_back(text.c_str());
  return pointers;
}

bool ToTypedArrayBytes(napi_env env, napi_value value, const char* what, void** data, size_t* nbytes) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) {
    ThrowError(env, PMX_ERROR_TYPE, std::string("[polymix] ") + what + ": expected a TypedArray");
    return false;
  }
  napi_typedarray_type type;
  size_t length = 0;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, value, &type, &length, data, &buffer, &offset) != napi_ok) {
    ThrowNapiFailure(env, "napi_get_typedarray_info");
    return false;
  }
  size_t element = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: element = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: element = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: element = 8; break;
    default: element = 1; break;
  }
  *nbytes = length * element;
  return true;
}

napi_value MakeInt(napi_env env, int64_t value) {
  napi_value result;
  if (napi_create_int64(env, value, &result) != napi_ok) return ThrowNapiFailure(env, "napi_create_int64");
  return result;
}

napi_value MakeBool(napi_env env, bool value) {
  napi_value result;
  if (napi_get_boolean(env, value, &result) != napi_ok) return ThrowNapiFailure(env, "napi_get_boolean");
  return result;
}

napi_value MakeString(napi_env env, const char* text) {
  napi_value result;
  if (napi_create_string_utf8(env, text == nullptr ? "" : text, NAPI_AUTO_LENGTH, &result) != napi_ok) {
    return ThrowNapiFailure(env, "napi_create_string_utf8");
  }
  return result;
}

napi_value Undefined(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

napi_value Null(napi_env env) {
  napi_value result;
  napi_get_null(env, &result);
  return result;
}

}  // namespace pmx_js

NAPI_MODULE_INIT() { return pmx_js::Init(env, exports); }
