// The C ABI: imperative autograd (recording and training flags, variables, backward, grad).
#include "core/autograd/autograd.h"
#include "core/c_api/internal/c_api_internal.h"

using pmx::NDArray;
using pmx::autograd::GradReq;
using pmx::c_api::ArrayOf;
using pmx::c_api::CheckNotNull;
using pmx::c_api::NewHandle;

namespace {

// `count` arrays from handles; where `optional`, a NULL list or NULL entries become none arrays.
std::vector<NDArray> ArraysFrom(int count, const PmxNDArrayHandle* handles, bool optional, const char* function,
                                const char* what) {
  PMX_CHECK(count >= 0, kValueError, "[%s] the number of %s is %d: expected >= 0", function, what, count);
  std::vector<NDArray> arrays;
  if (handles == nullptr && optional) return std::vector<NDArray>(count);
  if (count > 0) CheckNotNull(handles, function, what);
  for (int i = 0; i < count; ++i) {
    arrays.push_back(handles[i] == nullptr && optional ? NDArray() : ArrayOf(handles[i], function));
  }
  return arrays;
}

}  // namespace

extern "C" {

int pmx_autograd_set_recording(int recording, int* previous) {
  PMX_API_BEGIN();
  const bool was = pmx::autograd::SetRecording(recording != 0);
  if (previous != nullptr) *previous = was ? 1 : 0;
  PMX_API_END();
}

int pmx_autograd_is_recording(int* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_autograd_is_recording", "out");
  *out = pmx::autograd::IsRecording() ? 1 : 0;
  PMX_API_END();
}

int pmx_autograd_set_training(int training, int* previous) {
  PMX_API_BEGIN();
  const bool was = pmx::autograd::SetTraining(training != 0);
  if (previous != nullptr) *previous = was ? 1 : 0;
  PMX_API_END();
}

int pmx_autograd_is_training(int* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_autograd_is_training", "out");
  *out = pmx::autograd::IsTraining() ? 1 : 0;
  PMX_API_END();
}

int pmx_autograd_mark_variables(int count, const PmxNDArrayHandle* variables, const PmxNDArrayHandle* gradients,
                                const int* grad_reqs) {
  PMX_API_BEGIN();
  const char* function = "pmx_autograd_mark_variables";
  PMX_CHECK(count >= 0, kValueError, "[%s] count is %d: expected >= 0", function, count);
  if (count > 0) CheckNotNull(variables, function, "variables");
  std::vector<NDArray*> targets;
  for (int i = 0; i < count; ++i) {
    CheckNotNull(variables[i], function, "variables[i]");
    targets.push_back(&variables[i]->array);
  }
  std::vector<GradReq> reqs;
  for (int i = 0; grad_reqs != nullptr && i < count; ++i) reqs.push_back(static_cast<GradReq>(grad_reqs[i]));
  pmx::autograd::MarkVariables(targets, ArraysFrom(count, gradients, true, function, "gradients"), reqs);
  PMX_API_END();
}

int pmx_autograd_get_grad(PmxNDArrayHandle array, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_autograd_get_grad", "out");
  const NDArray grad = pmx::autograd::GradOf(ArrayOf(array, "pmx_autograd_get_grad"));
  *out = grad.is_none() ? nullptr : NewHandle(grad);
  PMX_API_END();
}

int pmx_autograd_get_fresh_grad(PmxNDArrayHandle array, int* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_autograd_get_fresh_grad", "out");
  *out = pmx::autograd::GradIsFresh(ArrayOf(array, "pmx_autograd_get_fresh_grad")) ? 1 : 0;
  PMX_API_END();
}

int pmx_autograd_set_fresh_grad(PmxNDArrayHandle array, int fresh) {
  PMX_API_BEGIN();
  pmx::autograd::SetGradFresh(ArrayOf(array, "pmx_autograd_set_fresh_grad"), fresh != 0);
  PMX_API_END();
}

int pmx_autograd_detach(PmxNDArrayHandle array, PmxNDArrayHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_autograd_detach", "out");
  *out = NewHandle(pmx::autograd::Detach(ArrayOf(array, "pmx_autograd_detach")));
  PMX_API_END();
}

int pmx_autograd_backward(int num_heads, const PmxNDArrayHandle* heads, const PmxNDArrayHandle* head_grads,
                          int retain_graph, int create_graph, int is_train) {
  PMX_API_BEGIN();
  const char* function = "pmx_autograd_backward";
  pmx::autograd::Backward(ArraysFrom(num_heads, heads, false, function, "heads"),
                          ArraysFrom(num_heads, head_grads, true, function, "head_grads"), retain_graph != 0,
                          create_graph != 0, is_train != 0);
  PMX_API_END();
}

int pmx_autograd_grad(int num_heads, const PmxNDArrayHandle* heads, const PmxNDArrayHandle* head_grads,
                      int num_variables, const PmxNDArrayHandle* variables, int retain_graph, int create_graph,
                      int is_train, int* out_count, PmxNDArrayHandle** out_grads) {
  PMX_API_BEGIN();
  const char* function = "pmx_autograd_grad";
  CheckNotNull(out_count, function, "out_count");
  CheckNotNull(out_grads, function, "out_grads");
  const std::vector<NDArray> grads = pmx::autograd::Grad(
      ArraysFrom(num_heads, heads, false, function, "heads"),
      ArraysFrom(num_variables, variables, false, function, "variables"),
      ArraysFrom(num_heads, head_grads, true, function, "head_grads"), retain_graph != 0, create_graph != 0,
      is_train != 0);
  thread_local std::vector<PmxNDArrayHandle> handles;
  handles.clear();
  for (const NDArray& grad : grads) handles.push_back(NewHandle(grad));
  *out_count = static_cast<int>(handles.size());
  *out_grads = handles.data();
  PMX_API_END();
}

}  // extern "C"
