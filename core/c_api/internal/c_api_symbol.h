// The object behind a PmxSymbolHandle, shared by the C ABI groups that take symbols (symbol, executor).
#ifndef POLYMIX_CORE_C_API_INTERNAL_C_API_SYMBOL_H_
#define POLYMIX_CORE_C_API_INTERNAL_C_API_SYMBOL_H_

#include "core/c_api/polymix.h"
#include "core/graph/symbol.h"

// The object behind a PmxSymbolHandle: a symbol (its nodes are shared with the symbols it was built from).
struct PmxSymbol {
  pmx::graph::Symbol symbol;  // The symbol.
};

namespace pmx {
namespace c_api {

// The symbol behind `handle`; ValueError naming `function` for a null handle.
graph::Symbol& SymbolOf(PmxSymbolHandle handle, const char* function);

// A new handle owning `symbol`.
PmxSymbolHandle NewSymbolHandle(graph::Symbol symbol);

}  // namespace c_api
}  // namespace pmx

#endif  // POLYMIX_CORE_C_API_INTERNAL_C_API_SYMBOL_H_
