// The autograd group of the C ABI for JS: recording and training flags, variables, backward, grad.
#include "bindings/js/src/addon.h"

namespace pmx_js {
namespace {

// A flag setter: setX(bool) -> the previous value.
napi_value SetFlag(napi_env env, napi_callback_info info, const char* name, int (*setter)(int, int*)) {
  napi_value argv[1];
  bool value = false;
  if (!GetArgs(env, info, 1, argv, name) || !ToBool(env, argv[0], name, &value)) return nullptr;
  int previous = 0;
  if (setter(value ? 1 : 0, &previous) != 0) return ThrowLastError(env);
  return MakeBool(env, previous != 0);
}

// A flag getter: isX() -> bool.
napi_value GetFlag(napi_env env, int (*getter)(int*)) {
  int value = 0;
  if (getter(&value) != 0) return ThrowLastError(env);
  return MakeBool(env, value != 0);
}

napi_value SetRecording(napi_env env, napi_callback_info info) {
  return SetFlag(env, info, "setRecording", pmx_autograd_set_recording);
}
napi_value IsRecording(napi_env env, napi_callback_info info) { return GetFlag(env, pmx_autograd_is_recording); }
napi_value SetTraining(napi_env env, napi_callback_info info) {
  return SetFlag(env, info, "setTraining", pmx_autograd_set_training);
}
napi_value IsTraining(napi_env env, napi_callback_info info) { return GetFlag(env, pmx_autograd_is_training); }

// markVariables(variables, gradients | null, gradReqs | null)
napi_value MarkVariables(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  std::vector<PmxNDArrayHandle> variables, gradients;
  std::vector<int64_t> requests;
  if (!GetArgs(env, info, 3, argv, "markVariables") ||
      !ToHandleList(env, argv[0], "variables", false, &variables) ||
      (!IsNullish(env, argv[1]) && !ToHandleList(env, argv[1], "gradients", true, &gradients)) ||
      (!IsNullish(env, argv[2]) && !ToShape(env, argv[2], "gradReqs", &requests))) {
    return nullptr;
  }
  if ((!gradients.empty() && gradients.size() != variables.size()) ||
      (!requests.empty() && requests.size() != variables.size())) {
    return ThrowError(env, PMX_ERROR_VALUE, "[markVariables] expected one gradient and request per variable");
  }
  const std::vector<int> reqs(requests.begin(), requests.end());
  if (pmx_autograd_mark_variables(static_cast<int>(variables.size()), variables.data(),
                                  gradients.empty() ? nullptr : gradients.data(),
                                  reqs.empty() ? nullptr : reqs.data()) != 0) {
    return ThrowLastError(env);
  }
  return Undefined(env);
}

// getGrad(handle) -> handle of the gradient buffer, or null if the array is not a variable.
napi_value GetGrad(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxNDArrayHandle handle = nullptr;
  if (!GetArgs(env, info, 1, argv, "getGrad") || !ToHandle(env, argv[0], "array", false, &handle)) return nullptr;
  PmxNDArrayHandle out = nullptr;
  if (pmx_autograd_get_grad(handle, &out) != 0) return ThrowLastError(env);
  return WrapHandle(env, out);
}

// detach(handle) -> handle of the same data outside any graph.
napi_value Detach(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  PmxNDArrayHandle handle = nullptr;
  if (!GetArgs(env, info, 1, argv, "detach") || !ToHandle(env, argv[0], "array", false, &handle)) return nullptr;
  PmxNDArrayHandle out = nullptr;
  if (pmx_autograd_detach(handle, &out) != 0) return ThrowLastError(env);
  return WrapHandle(env, out);
}

// The heads, head gradients (null: ones) and flags shared by backward and grad.
struct BackwardArgs {
  std::vector<PmxNDArrayHandle> heads, head_grads;
  bool retain_graph = false, create_graph = false, is_train = true;
};

bool ToBackwardArgs(napi_env env, napi_value* argv, BackwardArgs* args) {
  if (!ToHandleList(env, argv[0], "heads", false, &args->heads) ||
      (!IsNullish(env, argv[1]) && !ToHandleList(env, argv[1], "headGrads", true, &args->head_grads))) {
    return false;
  }
  if (!args->head_grads.empty() && args->head_grads.size() != args->heads.size()) {
    ThrowError(env, PMX_ERROR_VALUE, "[backward] expected one head gradient per head, given " +
                                         std::to_string(args->head_grads.size()) + " for " +
                                         std::to_string(args->heads.size()) + " heads");
    return false;
  }
  return true;
}

// backward(heads, headGrads | null, retainGraph, createGraph, isTrain)
napi_value Backward(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  BackwardArgs args;
  if (!GetArgs(env, info, 5, argv, "backward") || !ToBackwardArgs(env, argv, &args) ||
      !ToBool(env, argv[2], "retainGraph", &args.retain_graph) ||
      !ToBool(env, argv[3], "createGraph", &args.create_graph) || !ToBool(env, argv[4], "trainMode", &args.is_train)) {
    return nullptr;
  }
  if (pmx_autograd_backward(static_cast<int>(args.heads.size()), args.heads.data(),
                            args.head_grads.empty() ? nullptr : args.head_grads.data(), args.retain_graph,
                            args.create_graph, args.is_train) != 0) {
    return ThrowLastError(env);
  }
  return Undefined(env);
}

// grad(heads, headGrads | null, variables, retainGraph, createGraph, isTrain) -> gradient handles
napi_value Grad(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  BackwardArgs args;
  std::vector<PmxNDArrayHandle> variables;
  if (!GetArgs(env, info, 6, argv, "grad") || !ToBackwardArgs(env, argv, &args) ||
      !ToHandleList(env, argv[2], "variables", false, &variables) ||
      !ToBool(env, argv[3], "retainGraph", &args.retain_graph) ||
      !ToBool(env, argv[4], "createGraph", &args.create_graph) || !ToBool(env, argv[5], "trainMode", &args.is_train)) {
    return nullptr;
  }
  int count = 0;
  PmxNDArrayHandle* grads = nullptr;
  if (pmx_autograd_grad(static_cast<int>(args.heads.size()), args.heads.data(),
                        args.head_grads.empty() ? nullptr : args.head_grads.data(), static_cast<int>(variables.size()),
                        variables.data(), args.retain_graph, args.create_graph, args.is_train, &count, &grads) != 0) {
    return ThrowLastError(env);
  }
  return WrapHandles(env, count, grads);
}

}  // namespace

void AddAutogradExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"setRecording", SetRecording},
                                      {"isRecording", IsRecording},
                                      {"setTraining", SetTraining},
                                      {"isTraining", IsTraining},
                                      {"markVariables", MarkVariables},
                                      {"getGrad", GetGrad},
                                      {"detach", Detach},
                                      {"backward", Backward},
                                      {"grad", Grad},
                                  });
}

}  // namespace pmx_js
