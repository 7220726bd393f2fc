// The C ABI: optimizers, learning-rate schedules, initializers and metrics (core/optim).
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/c_api/internal/c_api_internal.h"
#include "core/optim/initializer.h"
#include "core/optim/lr_scheduler.h"
#include "core/optim/metric.h"
#include "core/optim/optimizer.h"

// The object behind a PmxOptimizerHandle.
struct PmxOptimizer {
  std::unique_ptr<pmx::optim::Optimizer> optimizer;
};

// The object behind a PmxOptimizerStateHandle.
struct PmxOptimizerState {
  pmx::optim::OptimizerState state;
};

// The object behind a PmxLRSchedulerHandle (shared with the optimizers it is attached to).
struct PmxLRScheduler {
  std::shared_ptr<pmx::optim::LRScheduler> scheduler;
};

// The object behind a PmxInitializerHandle (shared with the Mixed initializers that use it).
struct PmxInitializer {
  std::shared_ptr<const pmx::optim::Initializer> initializer;
};

// The object behind a PmxMetricHandle (shared with the composites it was added to).
struct PmxMetric {
  std::shared_ptr<pmx::optim::EvalMetric> metric;
};

using pmx::NDArray;
using pmx::c_api::ArrayOf;
using pmx::c_api::CheckNotNull;
using pmx::c_api::NewHandle;

namespace {

// The keyword arguments keys[i] = values[i]; ValueError naming `function` for bad pointers.
pmx::optim::KwArgs KwArgsFrom(int count, const char* const* keys, const char* const* values, const char* function) {
  PMX_CHECK(count >= 0, kValueError, "[%s] num_params is %d: expected >= 0", function, count);
  pmx::optim::KwArgs kwargs;
  if (count == 0) return kwargs;
  CheckNotNull(keys, function, "param_keys");
  CheckNotNull(values, function, "param_values");
  for (int i = 0; i < count; ++i) {
    CheckNotNull(keys[i], function, "param_keys[i]");
    CheckNotNull(values[i], function, "param_values[i]");
    kwargs[keys[i]] = values[i];
  }
  return kwargs;
}

// The optimizer behind `handle`; ValueError naming `function` for NULL.
pmx::optim::Optimizer& OptimizerOf(PmxOptimizerHandle handle, const char* function) {
  CheckNotNull(handle, function, "optimizer");
  return *handle->optimizer;
}

// The metric behind `handle`; ValueError naming `function` for NULL.
pmx::optim::EvalMetric& MetricOf(PmxMetricHandle handle, const char* function) {
  CheckNotNull(handle, function, "metric");
  return *handle->metric;
}

// Multipliers keyed by name and by index from parallel C arrays.
void MultipliersFrom(int num_names, const char* const* names, const double* name_mults, int num_indices,
                     const int* indices, const double* index_mults, const char* function,
                     std::map<std::string, double>* by_name, std::map<int, double>* by_index) {
  PMX_CHECK(num_names >= 0 && num_indices >= 0, kValueError, "[%s] counts must be >= 0, given %d and %d", function,
            num_names, num_indices);
  if (num_names > 0) {
    CheckNotNull(names, function, "names");
    CheckNotNull(name_mults, function, "name_mults");
  }
  if (num_indices > 0) {
    CheckNotNull(indices, function, "indices");
    CheckNotNull(index_mults, function, "index_mults");
  }
  for (int i = 0; i < num_names; ++i) {
    CheckNotNull(names[i], function, "names[i]");
    (*by_name)[names[i]] = name_mults[i];
  }
  for (int i = 0; i < num_indices; ++i) (*by_index)[indices[i]] = index_mults[i];
}

// The arrays given as `count` handles (ValueError for NULL pointers or handles).
std::vector<NDArray> ArraysFrom(int count, const PmxNDArrayHandle* handles, const char* function, const char* what) {
  PMX_CHECK(count >= 0, kValueError, "[%s] the number of %s is %d: expected >= 0", function, what, count);
  if (count > 0) CheckNotNull(handles, function, what);
  std::vector<NDArray> arrays;
  for (int i = 0; i < count; ++i) arrays.push_back(ArrayOf(handles[i], function));
  return arrays;
}

}  // namespace

extern "C" {

// ---- Optimizers ---------------------------------------------------------------------------------------

int pmx_optimizer_create(const char* name, int num_params, const char* const* param_keys,
                         const char* const* param_values, PmxOptimizerHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(name, "pmx_optimizer_create", "name");
  CheckNotNull(out, "pmx_optimizer_create", "out");
  auto optimizer = pmx::optim::CreateOptimizer(
      name, KwArgsFrom(num_params, param_keys, param_values, "pmx_optimizer_create"));
  *out = new PmxOptimizer{std::move(optimizer)};
  PMX_API_END();
}

int pmx_optimizer_set_param(PmxOptimizerHandle optimizer, const char* key, const char* value) {
  PMX_API_BEGIN();
  CheckNotNull(key, "pmx_optimizer_set_param", "key");
  CheckNotNull(value, "pmx_optimizer_set_param", "value");
  OptimizerOf(optimizer, "pmx_optimizer_set_param").SetParam(key, value);
  PMX_API_END();
}

int pmx_optimizer_get_param(PmxOptimizerHandle optimizer, const char* key, const char** out) {
  PMX_API_BEGIN();
  CheckNotNull(key, "pmx_optimizer_get_param", "key");
  CheckNotNull(out, "pmx_optimizer_get_param", "out");
  thread_local std::string text;
  text = OptimizerOf(optimizer, "pmx_optimizer_get_param").GetParam(key);
  *out = text.c_str();
  PMX_API_END();
}

int pmx_optimizer_set_lr_scheduler(PmxOptimizerHandle optimizer, PmxLRSchedulerHandle scheduler) {
  PMX_API_BEGIN();
  OptimizerOf(optimizer, "pmx_optimizer_set_lr_scheduler").SetLRScheduler(scheduler ? scheduler->scheduler : nullptr);
  PMX_API_END();
}

int pmx_optimizer_get_learning_rate(PmxOptimizerHandle optimizer, double* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_optimizer_get_learning_rate", "out");
  *out = OptimizerOf(optimizer, "pmx_optimizer_get_learning_rate").CurrentLearningRate();
  PMX_API_END();
}

int pmx_optimizer_get_num_update(PmxOptimizerHandle optimizer, int64_t* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_optimizer_get_num_update", "out");
  *out = OptimizerOf(optimizer, "pmx_optimizer_get_num_update").num_update();
  PMX_API_END();
}

int pmx_optimizer_set_param_names(PmxOptimizerHandle optimizer, int count, const int* indices,
                                  const char* const* names) {
  PMX_API_BEGIN();
  const char* function = "pmx_optimizer_set_param_names";
  PMX_CHECK(count >= 0, kValueError, "[%s] count is %d: expected >= 0", function, count);
  if (count > 0) {
    CheckNotNull(indices, function, "indices");
    CheckNotNull(names, function, "names");
  }
  std::map<int, std::string> index_to_name;
  for (int i = 0; i < count; ++i) {
    CheckNotNull(names[i], function, "names[i]");
    index_to_name[indices[i]] = names[i];
  }
  OptimizerOf(optimizer, function).SetParamNames(std::move(index_to_name));
  PMX_API_END();
}

int pmx_optimizer_set_lr_mult(PmxOptimizerHandle optimizer, int num_names, const char* const* names,
                              const double* name_mults, int num_indices, const int* indices,
                              const double* index_mults) {
  PMX_API_BEGIN();
  std::map<std::string, double> by_name;
  std::map<int, double> by_index;
  MultipliersFrom(num_names, names, name_mults, num_indices, indices, index_mults, "pmx_optimizer_set_lr_mult",
                  &by_name, &by_index);
  OptimizerOf(optimizer, "pmx_optimizer_set_lr_mult").SetLrMult(std::move(by_name), std::move(by_index));
  PMX_API_END();
}

int pmx_optimizer_set_wd_mult(PmxOptimizerHandle optimizer, int num_names, const char* const* names,
                              const double* name_mults, int num_indices, const int* indices,
                              const double* index_mults) {
  PMX_API_BEGIN();
  std::map<std::string, double> by_name;
  std::map<int, double> by_index;
  MultipliersFrom(num_names, names, name_mults, num_indices, indices, index_mults, "pmx_optimizer_set_wd_mult",
                  &by_name, &by_index);
  OptimizerOf(optimizer, "pmx_optimizer_set_wd_mult").SetWdMult(by_name, std::move(by_index));
  PMX_API_END();
}

int pmx_optimizer_create_state(PmxOptimizerHandle optimizer, int index, PmxNDArrayHandle weight,
                               PmxOptimizerStateHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_optimizer_create_state", "out");
  pmx::optim::OptimizerState state =
      OptimizerOf(optimizer, "pmx_optimizer_create_state").CreateState(index, ArrayOf(weight, "pmx_optimizer_create_state"));
  *out = new PmxOptimizerState{std::move(state)};
  PMX_API_END();
}

int pmx_optimizer_state_get_arrays(PmxOptimizerStateHandle state, int* out_count, PmxNDArrayHandle** out_arrays,
                                   PmxNDArrayHandle* out_weight32) {
  PMX_API_BEGIN();
  const char* function = "pmx_optimizer_state_get_arrays";
  CheckNotNull(state, function, "state");
  CheckNotNull(out_count, function, "out_count");
  CheckNotNull(out_arrays, function, "out_arrays");
  CheckNotNull(out_weight32, function, "out_weight32");
  thread_local std::vector<PmxNDArrayHandle> handles;
  handles.clear();
  for (const NDArray& array : state->state.arrays) handles.push_back(NewHandle(array));
  *out_count = static_cast<int>(handles.size());
  *out_arrays = handles.data();
  *out_weight32 = state->state.weight32.is_none() ? nullptr : NewHandle(state->state.weight32);
  PMX_API_END();
}

int pmx_optimizer_update(PmxOptimizerHandle optimizer, int index, PmxNDArrayHandle weight, PmxNDArrayHandle grad,
                         PmxOptimizerStateHandle state) {
  PMX_API_BEGIN();
  const char* function = "pmx_optimizer_update";
  CheckNotNull(state, function, "state");
  OptimizerOf(optimizer, function).Update(index, ArrayOf(weight, function), ArrayOf(grad, function), &state->state);
  PMX_API_END();
}

int pmx_optimizer_state_free(PmxOptimizerStateHandle state) {
  PMX_API_BEGIN();
  delete state;
  PMX_API_END();
}

int pmx_optimizer_free(PmxOptimizerHandle optimizer) {
  PMX_API_BEGIN();
  delete optimizer;
  PMX_API_END();
}

// ---- Learning-rate schedules ----------------------------------------------------------------------------

int pmx_lr_scheduler_create(const char* name, int num_params, const char* const* param_keys,
                            const char* const* param_values, PmxLRSchedulerHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(name, "pmx_lr_scheduler_create", "name");
  CheckNotNull(out, "pmx_lr_scheduler_create", "out");
  std::shared_ptr<pmx::optim::LRScheduler> scheduler = pmx::optim::CreateLRScheduler(
      name, KwArgsFrom(num_params, param_keys, param_values, "pmx_lr_scheduler_create"));
  *out = new PmxLRScheduler{std::move(scheduler)};
  PMX_API_END();
}

int pmx_lr_scheduler_get_lr(PmxLRSchedulerHandle scheduler, int64_t num_update, double* out) {
  PMX_API_BEGIN();
  CheckNotNull(scheduler, "pmx_lr_scheduler_get_lr", "scheduler");
  CheckNotNull(out, "pmx_lr_scheduler_get_lr", "out");
  *out = (*scheduler->scheduler)(num_update);
  PMX_API_END();
}

int pmx_lr_scheduler_free(PmxLRSchedulerHandle scheduler) {
  PMX_API_BEGIN();
  delete scheduler;
  PMX_API_END();
}

// ---- Initializers -----------------------------------------------------------------------------------------

int pmx_initializer_create(const char* name_or_json, int num_params, const char* const* param_keys,
                           const char* const* param_values, PmxInitializerHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(name_or_json, "pmx_initializer_create", "name_or_json");
  CheckNotNull(out, "pmx_initializer_create", "out");
  std::shared_ptr<const pmx::optim::Initializer> initializer = pmx::optim::CreateInitializer(
      name_or_json, KwArgsFrom(num_params, param_keys, param_values, "pmx_initializer_create"));
  *out = new PmxInitializer{std::move(initializer)};
  PMX_API_END();
}

int pmx_initializer_create_mixed(int count, const char* const* patterns, const PmxInitializerHandle* initializers,
                                 PmxInitializerHandle* out) {
  PMX_API_BEGIN();
  const char* function = "pmx_initializer_create_mixed";
  CheckNotNull(out, function, "out");
  PMX_CHECK(count >= 0, kValueError, "[%s] count is %d: expected >= 0", function, count);
  if (count > 0) {
    CheckNotNull(patterns, function, "patterns");
    CheckNotNull(initializers, function, "initializers");
  }
  std::vector<std::string> pattern_list;
  std::vector<std::shared_ptr<const pmx::optim::Initializer>> initializer_list;
  for (int i = 0; i < count; ++i) {
    CheckNotNull(patterns[i], function, "patterns[i]");
    CheckNotNull(initializers[i], function, "initializers[i]");
    pattern_list.push_back(patterns[i]);
    initializer_list.push_back(initializers[i]->initializer);
  }
  auto mixed = std::make_shared<pmx::optim::Mixed>(std::move(pattern_list), std::move(initializer_list));
  *out = new PmxInitializer{std::move(mixed)};
  PMX_API_END();
}

int pmx_initializer_dumps(PmxInitializerHandle initializer, const char** out) {
  PMX_API_BEGIN();
  CheckNotNull(initializer, "pmx_initializer_dumps", "initializer");
  CheckNotNull(out, "pmx_initializer_dumps", "out");
  thread_local std::string text;
  text = initializer->initializer->Dumps();
  *out = text.c_str();
  PMX_API_END();
}

int pmx_initializer_apply(PmxInitializerHandle initializer, const char* name, const char* init_attr,
                          PmxNDArrayHandle array) {
  PMX_API_BEGIN();
  const char* function = "pmx_initializer_apply";
  CheckNotNull(initializer, function, "initializer");
  CheckNotNull(name, function, "name");
  pmx::optim::InitDesc desc{name, {}};
  if (init_attr != nullptr && init_attr[0] != '\0') desc.attrs["__init__"] = init_attr;
  initializer->initializer->Apply(desc, ArrayOf(array, function));
  PMX_API_END();
}

int pmx_initializer_free(PmxInitializerHandle initializer) {
  PMX_API_BEGIN();
  delete initializer;
  PMX_API_END();
}

// ---- Metrics ------------------------------------------------------------------------------------------------

int pmx_metric_create(const char* name, int num_params, const char* const* param_keys,
                      const char* const* param_values, PmxMetricHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(name, "pmx_metric_create", "name");
  CheckNotNull(out, "pmx_metric_create", "out");
  std::shared_ptr<pmx::optim::EvalMetric> metric =
      pmx::optim::CreateMetric(name, KwArgsFrom(num_params, param_keys, param_values, "pmx_metric_create"));
  *out = new PmxMetric{std::move(metric)};
  PMX_API_END();
}

int pmx_metric_composite_add(PmxMetricHandle composite, PmxMetricHandle child) {
  PMX_API_BEGIN();
  const char* function = "pmx_metric_composite_add";
  auto* target = dynamic_cast<pmx::optim::CompositeEvalMetric*>(&MetricOf(composite, function));
  PMX_CHECK(target != nullptr, kTypeError, "[%s] metric '%s' is not a composite metric (create it as 'composite')",
            function, composite->metric->name());
  CheckNotNull(child, function, "child");
  target->Add(child->metric);
  PMX_API_END();
}

int pmx_metric_update(PmxMetricHandle metric, int num_labels, const PmxNDArrayHandle* labels, int num_preds,
                      const PmxNDArrayHandle* preds) {
  PMX_API_BEGIN();
  const char* function = "pmx_metric_update";
  MetricOf(metric, function)
      .Update(ArraysFrom(num_labels, labels, function, "labels"), ArraysFrom(num_preds, preds, function, "preds"));
  PMX_API_END();
}

int pmx_metric_get(PmxMetricHandle metric, int* out_count, const char* const** out_names, const double** out_values) {
  PMX_API_BEGIN();
  const char* function = "pmx_metric_get";
  CheckNotNull(out_count, function, "out_count");
  CheckNotNull(out_names, function, "out_names");
  CheckNotNull(out_values, function, "out_values");
  thread_local std::vector<std::string> names;
  thread_local std::vector<const char*> name_pointers;
  thread_local std::vector<double> values;
  std::tie(names, values) = MetricOf(metric, function).Get();
  name_pointers.clear();
  for (const std::string& name : names) name_pointers.push_back(name.c_str());
  *out_count = static_cast<int>(names.size());
  *out_names = name_pointers.data();
  *out_values = values.data();
  PMX_API_END();
}

int pmx_metric_reset(PmxMetricHandle metric) {
  PMX_API_BEGIN();
  MetricOf(metric, "pmx_metric_reset").Reset();
  PMX_API_END();
}

int pmx_metric_free(PmxMetricHandle metric) {
  PMX_API_BEGIN();
  delete metric;
  PMX_API_END();
}

}  // extern "C"
