// The optim group of the C ABI for JS: optimizers and their states, learning-rate schedules, initializers and
// metrics. Hyper-parameters travel as MXNet's strings (lib/optim.js formats them).
#include "bindings/js/src/addon.h"

namespace pmx_js {
namespace {

// Reads (name, keys, values) arguments starting at argv[0]: a registered name and string keyword arguments.
bool ToNamedKwargs(napi_env env, napi_value* argv, const char* function, std::string* name,
                   std::vector<std::string>* keys, std::vector<std::string>* values) {
  if (!ToString(env, argv[0], "name", name) || !ToStringList(env, argv[1], "parameter names", keys) ||
      !ToStringList(env, argv[2], "parameter values", values)) {
    return false;
  }
  if (keys->size() != values->size()) {
    ThrowError(env, PMX_ERROR_VALUE, std::string("[") + function + "] one value per parameter name");
    return false;
  }
  return true;
}

// A creation function of the form create(name, num_params, keys, values, out).
template <typename Handle>
napi_value CreateNamed(napi_env env, napi_callback_info info, const char* function, ObjectKind kind,
                       int (*create)(const char*, int, const char* const*, const char* const*, Handle*)) {
  napi_value argv[3];
  std::string name;
  std::vector<std::string> keys, values;
  if (!GetArgs(env, info, 3, argv, function) || !ToNamedKwargs(env, argv, function, &name, &keys, &values)) {
    return nullptr;
  }
  const auto key_pointers = CStrings(keys), value_pointers = CStrings(values);
  Handle out = nullptr;
  if (create(name.c_str(), static_cast<int>(keys.size()), key_pointers.data(), value_pointers.data(), &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapObject(env, kind, out);
}

// A free function of one handle of `kind`.
template <typename Handle>
napi_value FreeTyped(napi_env env, napi_callback_info info, const char* function, ObjectKind kind,
                     int (*release)(Handle)) {
  napi_value argv[1];
  Handle handle = nullptr;
  if (!GetArgs(env, info, 1, argv, function) || !ToTyped(env, argv[0], kind, "handle", false, &handle)) return nullptr;
  if (release(handle) != 0) return ThrowLastError(env);
  return Undefined(env);
}

bool ToOptimizer(napi_env env, napi_value value, PmxOptimizerHandle* out) {
  return ToTyped(env, value, ObjectKind::kOptimizer, "optimizer", false, out);
}

// ---- Optimizers ----------------------------------------------------------------------------------------------

napi_value OptimizerCreate(napi_env env, napi_callback_info info) {
  return CreateNamed(env, info, "createOptimizer", ObjectKind::kOptimizer, pmx_optimizer_create);
}

// optimizerSetParam(optimizer, key, value)
napi_value OptimizerSetParam(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxOptimizerHandle optimizer = nullptr;
  std::string key, value;
  if (!GetArgs(env, info, 3, argv, "optimizerSetParam") || !ToOptimizer(env, argv[0], &optimizer) ||
      !ToString(env, argv[1], "key", &key) || !ToString(env, argv[2], "value", &value)) {
    return nullptr;
  }
  if (pmx_optimizer_set_param(optimizer, key.c_str(), value.c_str()) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// optimizerGetParam(optimizer, key) -> string
napi_value OptimizerGetParam(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxOptimizerHandle optimizer = nullptr;
  std::string key;
  if (!GetArgs(env, info, 2, argv, "optimizerGetParam") || !ToOptimizer(env, argv[0], &optimizer) ||
      !ToString(env, argv[1], "key", &key)) {
    return nullptr;
  }
  const char* out = nullptr;
  if (pmx_optimizer_get_param(optimizer, key.c_str(), &out) != 0) return ThrowLastError(env);
  return MakeString(env, out);
}

// optimizerSetLrScheduler(optimizer, scheduler | null)
napi_value OptimizerSetLrScheduler(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxOptimizerHandle optimizer = nullptr;
  PmxLRSchedulerHandle scheduler = nullptr;
  if (!GetArgs(env, info, 2, argv, "optimizerSetLrScheduler") || !ToOptimizer(env, argv[0], &optimizer) ||
      !ToTyped(env, argv[1], ObjectKind::kLRScheduler, "lr_scheduler", true, &scheduler)) {
    return nullptr;
  }
  if (pmx_optimizer_set_lr_scheduler(optimizer, scheduler) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// optimizerCounters(optimizer) -> [current learning rate, number of updates]
napi_value OptimizerCounters(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxOptimizerHandle optimizer = nullptr;
  if (!GetArgs(env, info, 1, argv, "optimizerCounters") || !ToOptimizer(env, argv[0], &optimizer)) return nullptr;
  double lr = 0;
  int64_t updates = 0;
  if (pmx_optimizer_get_learning_rate(optimizer, &lr) != 0 || pmx_optimizer_get_num_update(optimizer, &updates) != 0) {
    return ThrowLastError(env);
  }
  return MakeNumberArray(env, {lr, static_cast<double>(updates)});
}

// optimizerSetParamNames(optimizer, indices, names)
napi_value OptimizerSetParamNames(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxOptimizerHandle optimizer = nullptr;
  std::vector<int> indices;
  std::vector<std::string> names;
  if (!GetArgs(env, info, 3, argv, "optimizerSetParamNames") || !ToOptimizer(env, argv[0], &optimizer) ||
      !ToIntList(env, argv[1], "indices", &indices) || !ToStringList(env, argv[2], "names", &names)) {
    return nullptr;
  }
  if (indices.size() != names.size()) return ThrowError(env, PMX_ERROR_VALUE, "[setParamNames] one name per index");
  const auto name_pointers = CStrings(names);
  if (pmx_optimizer_set_param_names(optimizer, static_cast<int>(indices.size()), indices.data(),
                                    name_pointers.data()) != 0) {
    return ThrowLastError(env);
  }
  return Undefined(env);
}

// optimizerSetMult(optimizer, which ('lr' | 'wd'), names, nameMults, indices, indexMults)
napi_value OptimizerSetMult(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  PmxOptimizerHandle optimizer = nullptr;
  std::string which;
  std::vector<std::string> names;
  std::vector<double> name_mults, index_mults;
  std::vector<int> indices;
  if (!GetArgs(env, info, 6, argv, "optimizerSetMult") || !ToOptimizer(env, argv[0], &optimizer) ||
      !ToString(env, argv[1], "which", &which) || !ToStringList(env, argv[2], "names", &names) ||
      !ToDoubleList(env, argv[3], "multipliers", &name_mults) || !ToIntList(env, argv[4], "indices", &indices) ||
      !ToDoubleList(env, argv[5], "multipliers", &index_mults)) {
    return nullptr;
  }
  if (names.size() != name_mults.size() || indices.size() != index_mults.size()) {
    return ThrowError(env, PMX_ERROR_VALUE, "[set_" + which + "_mult] one multiplier per name or index");
  }
  const auto name_pointers = CStrings(names);
  auto setter = which == "lr" ? pmx_optimizer_set_lr_mult : pmx_optimizer_set_wd_mult;
  if (setter(optimizer, static_cast<int>(names.size()), name_pointers.data(), name_mults.data(),
             static_cast<int>(indices.size()), indices.data(), index_mults.data()) != 0) {
    return ThrowLastError(env);
  }
  return Undefined(env);
}

// optimizerCreateState(optimizer, index, weight) -> state
napi_value OptimizerCreateState(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxOptimizerHandle optimizer = nullptr;
  int index = 0;
  PmxNDArrayHandle weight = nullptr;
  if (!GetArgs(env, info, 3, argv, "optimizerCreateState") || !ToOptimizer(env, argv[0], &optimizer) ||
      !ToInt(env, argv[1], "index", &index) || !ToHandle(env, argv[2], "weight", false, &weight)) {
    return nullptr;
  }
  PmxOptimizerStateHandle out = nullptr;
  if (pmx_optimizer_create_state(optimizer, index, weight, &out) != 0) return ThrowLastError(env);
  return WrapObject(env, ObjectKind::kOptimizerState, out);
}

// optimizerStateArrays(state) -> [array handles..., weight32 handle | null] (the master copy last).
napi_value OptimizerStateArrays(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxOptimizerStateHandle state = nullptr;
  if (!GetArgs(env, info, 1, argv, "optimizerStateArrays") ||
      !ToTyped(env, argv[0], ObjectKind::kOptimizerState, "state", false, &state)) {
    return nullptr;
  }
  int count = 0;
  PmxNDArrayHandle* arrays = nullptr;
  PmxNDArrayHandle weight32 = nullptr;
  if (pmx_optimizer_state_get_arrays(state, &count, &arrays, &weight32) != 0) return ThrowLastError(env);
  std::vector<PmxNDArrayHandle> all(arrays, arrays + count);
  all.push_back(weight32);
  return WrapHandles(env, static_cast<int>(all.size()), all.data());
}

// optimizerUpdate(optimizer, index, weight, grad, state)
napi_value OptimizerUpdate(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  PmxOptimizerHandle optimizer = nullptr;
  int index = 0;
  PmxNDArrayHandle weight = nullptr, grad = nullptr;
  PmxOptimizerStateHandle state = nullptr;
  if (!GetArgs(env, info, 5, argv, "optimizerUpdate") || !ToOptimizer(env, argv[0], &optimizer) ||
      !ToInt(env, argv[1], "index", &index) || !ToHandle(env, argv[2], "weight", false, &weight) ||
      !ToHandle(env, argv[3], "grad", false, &grad) ||
      !ToTyped(env, argv[4], ObjectKind::kOptimizerState, "state", false, &state)) {
    return nullptr;
  }
  if (pmx_optimizer_update(optimizer, index, weight, grad, state) != 0) return ThrowLastError(env);
  return Undefined(env);
}

napi_value OptimizerStateFree(napi_env env, napi_callback_info info) {
  return FreeTyped(env, info, "optimizerStateFree", ObjectKind::kOptimizerState, pmx_optimizer_state_free);
}

napi_value OptimizerFree(napi_env env, napi_callback_info info) {
  return FreeTyped(env, info, "optimizerFree", ObjectKind::kOptimizer, pmx_optimizer_free);
}

// ---- Learning-rate schedules ---------------------------------------------------------------------------------

napi_value LrSchedulerCreate(napi_env env, napi_callback_info info) {
  return CreateNamed(env, info, "createLRScheduler", ObjectKind::kLRScheduler, pmx_lr_scheduler_create);
}

// lrSchedulerGetLr(scheduler, numUpdate) -> number
napi_value LrSchedulerGetLr(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxLRSchedulerHandle scheduler = nullptr;
  int64_t num_update = 0;
  if (!GetArgs(env, info, 2, argv, "lrSchedulerGetLr") ||
      !ToTyped(env, argv[0], ObjectKind::kLRScheduler, "scheduler", false, &scheduler) ||
      !ToInt64(env, argv[1], "numUpdate", &num_update)) {
    return nullptr;
  }
  double lr = 0;
  if (pmx_lr_scheduler_get_lr(scheduler, num_update, &lr) != 0) return ThrowLastError(env);
  napi_value result;
  PMX_JS_CALL(env, napi_create_double(env, lr, &result));
  return result;
}

napi_value LrSchedulerFree(napi_env env, napi_callback_info info) {
  return FreeTyped(env, info, "lrSchedulerFree", ObjectKind::kLRScheduler, pmx_lr_scheduler_free);
}

// ---- Initializers --------------------------------------------------------------------------------------------

napi_value InitializerCreate(napi_env env, napi_callback_info info) {
  return CreateNamed(env, info, "createInitializer", ObjectKind::kInitializer, pmx_initializer_create);
}

// initializerCreateMixed(patterns, initializers) -> initializer
napi_value InitializerCreateMixed(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  std::vector<std::string> patterns;
  std::vector<void*> raw;
  if (!GetArgs(env, info, 2, argv, "initializerCreateMixed") || !ToStringList(env, argv[0], "patterns", &patterns) ||
      !ToObjectList(env, argv[1], ObjectKind::kInitializer, "initializers", &raw)) {
    return nullptr;
  }
  if (patterns.size() != raw.size()) return ThrowError(env, PMX_ERROR_VALUE, "[Mixed] one initializer per pattern");
  std::vector<PmxInitializerHandle> initializers;
  for (void* handle : raw) initializers.push_back(static_cast<PmxInitializerHandle>(handle));
  const auto pattern_pointers = CStrings(patterns);
  PmxInitializerHandle out = nullptr;
  if (pmx_initializer_create_mixed(static_cast<int>(patterns.size()), pattern_pointers.data(), initializers.data(),
                                   &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapObject(env, ObjectKind::kInitializer, out);
}

// initializerDumps(initializer) -> string
napi_value InitializerDumps(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxInitializerHandle initializer = nullptr;
  if (!GetArgs(env, info, 1, argv, "initializerDumps") ||
      !ToTyped(env, argv[0], ObjectKind::kInitializer, "initializer", false, &initializer)) {
    return nullptr;
  }
  const char* out = nullptr;
  if (pmx_initializer_dumps(initializer, &out) != 0) return ThrowLastError(env);
  return MakeString(env, out);
}

// initializerApply(initializer, name, initAttr | null, array)
napi_value InitializerApply(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  PmxInitializerHandle initializer = nullptr;
  std::string name, init_attr;
  PmxNDArrayHandle array = nullptr;
  if (!GetArgs(env, info, 4, argv, "initializerApply") ||
      !ToTyped(env, argv[0], ObjectKind::kInitializer, "initializer", false, &initializer) ||
      !ToString(env, argv[1], "name", &name) ||
      (!IsNullish(env, argv[2]) && !ToString(env, argv[2], "initAttr", &init_attr)) ||
      !ToHandle(env, argv[3], "array", false, &array)) {
    return nullptr;
  }
  if (pmx_initializer_apply(initializer, name.c_str(), init_attr.c_str(), array) != 0) return ThrowLastError(env);
  return Undefined(env);
}

napi_value InitializerFree(napi_env env, napi_callback_info info) {
  return FreeTyped(env, info, "initializerFree", ObjectKind::kInitializer, pmx_initializer_free);
}

// ---- Metrics -------------------------------------------------------------------------------------------------

napi_value MetricCreate(napi_env env, napi_callback_info info) {
  return CreateNamed(env, info, "createMetric", ObjectKind::kMetric, pmx_metric_create);
}

bool ToMetric(napi_env env, napi_value value, const char* what, PmxMetricHandle* out) {
  return ToTyped(env, value, ObjectKind::kMetric, what, false, out);
}

// metricCompositeAdd(composite, child)
napi_value MetricCompositeAdd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  PmxMetricHandle composite = nullptr, child = nullptr;
  if (!GetArgs(env, info, 2, argv, "metricCompositeAdd") || !ToMetric(env, argv[0], "composite", &composite) ||
      !ToMetric(env, argv[1], "child", &child)) {
    return nullptr;
  }
  if (pmx_metric_composite_add(composite, child) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// metricUpdate(metric, labels, preds)
napi_value MetricUpdate(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  PmxMetricHandle metric = nullptr;
  std::vector<PmxNDArrayHandle> labels, preds;
  if (!GetArgs(env, info, 3, argv, "metricUpdate") || !ToMetric(env, argv[0], "metric", &metric) ||
      !ToHandleList(env, argv[1], "labels", false, &labels) || !ToHandleList(env, argv[2], "preds", false, &preds)) {
    return nullptr;
  }
  if (pmx_metric_update(metric, static_cast<int>(labels.size()), labels.data(), static_cast<int>(preds.size()),
                        preds.data()) != 0) {
    return ThrowLastError(env);
  }
  return Undefined(env);
}

// metricGet(metric) -> [names, values]
napi_value MetricGet(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxMetricHandle metric = nullptr;
  if (!GetArgs(env, info, 1, argv, "metricGet") || !ToMetric(env, argv[0], "metric", &metric)) return nullptr;
  int count = 0;
  const char* const* names = nullptr;
  const double* values = nullptr;
  if (pmx_metric_get(metric, &count, &names, &values) != 0) return ThrowLastError(env);
  napi_value js_names = MakeStringArray(env, count, names);
  napi_value js_values = MakeNumberArray(env, std::vector<double>(values, values + count));
  if (js_names == nullptr || js_values == nullptr) return nullptr;
  napi_value result;
  PMX_JS_CALL(env, napi_create_array_with_length(env, 2, &result));
  PMX_JS_CALL(env, napi_set_element(env, result, 0, js_names));
  PMX_JS_CALL(env, napi_set_element(env, result, 1, js_values));
  return result;
}

// metricReset(metric)
napi_value MetricReset(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxMetricHandle metric = nullptr;
  if (!GetArgs(env, info, 1, argv, "metricReset") || !ToMetric(env, argv[0], "metric", &metric)) return nullptr;
  if (pmx_metric_reset(metric) != 0) return ThrowLastError(env);
  return Undefined(env);
}

napi_value MetricFree(napi_env env, napi_callback_info info) {
  return FreeTyped(env, info, "metricFree", ObjectKind::kMetric, pmx_metric_free);
}

}  // namespace

void AddOptimExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"optimizerCreate", OptimizerCreate},
                                      {"optimizerSetParam", OptimizerSetParam},
                                      {"optimizerGetParam", OptimizerGetParam},
                                      {"optimizerSetLrScheduler", OptimizerSetLrScheduler},
                                      {"optimizerCounters", OptimizerCounters},
                                      {"optimizerSetParamNames", OptimizerSetParamNames},
                                      {"optimizerSetMult", OptimizerSetMult},
                                      {"optimizerCreateState", OptimizerCreateState},
                                      {"optimizerStateArrays", OptimizerStateArrays},
                                      {"optimizerUpdate", OptimizerUpdate},
                                      {"optimizerStateFree", OptimizerStateFree},
                                      {"optimizerFree", OptimizerFree},
                                      {"lrSchedulerCreate", LrSchedulerCreate},
                                      {"lrSchedulerGetLr", LrSchedulerGetLr},
                                      {"lrSchedulerFree", LrSchedulerFree},
                                      {"initializerCreate", InitializerCreate},
                                      {"initializerCreateMixed", InitializerCreateMixed},
                                      {"initializerDumps", InitializerDumps},
                                      {"initializerApply", InitializerApply},
                                      {"initializerFree", InitializerFree},
                                      {"metricCreate", MetricCreate},
                                      {"metricCompositeAdd", MetricCompositeAdd},
                                      {"metricUpdate", MetricUpdate},
                                      {"metricGet", MetricGet},
                                      {"metricReset", MetricReset},
                                      {"metricFree", MetricFree},
                                  });
}

}  // namespace pmx_js
