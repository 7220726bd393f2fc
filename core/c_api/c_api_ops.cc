// The C ABI: the operator registry, imperative invocation and composed gradients.
#include "core/autograd/autograd.h"
#include "core/c_api/internal/c_api_internal.h"
#include "core/ops/gradient.h"
#include "core/ops/invoke.h"
#include "core/ops/op.h"

using pmx::NDArray;
using pmx::c_api::ArrayOf;
using pmx::c_api::CheckNotNull;
using pmx::c_api::NewHandle;

namespace {

pmx::ParamMap ParamsFrom(int count, const char* const* keys, const char* const* values, const char* function) {
  PMX_CHECK(count >= 0, kValueError, "[%s] num_params is %d: expected >= 0", function, count);
  pmx::ParamMap params;
  if (count == 0) return params;
  CheckNotNull(keys, function, "param_keys");
  CheckNotNull(values, function, "param_values");
  for (int i = 0; i < count; ++i) {
    CheckNotNull(keys[i], function, "param_keys[i]");
    CheckNotNull(values[i], function, "param_values[i]");
    params[keys[i]] = values[i];
  }
  return params;
}

std::vector<NDArray> ArraysFrom(int count, const PmxNDArrayHandle* handles, const char* function, const char* what) {
  PMX_CHECK(count >= 0, kValueError, "[%s] the number of %s is %d: expected >= 0", function, what, count);
  if (count > 0) CheckNotNull(handles, function, what);
  std::vector<NDArray> arrays;
  for (int i = 0; i < count; ++i) arrays.push_back(ArrayOf(handles[i], function));
  return arrays;
}

// Hands `arrays` to the caller as new handles in a thread-local array (none arrays become NULL).
void ReturnArrays(const std::vector<NDArray>& arrays, int* out_count, PmxNDArrayHandle** out_arrays) {
  thread_local std::vector<PmxNDArrayHandle> handles;
  handles.clear();
  for (const NDArray& array : arrays) handles.push_back(array.is_none() ? nullptr : NewHandle(array));
  *out_count = static_cast<int>(handles.size());
  *out_arrays = handles.data();
}

}  // namespace

extern "C" {

int pmx_op_schema_json(const char** out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_op_schema_json", "out");
  thread_local std::string schema;
  schema = pmx::OpRegistry::Get()->SchemaJson();
  *out = schema.c_str();
  PMX_API_END();
}

int pmx_op_invoke(const char* op, int num_inputs, const PmxNDArrayHandle* inputs, int num_params,
                  const char* const* param_keys, const char* const* param_values, int num_given_outputs,
                  const PmxNDArrayHandle* given_outputs, int* out_count, PmxNDArrayHandle** out_arrays) {
  PMX_API_BEGIN();
  CheckNotNull(op, "pmx_op_invoke", "op");
  CheckNotNull(out_count, "pmx_op_invoke", "out_count");
  CheckNotNull(out_arrays, "pmx_op_invoke", "out_arrays");
  const pmx::OpDef& def = pmx::OpRegistry::Get()->Lookup(op);
  const pmx::OpParams params = def.ParseParams(ParamsFrom(num_params, param_keys, param_values, def.name.c_str()));
  pmx::InvokeOptions options;
  options.outputs = ArraysFrom(num_given_outputs, given_outputs, def.name.c_str(), "given_outputs");
  // Through autograd, so that every binding's calls are recorded and run in the thread's training mode.
  std::vector<NDArray> outputs =
      pmx::autograd::Invoke(def, ArraysFrom(num_inputs, inputs, def.name.c_str(), "inputs"), params, options);
  // The caller's own handles of given outputs join the graph too (MXNet's out= returns the same array).
  for (int i = 0; i < num_given_outputs; ++i) given_outputs[i]->array = outputs[i];
  outputs.resize(def.NumVisibleOutputs(params));
  ReturnArrays(outputs, out_count, out_arrays);
  PMX_API_END();
}

int pmx_op_gradient(const char* op, int num_inputs, const PmxNDArrayHandle* inputs, int num_params,
                    const char* const* param_keys, const char* const* param_values, int num_head_grads,
                    const PmxNDArrayHandle* head_grads, int* out_count, PmxNDArrayHandle** out_grads) {
  PMX_API_BEGIN();
  CheckNotNull(op, "pmx_op_gradient", "op");
  CheckNotNull(out_count, "pmx_op_gradient", "out_count");
  CheckNotNull(out_grads, "pmx_op_gradient", "out_grads");
  const pmx::OpDef& def = pmx::OpRegistry::Get()->Lookup(op);
  const pmx::OpParams params = def.ParseParams(ParamsFrom(num_params, param_keys, param_values, def.name.c_str()));
  const std::vector<NDArray> arrays = ArraysFrom(num_inputs, inputs, def.name.c_str(), "inputs");
  const std::vector<NDArray> heads = ArraysFrom(num_head_grads, head_grads, def.name.c_str(), "head_grads");
  const int visible = def.NumVisibleOutputs(params);
  PMX_CHECK(num_head_grads == visible, kValueError, "[%s] expected %d head gradient(s), given %d", def.name, visible,
            num_head_grads);
  const std::vector<NDArray> outputs = pmx::Invoke(def, arrays, params);
  ReturnArrays(pmx::ComputeGradient(def, params, arrays, outputs, heads), out_count, out_grads);
  PMX_API_END();
}

int pmx_random_seed(uint64_t seed) {
  PMX_API_BEGIN();
  pmx::SeedRandom(seed);
  PMX_API_END();
}

}  // extern "C"
