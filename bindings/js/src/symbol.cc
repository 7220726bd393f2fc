// The symbol group of the C ABI for JS: variables, operator calls on symbols, listing, attributes, shape and
// type inference, MXNet's symbol JSON. lib/symbol.js builds the API (Symbol, pmx.sym) on these functions.
#include "bindings/js/src/addon.h"

namespace pmx_js {
namespace {

using SymbolHandle = PmxSymbolHandle;

bool ToSymbol(napi_env env, napi_value value, const char* what, SymbolHandle* out) {
  return ToTyped(env, value, ObjectKind::kSymbol, what, false, out);
}

bool ToSymbolList(napi_env env, napi_value value, const char* what, std::vector<SymbolHandle>* out) {
  std::vector<void*> raw;
  if (!ToObjectList(env, value, ObjectKind::kSymbol, what, &raw)) return false;
  out->clear();
  for (void* handle : raw) out->push_back(static_cast<SymbolHandle>(handle));
  return true;
}

// Keys and values of the same length, or a ValueError naming `function`.
bool ToPairs(napi_env env, napi_value keys_value, napi_value values_value, const char* function, const char* what,
             std::vector<std::string>* keys, std::vector<std::string>* values) {
  if (!ToStringList(env, keys_value, what, keys) || !ToStringList(env, values_value, what, values)) return false;
  if (keys->size() != values->size()) {
    ThrowError(env, PMX_ERROR_VALUE, std::string("[") + function + "] " + std::to_string(keys->size()) + " " + what +
                                         " names but " + std::to_string(values->size()) + " values");
    return false;
  }
  return true;
}

napi_value WrapSymbol(napi_env env, SymbolHandle handle) { return WrapObject(env, ObjectKind::kSymbol, handle); }

// symbolCreateVariable(name, attrKeys, attrValues) -> symbol
napi_value CreateVariable(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  std::string name;
  std::vector<std::string> keys, values;
  if (!GetArgs(env, info, 3, argv, "symbolCreateVariable") || !ToString(env, argv[0], "name", &name) ||
      !ToPairs(env, argv[1], argv[2], "Variable", "attribute", &keys, &values)) {
    return nullptr;
  }
  const auto key_pointers = CStrings(keys), value_pointers = CStrings(values);
  SymbolHandle out = nullptr;
  if (pmx_symbol_create_variable(name.c_str(), static_cast<int>(keys.size()), key_pointers.data(),
                                 value_pointers.data(), &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapSymbol(env, out);
}

// symbolCreateOp(op, positional, namedKeys, named, paramKeys, paramValues, name | null, attrKeys, attrValues)
//   -> symbol
napi_value CreateOp(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  std::string op, name;
  std::vector<SymbolHandle> positional, named;
  std::vector<std::string> named_keys, param_keys, param_values, attr_keys, attr_values;
  if (!GetArgs(env, info, 9, argv, "symbolCreateOp") || !ToString(env, argv[0], "op", &op) ||
      !ToSymbolList(env, argv[1], "inputs", &positional) ||
      !ToStringList(env, argv[2], "input names", &named_keys) || !ToSymbolList(env, argv[3], "inputs", &named) ||
      !ToPairs(env, argv[4], argv[5], op.c_str(), "parameter", &param_keys, &param_values) ||
      (!IsNullish(env, argv[6]) && !ToString(env, argv[6], "name", &name)) ||
      !ToPairs(env, argv[7], argv[8], op.c_str(), "attribute", &attr_keys, &attr_values)) {
    return nullptr;
  }
  if (named_keys.size() != named.size()) {
    return ThrowError(env, PMX_ERROR_VALUE, "[" + op + "] " + std::to_string(named_keys.size()) +
                                                " input names but " + std::to_string(named.size()) + " inputs");
  }
  const auto named_pointers = CStrings(named_keys), param_key_pointers = CStrings(param_keys),
             param_value_pointers = CStrings(param_values), attr_key_pointers = CStrings(attr_keys),
             attr_value_pointers = CStrings(attr_values);
  SymbolHandle out = nullptr;
  if (pmx_symbol_create_op(op.c_str(), static_cast<int>(positional.size()), positional.data(),
                           static_cast<int>(named.size()), named_pointers.data(), named.data(),
                           static_cast<int>(param_keys.size()), param_key_pointers.data(),
                           param_value_pointers.data(), name.empty() ? nullptr : name.c_str(),
                           static_cast<int>(attr_keys.size()), attr_key_pointers.data(), attr_value_pointers.data(),
                           &out) != 0) {
    return ThrowLastError(env);
  }
  return WrapSymbol(env, out);
}

// symbolGroup(symbols) -> symbol
napi_value Group(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::vector<SymbolHandle> symbols;
  if (!GetArgs(env, info, 1, argv, "symbolGroup") || !ToSymbolList(env, argv[0], "symbols", &symbols)) return nullptr;
  SymbolHandle out = nullptr;
  if (pmx_symbol_group(static_cast<int>(symbols.size()), symbols.data(), &out) != 0) return ThrowLastError(env);
  return WrapSymbol(env, out);
}

// symbolNumOutputs(symbol) -> number
napi_value NumOutputs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  SymbolHandle symbol = nullptr;
  if (!GetArgs(env, info, 1, argv, "symbolNumOutputs") || !ToSymbol(env, argv[0], "symbol", &symbol)) return nullptr;
  int count = 0;
  if (pmx_symbol_num_outputs(symbol, &count) != 0) return ThrowLastError(env);
  return MakeInt(env, count);
}

// symbolGetOutput(symbol, index | name) -> symbol
napi_value GetOutput(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  SymbolHandle symbol = nullptr;
  if (!GetArgs(env, info, 2, argv, "symbolGetOutput") || !ToSymbol(env, argv[0], "symbol", &symbol)) return nullptr;
  napi_valuetype type;
  PMX_JS_CALL(env, napi_typeof(env, argv[1], &type));
  SymbolHandle out = nullptr;
  if (type == napi_string) {
    std::string name;
    if (!ToString(env, argv[1], "name", &name)) return nullptr;
    if (pmx_symbol_get_output_by_name(symbol, name.c_str(), &out) != 0) return ThrowLastError(env);
  } else {
    int index = 0;
    if (!ToInt(env, argv[1], "index", &index)) return nullptr;
    if (pmx_symbol_get_output(symbol, index, &out) != 0) return ThrowLastError(env);
  }
  return WrapSymbol(env, out);
}

// symbolList(symbol, which) -> names; which: 0 arguments, 1 outputs, 2 auxiliary states, 3 inputs.
napi_value List(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  SymbolHandle symbol = nullptr;
  int which = 0;
  if (!GetArgs(env, info, 2, argv, "symbolList") || !ToSymbol(env, argv[0], "symbol", &symbol) ||
      !ToInt(env, argv[1], "which", &which)) {
    return nullptr;
  }
  int count = 0;
  const char* const* names = nullptr;
  int status = 0;
  switch (which) {
    case 0: status = pmx_symbol_list_arguments(symbol, &count, &names); break;
    case 1: status = pmx_symbol_list_outputs(symbol, &count, &names); break;
    case 2: status = pmx_symbol_list_auxiliary_states(symbol, &count, &names); break;
    case 3: status = pmx_symbol_list_inputs(symbol, &count, &names); break;
    default: return ThrowError(env, PMX_ERROR_VALUE, "[symbolList] which must be 0..3");
  }
  if (status != 0) return ThrowLastError(env);
  return MakeStringArray(env, count, names);
}

// symbolDerive(symbol, which) -> symbol; which: 0 internals, 1 children, 2 deep copy.
napi_value Derive(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  SymbolHandle symbol = nullptr;
  int which = 0;
  if (!GetArgs(env, info, 2, argv, "symbolDerive") || !ToSymbol(env, argv[0], "symbol", &symbol) ||
      !ToInt(env, argv[1], "which", &which)) {
    return nullptr;
  }
  SymbolHandle out = nullptr;
  int status = 0;
  switch (which) {
    case 0: status = pmx_symbol_get_internals(symbol, &out); break;
    case 1: status = pmx_symbol_get_children(symbol, &out); break;
    case 2: status = pmx_symbol_copy(symbol, &out); break;
    default: return ThrowError(env, PMX_ERROR_VALUE, "[symbolDerive] which must be 0..2");
  }
  if (status != 0) return ThrowLastError(env);
  return WrapSymbol(env, out);
}

// symbolGetAttr(symbol, key | null) -> string | null (a null key reads the node's name).
napi_value GetAttr(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  SymbolHandle symbol = nullptr;
  std::string key;
  if (!GetArgs(env, info, 2, argv, "symbolGetAttr") || !ToSymbol(env, argv[0], "symbol", &symbol)) return nullptr;
  const bool name = IsNullish(env, argv[1]);
  if (!name && !ToString(env, argv[1], "key", &key)) return nullptr;
  const char* out = nullptr;
  int success = 0;
  const int status = name ? pmx_symbol_get_name(symbol, &out, &success)
                          : pmx_symbol_get_attr(symbol, key.c_str(), &out, &success);
  if (status != 0) return ThrowLastError(env);
  return success ? MakeString(env, out) : Null(env);
}

// symbolSetAttr(symbol, key, value)
napi_value SetAttr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  SymbolHandle symbol = nullptr;
  std::string key, value;
  if (!GetArgs(env, info, 3, argv, "symbolSetAttr") || !ToSymbol(env, argv[0], "symbol", &symbol) ||
      !ToString(env, argv[1], "key", &key) || !ToString(env, argv[2], "value", &value)) {
    return nullptr;
  }
  if (pmx_symbol_set_attr(symbol, key.c_str(), value.c_str()) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// symbolListAttr(symbol) -> [node, key, value, node, key, value, ...]
napi_value ListAttr(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  SymbolHandle symbol = nullptr;
  if (!GetArgs(env, info, 1, argv, "symbolListAttr") || !ToSymbol(env, argv[0], "symbol", &symbol)) return nullptr;
  int count = 0;
  const char* const* triples = nullptr;
  if (pmx_symbol_list_attr(symbol, &count, &triples) != 0) return ThrowLastError(env);
  return MakeStringArray(env, 3 * count, triples);
}

// {args, outputs, aux, complete}: per-slot values split into the three groups by out_counts.
napi_value InferenceResult(napi_env env, const int counts[3], const std::vector<napi_value>& slots, bool complete) {
  napi_value result;
  PMX_JS_CALL(env, napi_create_object(env, &result));
  static const char* const kGroups[] = {"args", "outputs", "aux"};
  size_t slot = 0;
  for (int group = 0; group < 3; ++group) {
    napi_value list;
    PMX_JS_CALL(env, napi_create_array_with_length(env, counts[group], &list));
    for (int i = 0; i < counts[group]; ++i) PMX_JS_CALL(env, napi_set_element(env, list, i, slots[slot++]));
    PMX_JS_CALL(env, napi_set_named_property(env, result, kGroups[group], list));
  }
  PMX_JS_CALL(env, napi_set_named_property(env, result, "complete", MakeBool(env, complete)));
  return result;
}

// symbolInferShape(symbol, names, shapes, partial) -> {args, outputs, aux: (shape | null)[], complete}
napi_value InferShape(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  SymbolHandle symbol = nullptr;
  std::vector<std::string> names;
  std::vector<int> ndims;
  std::vector<int64_t> dims;
  bool partial = false;
  if (!GetArgs(env, info, 4, argv, "symbolInferShape") || !ToSymbol(env, argv[0], "symbol", &symbol) ||
      !ToStringList(env, argv[1], "names", &names) || !ToShapeList(env, argv[2], "shapes", &ndims, &dims) ||
      !ToBool(env, argv[3], "partial", &partial)) {
    return nullptr;
  }
  if (names.size() != ndims.size()) return ThrowError(env, PMX_ERROR_VALUE, "[inferShape] one shape per name");
  const auto name_pointers = CStrings(names);
  int counts[3] = {0, 0, 0};
  const int* out_ndims = nullptr;
  const int64_t* out_dims = nullptr;
  int complete = 0;
  if (pmx_symbol_infer_shape(symbol, static_cast<int>(names.size()), name_pointers.data(), ndims.data(), dims.data(),
                             partial, counts, &out_ndims, &out_dims, &complete) != 0) {
    return ThrowLastError(env);
  }
  std::vector<napi_value> slots;
  size_t offset = 0;
  for (int i = 0; i < counts[0] + counts[1] + counts[2]; ++i) {
    if (out_ndims[i] < 0) {
      slots.push_back(Null(env));
      continue;
    }
    std::vector<double> shape(out_dims + offset, out_dims + offset + out_ndims[i]);
    offset += out_ndims[i];
    napi_value value = MakeNumberArray(env, shape);
    if (value == nullptr) return nullptr;
    slots.push_back(value);
  }
  return InferenceResult(env, counts, slots, complete != 0);
}

// symbolInferType(symbol, names, dtypeFlags, partial) -> {args, outputs, aux: (flag | -1)[], complete}
napi_value InferType(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  SymbolHandle symbol = nullptr;
  std::vector<std::string> names;
  std::vector<int> dtypes;
  bool partial = false;
  if (!GetArgs(env, info, 4, argv, "symbolInferType") || !ToSymbol(env, argv[0], "symbol", &symbol) ||
      !ToStringList(env, argv[1], "names", &names) || !ToIntList(env, argv[2], "dtypes", &dtypes) ||
      !ToBool(env, argv[3], "partial", &partial)) {
    return nullptr;
  }
  if (names.size() != dtypes.size()) return ThrowError(env, PMX_ERROR_VALUE, "[inferType] one dtype per name");
  const auto name_pointers = CStrings(names);
  int counts[3] = {0, 0, 0};
  const int* out_dtypes = nullptr;
  int complete = 0;
  if (pmx_symbol_infer_type(symbol, static_cast<int>(names.size()), name_pointers.data(), dtypes.data(), partial,
                            counts, &out_dtypes, &complete) != 0) {
    return ThrowLastError(env);
  }
  std::vector<napi_value> slots;
  for (int i = 0; i < counts[0] + counts[1] + counts[2]; ++i) slots.push_back(MakeInt(env, out_dtypes[i]));
  return InferenceResult(env, counts, slots, complete != 0);
}

// symbolToJson(symbol) -> string
napi_value ToJson(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  SymbolHandle symbol = nullptr;
  if (!GetArgs(env, info, 1, argv, "symbolToJson") || !ToSymbol(env, argv[0], "symbol", &symbol)) return nullptr;
  const char* out = nullptr;
  if (pmx_symbol_to_json(symbol, &out) != 0) return ThrowLastError(env);
  return MakeString(env, out);
}

// symbolFromJson(text) -> symbol
napi_value FromJson(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string text;
  if (!GetArgs(env, info, 1, argv, "symbolFromJson") || !ToString(env, argv[0], "json", &text)) return nullptr;
  SymbolHandle out = nullptr;
  if (pmx_symbol_from_json(text.c_str(), &out) != 0) return ThrowLastError(env);
  return WrapSymbol(env, out);
}

// symbolSave(symbol, path)
napi_value Save(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  SymbolHandle symbol = nullptr;
  std::string path;
  if (!GetArgs(env, info, 2, argv, "symbolSave") || !ToSymbol(env, argv[0], "symbol", &symbol) ||
      !ToString(env, argv[1], "path", &path)) {
    return nullptr;
  }
  if (pmx_symbol_save(symbol, path.c_str()) != 0) return ThrowLastError(env);
  return Undefined(env);
}

// symbolLoad(path) -> symbol
napi_value Load(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  std::string path;
  if (!GetArgs(env, info, 1, argv, "symbolLoad") || !ToString(env, argv[0], "path", &path)) return nullptr;
  SymbolHandle out = nullptr;
  if (pmx_symbol_load(path.c_str(), &out) != 0) return ThrowLastError(env);
  return WrapSymbol(env, out);
}

// symbolFree(symbol)
napi_value Free(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  SymbolHandle symbol = nullptr;
  if (!GetArgs(env, info, 1, argv, "symbolFree") || !ToSymbol(env, argv[0], "symbol", &symbol)) return nullptr;
  if (pmx_symbol_free(symbol) != 0) return ThrowLastError(env);
  return Undefined(env);
}

}  // namespace

void AddSymbolExports(std::vector<Export>* exports) {
  exports->insert(exports->end(), {
                                      {"symbolCreateVariable", CreateVariable},
                                      {"symbolCreateOp", CreateOp},
                                      {"symbolGroup", Group},
                                      {"symbolNumOutputs", NumOutputs},
                                      {"symbolGetOutput", GetOutput},
                                      {"symbolList", List},
                                      {"symbolDerive", Derive},
                                      {"symbolGetAttr", GetAttr},
                                      {"symbolSetAttr", SetAttr},
                                      {"symbolListAttr", ListAttr},
                                      {"symbolInferShape", InferShape},
                                      {"symbolInferType", InferType},
                                      {"symbolToJson", ToJson},
                                      {"symbolFromJson", FromJson},
                                      {"symbolSave", Save},
                                      {"symbolLoad", Load},
                                      {"symbolFree", Free},
                                  });
}

}  // namespace pmx_js
