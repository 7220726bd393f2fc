// The operator group of the C ABI for JS: the schema and invocation by name (lib/ops.js is generated from the
// same schema and calls invoke).
#include "bindings/js/src/addon.h"

namespace pmx_js {
namespace {

// opSchemaJson() -> string: the registry as JSON (tests check the generated functions against it).
napi_value OpSchemaJson(napi_env env, napi_callback_info info) {
  const char* text = nullptr;
  if (pmx_op_schema_json(&text) != 0) return ThrowLastError(env);
  return MakeString(env, text);
}

// C string pointers into `strings` (which must outlive them).
std::vector<const char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<const char*> pointers;
  for (const std::string& text : strings) pointers.push_back(text.c_str());
  return pointers;
}

// invoke(op, inputs, paramKeys, paramValues, givenOutputs | null) -> handles of the visible outputs. Recorded by
// autograd while the thread records; asynchronous (errors of the computation surface at the next read).
napi_value Invoke(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  std::string op;
  std::vector<PmxNDArrayHandle> inputs, given;
  std::vector<std::string> keys, values;
  if (!GetArgs(env, info, 5, argv, "invoke") || !ToString(env, argv[0], "op", &op) ||
      !ToHandleList(env, argv[1], "inputs", false, &inputs) || !ToStringList(env, argv[2], "param keys", &keys) ||
      !ToStringList(env, argv[3], "param values", &values)) {
    return nullptr;
  }
  if (!IsNullish(env, argv[4]) && !ToHandleList(env, argv[4], "out", false, &given)) return nullptr;
  if (keys.size() != values.size()) {
    return ThrowError(env, PMX_ERROR_VALUE, "[" + op + "] " + std::to_string(keys.size()) + " parameter names but " +
                                                std::to_string(values.size()) + " values");
  }
  const std::vector<const char*> key_pointers = Pointers(keys), value_pointers = Pointers(values);
  int count = 0;
  PmxNDArrayHandle* outputs = nullptr;
  if (pmx_op_invoke(op.c_str(), static_cast<int>(inputs.size()), inputs.data(), static_cast<int>(keys.size()),
                    key_pointers.data(), value_pointers.data(), static_cast<int>(given.size()), given.data(), &count,
                    &outputs) != 0) {
    return ThrowLastError(env);
  }
  return WrapHandles(env, count, outputs);
}

// randomSeed(seed): seeds every device's generators; seed is a non-negative integer Number or a BigInt.
napi_value RandomSeed(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!GetArgs(env, info, 1, argv, "randomSeed")) return nullptr;
  napi_valuetype type;
  PMX_JS_CALL(env, napi_typeof(env, argv[0], &type));
  uint64_t seed = 0;
  if (type == napi_bigint) {
    bool lossless = false;
    PMX_JS_CALL(env, napi_get_value_bigint_uint64(env, argv[0], &seed, &lossless));
    if (!lossless) return ThrowError(env, PMX_ERROR_VALUE, "[randomSeed] the seed must fit in 64 unsigned bits");
  } else {
    int64_t value = 0;
    if (!ToInt64(env, argv[0], "seed", &value)) return nullptr;
    if (value < 0) return ThrowError(env, PMX_ERROR_VALUE, "[randomSeed] the seed must be >= 0");
    seed = static_cast<uint64_t>(value);
  }
  if (pmx_random_seed(seed) != 0) return ThrowLastError(env);
  return Undefined(env);
}

}  // namespace

void AddOpExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"opSchemaJson", OpSchemaJson},
                                      {"invoke", Invoke},
                                      {"randomSeed", RandomSeed},
                                  });
}

}  // namespace pmx_js
