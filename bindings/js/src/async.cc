// Promises backed by napi_async_work (see async.h).
#include "bindings/js/src/async.h"

#include <utility>

namespace pmx_js {
namespace {

// Everything one queued call needs, from queueing on the JS thread to settling its Promise there.
struct AsyncCall {
  AsyncWork work;                  // Runs on the worker.
  AsyncResult result;              // Builds the resolution on the JS thread.
  napi_deferred deferred = nullptr;
  napi_async_work async_work = nullptr;
  std::vector<napi_ref> keep_alive;  // Values the work reads or writes.
  CapturedError error;             // Captured on the worker thread, whose last error it is.
};

void Execute(napi_env env, void* data) {
  auto* call = static_cast<AsyncCall*>(data);
  call->error = call->work();
}

void Complete(napi_env env, napi_status status, void* data) {
  auto* call = static_cast<AsyncCall*>(data);
  napi_value outcome = nullptr;
  bool resolve = false;
  if (status == napi_cancelled) {
    outcome = MakeError(env, CapturedError{PMX_ERROR_RUNTIME, "[polymix] the asynchronous call was cancelled"});
  } else if (call->error.kind != PMX_OK) {
    outcome = MakeError(env, call->error);
  } else {
    outcome = call->result(env);
    resolve = outcome != nullptr;
    if (!resolve) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) napi_get_and_clear_last_exception(env, &outcome);
      if (outcome == nullptr) {
        outcome = MakeError(env, CapturedError{PMX_ERROR_RUNTIME, "[polymix] the asynchronous call failed"});
      }
    }
  }
  if (resolve) {
    napi_resolve_deferred(env, call->deferred, outcome);
  } else {
    napi_reject_deferred(env, call->deferred, outcome);
  }
  for (napi_ref ref : call->keep_alive) napi_delete_reference(env, ref);
  napi_delete_async_work(env, call->async_work);
  delete call;
}

}  // namespace

CapturedError Check(int status) { return status != 0 ? CaptureLastError() : CapturedError{}; }

napi_value StartAsync(napi_env env, const char* name, AsyncWork work, AsyncResult result,
                      const std::vector<napi_value>& keep_alive) {
  auto* call = new AsyncCall();
  call->work = std::move(work);
  call->result = std::move(result);
  napi_value promise = nullptr;
  napi_value resource_name = MakeString(env, name);
  bool ok = resource_name != nullptr && napi_create_promise(env, &call->deferred, &promise) == napi_ok;
  for (size_t i = 0; ok && i < keep_alive.size(); ++i) {
    napi_ref ref = nullptr;
    ok = napi_create_reference(env, keep_alive[i], 1, &ref) == napi_ok;
    if (ok) call->keep_alive.push_back(ref);
  }
  ok = ok && napi_create_async_work(env, nullptr, resource_name, Execute, Complete, call, &call->async_work) == napi_ok;
  ok = ok && napi_queue_async_work(env, call->async_work) == napi_ok;
  if (!ok) {
    for (napi_ref ref : call->keep_alive) napi_delete_reference(env, ref);
    if (call->async_work != nullptr) napi_delete_async_work(env, call->async_work);
    napi_deferred deferred = call->deferred;
    delete call;
    if (deferred == nullptr) return ThrowNapiFailure(env, "napi_create_promise");
    // The Promise exists: settle it rather than leave it pending forever.
    napi_reject_deferred(env, deferred,
                         MakeError(env, CapturedError{PMX_ERROR_RUNTIME, "[polymix] could not queue the call"}));
    return promise;
  }
  return promise;
}

}  // namespace pmx_js
