// The testing group of the C ABI for JS: proves marshalling and the mapping of every error kind.
#include "bindings/js/src/addon.h"

namespace pmx_js {
namespace {

// testingRaise(kind, message): always throws the error the core raises for that kind.
napi_value TestingRaise(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int kind = 0;
  std::string message;
  if (!GetArgs(env, info, 2, argv, "testingRaise") || !ToInt(env, argv[0], "kind", &kind) ||
      !ToString(env, argv[1], "message", &message)) {
    return nullptr;
  }
  if (pmx_testing_raise(kind, message.c_str()) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// testingEchoInt64(bigint) -> bigint: all 64 bits through the C ABI and back.
napi_value TestingEchoInt64(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv, "testingEchoInt64")) return nullptr;
  int64_t value = 0;
  bool lossless = false;
  if (napi_get_value_bigint_int64(env, argv[0], &value, &lossless) != napi_ok) {
    return ThrowError(env, PMX_ERROR_TYPE, "[testingEchoInt64] expected a BigInt");
  }
  if (!lossless) return ThrowError(env, PMX_ERROR_VALUE, "[testingEchoInt64] the BigInt does not fit in int64");
  int64_t out = 0;
  if (pmx_testing_echo_int64(value, &out) != 0) return ThrowLastError(env);
  napi_value result;
  PMX_JS_CALL(env, napi_create_bigint_int64(env, out, &result));
  return result;
}

// testingEchoDouble(number) -> number
napi_value TestingEchoDouble(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  double value = 0;
  if (!GetArgs(env, info, 1, argv, "testingEchoDouble") || !ToDouble(env, argv[0], "value", &value)) return nullptr;
  double out = 0;
  if (pmx_testing_echo_double(value, &out) != 0) return ThrowLastError(env);
  napi_value result;
  PMX_JS_CALL(env, napi_create_double(env, out, &result));
  return result;
}

// testingEchoString(text) -> [text as the core copied it, its length in UTF-8 bytes]
napi_value TestingEchoString(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string text;
  if (!GetArgs(env, info, 1, argv, "testingEchoString") || !ToString(env, argv[0], "text", &text)) return nullptr;
  const char* out = nullptr;
  int64_t length = 0;
  if (pmx_testing_echo_string(text.c_str(), &out, &length) != 0) return ThrowLastError(env);
  napi_value result;
  PMX_JS_CALL(env, napi_create_array_with_length(env, 2, &result));
  PMX_JS_CALL(env, napi_set_element(env, result, 0, MakeString(env, out)));
  PMX_JS_CALL(env, napi_set_element(env, result, 1, MakeInt(env, length)));
  return result;
}

}  // namespace

void AddTestingExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"testingRaise", TestingRaise},
                                      {"testingEchoInt64", TestingEchoInt64},
                                      {"testingEchoDouble", TestingEchoDouble},
                                      {"testingEchoString", TestingEchoString},
                                  });
}

}  // namespace pmx_js
