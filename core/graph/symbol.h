// Symbol: MXNet's symbolic graph handle (a list of node outputs) with composition, listing, attributes,
// partial shape/type inference, and MXNet's symbol JSON format.
#ifndef POLYMIX_CORE_GRAPH_SYMBOL_H_
#define POLYMIX_CORE_GRAPH_SYMBOL_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/base/dtype.h"
#include "core/base/shape.h"
#include "core/graph/graph.h"

namespace pmx {
namespace graph {

// A symbolic expression: one or more outputs of a graph. Copies share nodes (as MXNet's handles do).
class Symbol {
 public:
  // An empty symbol (no outputs).
  Symbol() = default;
  // The symbol of `outputs`.
  explicit Symbol(std::vector<NodeEntry> outputs) : outputs_(std::move(outputs)) {}

  // A variable (mx.sym.var): `attrs` are user attributes (__shape__, __dtype__, __lr_mult__, __init__, ...).
  static Symbol Variable(const std::string& name, std::map<std::string, std::string> attrs = {});

  // Calls operator `op` (name or alias) on symbols. `positional` fill the op's inputs from the first; `named`
  // fill inputs by their OpDef::inputs name. Inputs given neither way become new variables named
  // "<name>_<input name>" (fc1_weight, bn_moving_mean), as MXNet does. An empty `name` takes a fresh one
  // from NameManager ("fullyconnected0"). Every input symbol must have exactly one output.
  static Symbol Create(const std::string& op, const std::vector<Symbol>& positional,
                       const std::map<std::string, Symbol>& named, const ParamMap& params,
                       const std::string& name = "", std::map<std::string, std::string> attrs = {});

  // The outputs of all `symbols`, in order (mx.sym.Group).
  static Symbol Group(const std::vector<Symbol>& symbols);

  // Output `index` alone (sym[i]); IndexError when out of range.
  Symbol operator[](int index) const;
  // The output named `name` (as in ListOutputs); ValueError when no output has that name.
  Symbol operator[](const std::string& name) const;

  // The outputs.
  const std::vector<NodeEntry>& outputs() const { return outputs_; }
  // Number of outputs.
  int num_outputs() const { return static_cast<int>(outputs_.size()); }

  // Names of the variables that are arguments (not auxiliary states), in MXNet's order.
  std::vector<std::string> ListArguments() const;
  // Names of the outputs ("fc1_output"; multi-output ops "<name>_<output name>", as MXNet).
  std::vector<std::string> ListOutputs() const;
  // Names of the variables that are auxiliary states (BatchNorm's moving_mean/var).
  std::vector<std::string> ListAuxiliaryStates() const;
  // Names of all variables (arguments and auxiliary states) in topological order.
  std::vector<std::string> ListInputs() const;

  // A symbol whose outputs are every output of every node (mx.sym.get_internals).
  Symbol GetInternals() const;
  // The inputs of this symbol's (single) output node as a grouped symbol; empty for a variable.
  Symbol GetChildren() const;
  // A deep copy: new nodes with the same names, params and attributes.
  Symbol Copy() const;

  // The user attribute `key` of this symbol's (single) node, or its parameter `key` as given (MXNet keeps both
  // in one dictionary); "name" is the node's name and a hidden key ("lr_mult") also finds "__lr_mult__".
  // nullopt when absent or when the outputs come from several nodes.
  std::optional<std::string> GetAttr(const std::string& key) const;
  // Sets a user attribute on this symbol's (single) node ("name" renames it). On an operator node a key not
  // starting with "__" is a parameter: it is re-parsed, and ValueError if that changes the input/output count.
  void SetAttr(const std::string& key, const std::string& value);
  // Every node's user attributes and parameters, as MXNet's attr_dict: node name -> {key: value}.
  std::map<std::string, std::map<std::string, std::string>> AttrDict() const;
  // The name of this symbol's (single) output node.
  std::string name() const;

  // Result of InferShape/InferType: one slot per argument, output and auxiliary state, in list order.
  template <typename T>
  struct Inferred {
    std::vector<std::optional<T>> arguments;
    std::vector<std::optional<T>> outputs;
    std::vector<std::optional<T>> auxiliary_states;
    bool complete = false;  // Whether every entry of the graph (so every slot) is known.
  };
  // Infers shapes from the known shapes of some arguments (by name). With `partial` false, an incomplete
  // result is a ValueError naming the arguments still unknown (MXNet's infer_shape); with true, unknown
  // slots stay empty (infer_shape_partial). Conflicts are ValueErrors naming the node.
  Inferred<Shape> InferShape(const std::map<std::string, Shape>& known, bool partial = false) const;
  // The same for dtypes.
  Inferred<DType> InferType(const std::map<std::string, DType>& known, bool partial = false) const;

  // MXNet's symbol JSON (nodes / arg_nodes / node_row_ptr / heads / attrs {"mxnet_version"}), readable by
  // MXNet 1.x: op parameters and user attributes together in each node's "attrs".
  std::string ToJson() const;
  // Parses MXNet symbol JSON, including files from older MXNet (legacy "param"/"attr" keys, missing
  // node_row_ptr, "backward_source_id", old op names via aliases). ValueError naming the node for an unknown
  // op or a malformed file.
  static Symbol FromJson(const std::string& json);
  // Writes ToJson() to `path` (IOError/RuntimeError naming the path on failure).
  void Save(const std::string& path) const;
  // Reads a symbol JSON file.
  static Symbol Load(const std::string& path);

 private:
  std::vector<NodeEntry> outputs_;
};

// Fresh node names for symbols created without one: "<op name lowercased><counter>", one counter per prefix
// and thread, as MXNet's NameManager.
class NameManager {
 public:
  // The next name for `hint` (e.g. "fullyconnected" -> "fullyconnected0", then "fullyconnected1").
  static std::string NewName(const std::string& hint);
  // Forgets all counters of the calling thread (tests; MXNet's `with NameManager()` scope).
  static void Reset();
};

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_SYMBOL_H_
