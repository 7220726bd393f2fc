// MXNet's naming and attribute conventions for symbols, shared by composition (symbol.cc) and the JSON loader
// (symbol_json.cc): input and output names, hidden attribute keys, and the initializers ops give their
// variable inputs.
#ifndef POLYMIX_CORE_GRAPH_SYMBOL_CONVENTIONS_H_
#define POLYMIX_CORE_GRAPH_SYMBOL_CONVENTIONS_H_

#include <map>
#include <string>
#include <vector>

#include "core/graph/graph.h"
#include "core/ops/op.h"
#include "core/ops/params.h"

namespace pmx {
namespace graph {

// The names of the inputs of one call of `op` (MXNet's FListInputNames): OpDef::inputs, cut to the call's
// input count; for variadic ops "arg0", "arg1", ... (groups of several inputs: "<input>_<group>").
std::vector<std::string> InputNames(const OpDef& op, const OpParams& params);

// The name of output `index` of an operator node as list_outputs shows it after "<node name>_": the op's
// output name for single-output ops and the few multi-output ops MXNet names (BatchNorm's "mean", RNN's
// "state_output"), else "output<index>" as MXNet (SliceChannel's and topk's "output0", "output1", ...).
std::string OutputName(const Node& node, int index);

// The number of outputs MXNet 1.9.1's version of the node's op has (what its JSON's node_row_ptr counts):
// Polymix's BatchNorm and RNN keep one more hidden output than MXNet's (the training-mode flag, the RNN
// reserve), appended after MXNet's, so entries of MXNet files index the same outputs; MXNet's oneDNN build
// gives LRN and max pooling a workspace output that Polymix does not have.
int MxnetNumOutputs(const Node& node);

// The attribute keys MXNet stores with double underscores ("lr_mult" -> "__lr_mult__"): ctx_group, lr_mult,
// wd_mult, force_mirroring, mirror_stage, profiler_scope.
const std::vector<std::string>& HiddenKeys();

// The key MXNet stores for a key given by a user: a key that starts with a hidden key becomes "__key__"; one
// that ends with a hidden key ("weight_lr_mult") is a ValueError, as MXNet deprecated setting variable
// attributes through the operator. Other keys are unchanged.
std::string NormalizeAttributeKey(const std::string& key);

// Gives the variable inputs of `node` the initializer attribute (__init__) MXNet's ops set when composed
// (BatchNorm's moving_mean "zero" and moving_var "one", LeakyReLU's prelu gamma, ...), unless they have one.
void SetInputVariableDefaults(const Node& node);

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_SYMBOL_CONVENTIONS_H_
