// The C ABI: symbols (composition, listing, attributes, shape/type inference, MXNet symbol JSON).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/c_api/internal/c_api_internal.h"
#include "core/c_api/internal/c_api_symbol.h"
#include "core/graph/symbol.h"

using pmx::c_api::CheckNotNull;
using pmx::c_api::NewSymbolHandle;
using pmx::c_api::SymbolOf;
using pmx::graph::Symbol;

namespace pmx {
namespace c_api {

graph::Symbol& SymbolOf(PmxSymbolHandle handle, const char* function) {
  CheckNotNull(handle, function, "symbol");
  return handle->symbol;
}

PmxSymbolHandle NewSymbolHandle(graph::Symbol symbol) { return new PmxSymbol{std::move(symbol)}; }

}  // namespace c_api
}  // namespace pmx

namespace {

// Strings handed to the caller: they live until the same function's next call on the thread.
struct StringList {
  std::vector<std::string> strings;
  std::vector<const char*> pointers;

  // Stores `values` and points `*out` at them.
  void Return(std::vector<std::string> values, int* out_count, const char* const** out) {
    strings = std::move(values);
    pointers.clear();
    for (const std::string& text : strings) pointers.push_back(text.c_str());
    *out_count = static_cast<int>(pointers.size());
    *out = pointers.data();
  }
};

// `count` key/value string pairs as a map; NULL arrays are allowed when count is 0.
std::map<std::string, std::string> PairsFrom(int count, const char* const* keys, const char* const* values,
                                             const char* function, const char* what) {
  PMX_CHECK(count >= 0, kValueError, "[%s] the number of %s is %d: expected >= 0", function, what, count);
  std::map<std::string, std::string> pairs;
  if (count == 0) return pairs;
  CheckNotNull(keys, function, what);
  CheckNotNull(values, function, what);
  for (int i = 0; i < count; ++i) {
    CheckNotNull(keys[i], function, what);
    CheckNotNull(values[i], function, what);
    pairs[keys[i]] = values[i];
  }
  return pairs;
}

std::vector<Symbol> SymbolsFrom(int count, const PmxSymbolHandle* handles, const char* function, const char* what) {
  PMX_CHECK(count >= 0, kValueError, "[%s] the number of %s is %d: expected >= 0", function, what, count);
  std::vector<Symbol> symbols;
  if (count > 0) CheckNotNull(handles, function, what);
  for (int i = 0; i < count; ++i) symbols.push_back(SymbolOf(handles[i], function));
  return symbols;
}

// Writes the names listed by `list` for the pmx_symbol_list_* functions.
template <typename List>
void ReturnNames(PmxSymbolHandle symbol, int* out_count, const char* const** out_names, const char* function,
                 StringList* storage, List&& list) {
  CheckNotNull(out_count, function, "out_count");
  CheckNotNull(out_names, function, "out_names");
  storage->Return(list(SymbolOf(symbol, function)), out_count, out_names);
}

// Known values by input name, rejecting a name given twice.
template <typename T>
void AddKnown(std::map<std::string, T>* known, const char* name, T value, const char* function) {
  CheckNotNull(name, function, "known_names[i]");
  PMX_CHECK(known->emplace(name, std::move(value)).second, kValueError, "[%s] input '%s' is given twice", function,
            name);
}

// Writes attribute `key` of `symbol` for pmx_symbol_get_name/get_attr into `storage`.
void ReturnAttr(PmxSymbolHandle symbol, const char* key, const char** out, int* out_success, const char* function,
                std::string* storage) {
  CheckNotNull(key, function, "key");
  CheckNotNull(out, function, "out");
  CheckNotNull(out_success, function, "out_success");
  const std::optional<std::string> found = SymbolOf(symbol, function).GetAttr(key);
  *out_success = found.has_value();
  if (found) *storage = *found;
  *out = found ? storage->c_str() : nullptr;
}

}  // namespace

extern "C" {

int pmx_symbol_create_variable(const char* name, int num_attrs, const char* const* attr_keys,
                               const char* const* attr_values, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  const char* function = "pmx_symbol_create_variable";
  CheckNotNull(name, function, "name");
  CheckNotNull(out, function, "out");
  *out = NewSymbolHandle(Symbol::Variable(name, PairsFrom(num_attrs, attr_keys, attr_values, function, "attrs")));
  PMX_API_END();
}

int pmx_symbol_create_op(const char* op, int num_positional, const PmxSymbolHandle* positional, int num_named,
                         const char* const* named_keys, const PmxSymbolHandle* named, int num_params,
                         const char* const* param_keys, const char* const* param_values, const char* name,
                         int num_attrs, const char* const* attr_keys, const char* const* attr_values,
                         PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  const char* function = "pmx_symbol_create_op";
  CheckNotNull(op, function, "op");
  CheckNotNull(out, function, "out");
  const std::vector<Symbol> inputs = SymbolsFrom(num_positional, positional, function, "positional inputs");
  const std::vector<Symbol> named_inputs = SymbolsFrom(num_named, named, function, "named inputs");
  std::map<std::string, Symbol> by_name;
  if (num_named > 0) CheckNotNull(named_keys, function, "named_keys");
  for (int i = 0; i < num_named; ++i) {
    CheckNotNull(named_keys[i], function, "named_keys[i]");
    PMX_CHECK(by_name.emplace(named_keys[i], named_inputs[i]).second, kValueError,
              "[%s] input '%s' is given twice", function, named_keys[i]);
  }
  *out = NewSymbolHandle(Symbol::Create(op, inputs, by_name,
                                        PairsFrom(num_params, param_keys, param_values, function, "params"),
                                        name == nullptr ? "" : name,
                                        PairsFrom(num_attrs, attr_keys, attr_values, function, "attrs")));
  PMX_API_END();
}

int pmx_symbol_group(int num_symbols, const PmxSymbolHandle* symbols, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_symbol_group", "out");
  *out = NewSymbolHandle(Symbol::Group(SymbolsFrom(num_symbols, symbols, "pmx_symbol_group", "symbols")));
  PMX_API_END();
}

int pmx_symbol_num_outputs(PmxSymbolHandle symbol, int* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_symbol_num_outputs", "out");
  *out = SymbolOf(symbol, "pmx_symbol_num_outputs").num_outputs();
  PMX_API_END();
}

int pmx_symbol_get_output(PmxSymbolHandle symbol, int index, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_symbol_get_output", "out");
  *out = NewSymbolHandle(SymbolOf(symbol, "pmx_symbol_get_output")[index]);
  PMX_API_END();
}

int pmx_symbol_get_output_by_name(PmxSymbolHandle symbol, const char* name, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(name, "pmx_symbol_get_output_by_name", "name");
  CheckNotNull(out, "pmx_symbol_get_output_by_name", "out");
  *out = NewSymbolHandle(SymbolOf(symbol, "pmx_symbol_get_output_by_name")[std::string(name)]);
  PMX_API_END();
}

int pmx_symbol_list_arguments(PmxSymbolHandle symbol, int* out_count, const char* const** out_names) {
  PMX_API_BEGIN();
  thread_local StringList storage;
  ReturnNames(symbol, out_count, out_names, "pmx_symbol_list_arguments", &storage,
              [](const Symbol& s) { return s.ListArguments(); });
  PMX_API_END();
}

int pmx_symbol_list_outputs(PmxSymbolHandle symbol, int* out_count, const char* const** out_names) {
  PMX_API_BEGIN();
  thread_local StringList storage;
  ReturnNames(symbol, out_count, out_names, "pmx_symbol_list_outputs", &storage,
              [](const Symbol& s) { return s.ListOutputs(); });
  PMX_API_END();
}

int pmx_symbol_list_auxiliary_states(PmxSymbolHandle symbol, int* out_count, const char* const** out_names) {
  PMX_API_BEGIN();
  thread_local StringList storage;
  ReturnNames(symbol, out_count, out_names, "pmx_symbol_list_auxiliary_states", &storage,
              [](const Symbol& s) { return s.ListAuxiliaryStates(); });
  PMX_API_END();
}

int pmx_symbol_list_inputs(PmxSymbolHandle symbol, int* out_count, const char* const** out_names) {
  PMX_API_BEGIN();
  thread_local StringList storage;
  ReturnNames(symbol, out_count, out_names, "pmx_symbol_list_inputs", &storage,
              [](const Symbol& s) { return s.ListInputs(); });
  PMX_API_END();
}

int pmx_symbol_get_internals(PmxSymbolHandle symbol, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_symbol_get_internals", "out");
  *out = NewSymbolHandle(SymbolOf(symbol, "pmx_symbol_get_internals").GetInternals());
  PMX_API_END();
}

int pmx_symbol_get_children(PmxSymbolHandle symbol, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_symbol_get_children", "out");
  *out = NewSymbolHandle(SymbolOf(symbol, "pmx_symbol_get_children").GetChildren());
  PMX_API_END();
}

int pmx_symbol_copy(PmxSymbolHandle symbol, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_symbol_copy", "out");
  *out = NewSymbolHandle(SymbolOf(symbol, "pmx_symbol_copy").Copy());
  PMX_API_END();
}

int pmx_symbol_get_name(PmxSymbolHandle symbol, const char** out, int* out_success) {
  PMX_API_BEGIN();
  thread_local std::string name;
  ReturnAttr(symbol, "name", out, out_success, "pmx_symbol_get_name", &name);
  PMX_API_END();
}

int pmx_symbol_get_attr(PmxSymbolHandle symbol, const char* key, const char** out, int* out_success) {
  PMX_API_BEGIN();
  thread_local std::string value;
  ReturnAttr(symbol, key, out, out_success, "pmx_symbol_get_attr", &value);
  PMX_API_END();
}

int pmx_symbol_set_attr(PmxSymbolHandle symbol, const char* key, const char* value) {
  PMX_API_BEGIN();
  CheckNotNull(key, "pmx_symbol_set_attr", "key");
  CheckNotNull(value, "pmx_symbol_set_attr", "value");
  SymbolOf(symbol, "pmx_symbol_set_attr").SetAttr(key, value);
  PMX_API_END();
}

int pmx_symbol_list_attr(PmxSymbolHandle symbol, int* out_count, const char* const** out_triples) {
  PMX_API_BEGIN();
  const char* function = "pmx_symbol_list_attr";
  CheckNotNull(out_count, function, "out_count");
  CheckNotNull(out_triples, function, "out_triples");
  thread_local StringList storage;
  std::vector<std::string> triples;
  for (const auto& [node, attrs] : SymbolOf(symbol, function).AttrDict()) {
    for (const auto& [key, value] : attrs) triples.insert(triples.end(), {node, key, value});
  }
  int strings = 0;
  storage.Return(std::move(triples), &strings, out_triples);
  *out_count = strings / 3;
  PMX_API_END();
}

int pmx_symbol_infer_shape(PmxSymbolHandle symbol, int num_known, const char* const* known_names,
                           const int* known_ndims, const int64_t* known_dims, int partial, int out_counts[3],
                           const int** out_ndims, const int64_t** out_dims, int* out_complete) {
  PMX_API_BEGIN();
  const char* function = "pmx_symbol_infer_shape";
  CheckNotNull(out_counts, function, "out_counts");
  CheckNotNull(out_ndims, function, "out_ndims");
  CheckNotNull(out_dims, function, "out_dims");
  CheckNotNull(out_complete, function, "out_complete");
  PMX_CHECK(num_known >= 0, kValueError, "[%s] num_known is %d: expected >= 0", function, num_known);
  std::map<std::string, pmx::Shape> known;
  if (num_known > 0) {
    CheckNotNull(known_names, function, "known_names");
    CheckNotNull(known_ndims, function, "known_ndims");
  }
  const int64_t* dims = known_dims;
  for (int i = 0; i < num_known; ++i) {
    AddKnown(&known, known_names[i], pmx::c_api::ShapeFrom(dims, known_ndims[i], function), function);
    dims += known_ndims[i];
  }
  const Symbol::Inferred<pmx::Shape> result = SymbolOf(symbol, function).InferShape(known, partial != 0);
  thread_local std::vector<int> ndims;
  thread_local std::vector<int64_t> flat;
  ndims.clear();
  flat.clear();
  for (const auto* slots : {&result.arguments, &result.outputs, &result.auxiliary_states}) {
    for (const pmx::MaybeShape& shape : *slots) {
      ndims.push_back(shape ? shape->ndim() : -1);
      if (shape) flat.insert(flat.end(), shape->dims().begin(), shape->dims().end());
    }
  }
  out_counts[0] = static_cast<int>(result.arguments.size());
  out_counts[1] = static_cast<int>(result.outputs.size());
  out_counts[2] = static_cast<int>(result.auxiliary_states.size());
  *out_ndims = ndims.data();
  *out_dims = flat.data();
  *out_complete = result.complete;
  PMX_API_END();
}

int pmx_symbol_infer_type(PmxSymbolHandle symbol, int num_known, const char* const* known_names,
                          const int* known_dtypes, int partial, int out_counts[3], const int** out_dtypes,
                          int* out_complete) {
  PMX_API_BEGIN();
  const char* function = "pmx_symbol_infer_type";
  CheckNotNull(out_counts, function, "out_counts");
  CheckNotNull(out_dtypes, function, "out_dtypes");
  CheckNotNull(out_complete, function, "out_complete");
  PMX_CHECK(num_known >= 0, kValueError, "[%s] num_known is %d: expected >= 0", function, num_known);
  std::map<std::string, pmx::DType> known;
  if (num_known > 0) {
    CheckNotNull(known_names, function, "known_names");
    CheckNotNull(known_dtypes, function, "known_dtypes");
  }
  for (int i = 0; i < num_known; ++i) {
    AddKnown(&known, known_names[i], pmx::DTypeFromFlag(known_dtypes[i]), function);
  }
  const Symbol::Inferred<pmx::DType> result = SymbolOf(symbol, function).InferType(known, partial != 0);
  thread_local std::vector<int> flags;
  flags.clear();
  for (const auto* slots : {&result.arguments, &result.outputs, &result.auxiliary_states}) {
    for (const pmx::MaybeDType& dtype : *slots) flags.push_back(dtype ? static_cast<int>(*dtype) : -1);
  }
  out_counts[0] = static_cast<int>(result.arguments.size());
  out_counts[1] = static_cast<int>(result.outputs.size());
  out_counts[2] = static_cast<int>(result.auxiliary_states.size());
  *out_dtypes = flags.data();
  *out_complete = result.complete;
  PMX_API_END();
}

int pmx_symbol_to_json(PmxSymbolHandle symbol, const char** out) {
  PMX_API_BEGIN();
  CheckNotNull(out, "pmx_symbol_to_json", "out");
  thread_local std::string json;
  json = SymbolOf(symbol, "pmx_symbol_to_json").ToJson();
  *out = json.c_str();
  PMX_API_END();
}

int pmx_symbol_from_json(const char* json, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(json, "pmx_symbol_from_json", "json");
  CheckNotNull(out, "pmx_symbol_from_json", "out");
  *out = NewSymbolHandle(Symbol::FromJson(json));
  PMX_API_END();
}

int pmx_symbol_save(PmxSymbolHandle symbol, const char* path) {
  PMX_API_BEGIN();
  CheckNotNull(path, "pmx_symbol_save", "path");
  SymbolOf(symbol, "pmx_symbol_save").Save(path);
  PMX_API_END();
}

int pmx_symbol_load(const char* path, PmxSymbolHandle* out) {
  PMX_API_BEGIN();
  CheckNotNull(path, "pmx_symbol_load", "path");
  CheckNotNull(out, "pmx_symbol_load", "out");
  *out = NewSymbolHandle(Symbol::Load(path));
  PMX_API_END();
}

int pmx_symbol_free(PmxSymbolHandle symbol) {
  PMX_API_BEGIN();
  delete symbol;
  PMX_API_END();
}

}  // extern "C"
