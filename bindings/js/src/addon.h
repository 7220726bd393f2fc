// Shared pieces of the Node.js addon: argument conversion, array handles as JS values, and errors.
//
// Note [Thin addon]
// The addon is a one-to-one view of core/c_api/polymix.h through node_api.h only (ABI-stable: one build runs
// on every Node version with N-API 8). It holds no state beyond one reference to the JS error factory:
// lifetimes (dispose, tidy, the FinalizationRegistry backstop), dtype names and parameter formatting live in
// lib/*.js, and every failure becomes the JS error that lib/errors.js builds for the C ABI's error kind.
#ifndef POLYMIX_BINDINGS_JS_SRC_ADDON_H_
#define POLYMIX_BINDINGS_JS_SRC_ADDON_H_

#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/c_api/polymix.h"

namespace pmx_js {

// One exported function: its JS name and implementation.
struct Export {
  const char* name;         // Property name on the addon's exports.
  napi_callback callback;   // The implementation.
};

// Appends the functions of each group to `exports` (one function per source file).
void AddNDArrayExports(std::vector<Export>* exports);
void AddOpExports(std::vector<Export>* exports);
void AddAutogradExports(std::vector<Export>* exports);
void AddIoExports(std::vector<Export>* exports);
void AddTestingExports(std::vector<Export>* exports);
void AddSymbolExports(std::vector<Export>* exports);
void AddExecutorExports(std::vector<Export>* exports);
void AddOptimExports(std::vector<Export>* exports);

// A Polymix error captured on the thread that saw it (the C ABI's last error is thread-local).
struct CapturedError {
  int kind = PMX_OK;    // PMX_ERROR_* kind.
  std::string message;  // The core's message.
};

// The calling thread's last C ABI error.
CapturedError CaptureLastError();

// A JS error object for `error`, built by the factory lib/errors.js registered (a plain Error before that).
napi_value MakeError(napi_env env, const CapturedError& error);

// Throws the calling thread's last C ABI error in JS; returns nullptr for the caller to return.
napi_value ThrowLastError(napi_env env);

// Throws an error of `kind` (PMX_ERROR_*) with `message` in JS; returns nullptr.
napi_value ThrowError(napi_env env, int kind, const std::string& message);

// Throws a generic error for a failed node_api call unless an exception is already pending; returns nullptr.
napi_value ThrowNapiFailure(napi_env env, const char* call);

// Reads exactly `count` arguments into `argv`; throws a TypeError naming `function` otherwise.
bool GetArgs(napi_env env, napi_callback_info info, size_t count, napi_value* argv, const char* function);

// Conversions from JS values; each throws a TypeError naming `what` and returns false on bad input.
bool ToInt(napi_env env, napi_value value, const char* what, int* out);
bool ToInt64(napi_env env, napi_value value, const char* what, int64_t* out);
bool ToDouble(napi_env env, napi_value value, const char* what, double* out);
bool ToBool(napi_env env, napi_value value, const char* what, bool* out);
bool ToString(napi_env env, napi_value value, const char* what, std::string* out);
bool ToStringList(napi_env env, napi_value value, const char* what, std::vector<std::string>* out);
bool ToShape(napi_env env, napi_value value, const char* what, std::vector<int64_t>* out);
bool IsNullish(napi_env env, napi_value value);

// An array handle as a JS value (a type-tagged external; null for a NULL handle). The addon never frees it:
// lib/ndarray.js owns every handle and calls free() exactly once.
napi_value WrapHandle(napi_env env, PmxNDArrayHandle handle);
// The handle inside a value made by WrapHandle; with allow_null, null/undefined give NULL.
bool ToHandle(napi_env env, napi_value value, const char* what, bool allow_null, PmxNDArrayHandle* out);
// A JS array of handles (NULL entries allowed only with allow_null).
bool ToHandleList(napi_env env, napi_value value, const char* what, bool allow_null,
                  std::vector<PmxNDArrayHandle>* out);
// A JS array wrapping `count` new handles.
napi_value WrapHandles(napi_env env, int count, const PmxNDArrayHandle* handles);

// The kinds of the C ABI's other handles. Each is a type-tagged external of its own tag, so a symbol can never be
// passed where an executor belongs; like array handles, lib/*.js owns them and frees each exactly once.
enum class ObjectKind {
  kSymbol,          // PmxSymbolHandle
  kExecutor,        // PmxExecutorHandle
  kCachedOp,        // PmxCachedOpHandle
  kOptimizer,       // PmxOptimizerHandle
  kOptimizerState,  // PmxOptimizerStateHandle
  kLRScheduler,     // PmxLRSchedulerHandle
  kInitializer,     // PmxInitializerHandle
  kMetric,          // PmxMetricHandle
};

// A handle of `kind` as a JS value (a type-tagged external); frees the handle if wrapping fails.
napi_value WrapObject(napi_env env, ObjectKind kind, void* handle);
// The handle inside a value made by WrapObject for `kind`; with allow_null, null/undefined give NULL.
bool ToObject(napi_env env, napi_value value, ObjectKind kind, const char* what, bool allow_null, void** out);
// ToObject for a JS array of handles of one kind.
bool ToObjectList(napi_env env, napi_value value, ObjectKind kind, const char* what, std::vector<void*>* out);

// Typed forms of ToObject (the handle types are distinct pointer types in polymix.h).
template <typename Handle>
bool ToTyped(napi_env env, napi_value value, ObjectKind kind, const char* what, bool allow_null, Handle* out) {
  void* raw = nullptr;
  if (!ToObject(env, value, kind, what, allow_null, &raw)) return false;
  *out = static_cast<Handle>(raw);
  return true;
}

// A JS array of `count` strings (NULL entries become null).
napi_value MakeStringArray(napi_env env, int count, const char* const* strings);
// A JS array of numbers.
napi_value MakeNumberArray(napi_env env, const std::vector<double>& values);
// Reads a JS array of numbers.
bool ToDoubleList(napi_env env, napi_value value, const char* what, std::vector<double>* out);
// Reads a JS array of integers that fit in int.
bool ToIntList(napi_env env, napi_value value, const char* what, std::vector<int>* out);
// Reads a JS array of shapes (arrays of integers) into ndims and dims stored one after another, as the C ABI's
// shape arguments take them.
bool ToShapeList(napi_env env, napi_value value, const char* what, std::vector<int>* ndims,
                 std::vector<int64_t>* dims);
// C string pointers into `strings` (which must outlive them).
std::vector<const char*> CStrings(const std::vector<std::string>& strings);

// The byte pointer and length of a TypedArray argument.
bool ToTypedArrayBytes(napi_env env, napi_value value, const char* what, void** data, size_t* nbytes);

// Small value constructors (nullptr on failure, with a JS exception pending).
napi_value MakeInt(napi_env env, int64_t value);
napi_value MakeBool(napi_env env, bool value);
napi_value MakeString(napi_env env, const char* text);
napi_value Undefined(napi_env env);
napi_value Null(napi_env env);

}  // namespace pmx_js

// Returns nullptr from the enclosing callback when a node_api call fails (its JS exception stays pending).
#define PMX_JS_CALL(env, call)                                              \
  do {                                                                      \
    if ((call) != napi_ok) return ::pmx_js::ThrowNapiFailure((env), #call); \
  } while (0)

#endif  // POLYMIX_BINDINGS_JS_SRC_ADDON_H_
