// The graph data structure shared by Symbol, the graph passes, the Executor and CachedOp: nodes (operator
// calls and variables) linked by node entries, and IndexedGraph, a dense topologically ordered view of one.
#ifndef POLYMIX_CORE_GRAPH_GRAPH_H_
#define POLYMIX_CORE_GRAPH_GRAPH_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ops/op.h"
#include "core/ops/params.h"

namespace pmx {
namespace graph {

struct Node;

// One output of a node: the edge type of the graph.
struct NodeEntry {
  std::shared_ptr<Node> node;  // The producing node.
  int index = 0;               // Which of its outputs (all outputs, hidden ones included, count).

  // Whether both name the same output of the same node.
  bool operator==(const NodeEntry& other) const { return node == other.node && index == other.index; }
};

// A graph node: one operator call, or a variable (an argument or an auxiliary state) when `op` is null.
struct Node {
  const OpDef* op = nullptr;  // The operator; nullptr for a variable.
  std::string name;           // MXNet's node name ("fc1", "data", "fc1_weight").
  // The operator's parameters as given (strings, as in MXNet's JSON "attrs"); empty for variables.
  ParamMap params;
  // The parsed parameters (valid when op != nullptr; ParseParams of `params`).
  OpParams parsed;
  // User attributes: MXNet's double-underscore attributes (__shape__, __dtype__, __lr_mult__, __wd_mult__,
  // __init__, __storage_type__, ...) and any others a user set (ctx_group). Kept through JSON round trips.
  std::map<std::string, std::string> attrs;
  std::vector<NodeEntry> inputs;  // The operator's inputs, in OpDef::inputs order (all of them).
  // Nodes that must run before this one although no data flows (rare; kept for JSON fidelity).
  std::vector<std::shared_ptr<Node>> control_deps;

  // Whether this node is a variable.
  bool is_variable() const { return op == nullptr; }
  // All outputs (hidden ones included); 1 for a variable.
  int num_outputs() const { return op ? op->NumOutputs(parsed) : 1; }
  // The outputs users see; 1 for a variable.
  int num_visible_outputs() const { return op ? op->NumVisibleOutputs(parsed) : 1; }

  // A new variable node.
  static std::shared_ptr<Node> Variable(const std::string& name, std::map<std::string, std::string> attrs = {});
  // A new operator node: parses `params` (ValueError naming the op for bad ones) and checks the input count
  // against the op's (ValueError "[op] expected N inputs, given M").
  static std::shared_ptr<Node> Op(const OpDef& op, const std::string& name, ParamMap params,
                                  std::vector<NodeEntry> inputs, std::map<std::string, std::string> attrs = {});
};

// Every node reachable from `outputs`, inputs before consumers (depth-first post-order, inputs in order, as
// nnvm's DFSVisit does, so variable order matches MXNet's list_arguments).
std::vector<std::shared_ptr<Node>> TopologicalOrder(const std::vector<NodeEntry>& outputs);

// A dense, immutable, topologically ordered view of the graph reachable from `outputs`: node ids are
// positions in that order, and every output of every node has an entry id. What passes and executors use.
class IndexedGraph {
 public:
  // One node of the view.
  struct NodeInfo {
    const Node* source = nullptr;  // The node (owned by `nodes_`).
    std::vector<uint32_t> inputs;  // Entry ids of its inputs.
    uint32_t first_entry = 0;      // Entry id of its output 0; output k is first_entry + k.
  };

  // Indexes the graph whose outputs are `outputs`.
  explicit IndexedGraph(std::vector<NodeEntry> outputs);

  // Number of nodes.
  size_t num_nodes() const { return infos_.size(); }
  // Number of entries (node outputs, hidden ones included).
  size_t num_entries() const { return num_entries_; }
  // Node `id`.
  const NodeInfo& node(uint32_t id) const { return infos_[id]; }
  // The shared pointer of node `id`.
  const std::shared_ptr<Node>& node_ptr(uint32_t id) const { return nodes_[id]; }
  // The id of `node`; ValueError if it is not in this graph.
  uint32_t node_id(const Node* node) const;
  // The entry id of output `index` of `node`.
  uint32_t entry_id(const Node* node, int index) const { return infos_[node_id(node)].first_entry + index; }
  // The entry id of `entry`.
  uint32_t entry_id(const NodeEntry& entry) const { return entry_id(entry.node.get(), entry.index); }
  // Ids of the variable nodes in topological order (MXNet's list_inputs order).
  const std::vector<uint32_t>& input_nodes() const { return input_nodes_; }
  // Entry ids of the graph's outputs.
  const std::vector<uint32_t>& output_entries() const { return output_entries_; }
  // The graph's outputs as given.
  const std::vector<NodeEntry>& outputs() const { return outputs_; }
  // Whether variable node `id` is an auxiliary state (feeds an op's OpDef::auxiliary_inputs).
  bool is_auxiliary(uint32_t id) const { return auxiliary_[id]; }
  // The node that produces entry `entry` (its id).
  uint32_t entry_node(uint32_t entry) const { return entry_node_[entry]; }

 private:
  std::vector<NodeEntry> outputs_;
  std::vector<std::shared_ptr<Node>> nodes_;
  std::vector<NodeInfo> infos_;
  std::unordered_map<const Node*, uint32_t> ids_;
  std::vector<uint32_t> input_nodes_;
  std::vector<uint32_t> output_entries_;
  std::vector<bool> auxiliary_;
  std::vector<uint32_t> entry_node_;
  size_t num_entries_ = 0;
};

// Shape inference over a whole graph: `shapes` has one slot per entry (IndexedGraph::entry ids), the known
// ones filled (variables' given shapes; a variable's __shape__ attribute is applied when its slot is empty).
// Runs the ops' infer_shape forwards and backwards until nothing changes, filling what can be inferred
// (weights from data, as MXNet does). Throws ValueError naming the node and op on a conflict. Returns the
// number of entries still unknown (0: complete). A source with MXNet's partial shape (a 0 dimension in a
// variable's __shape__ or an init op's `shape`) stays unknown until a consumer assigns it a shape that fits it
// (Note [Partial shapes] in graph.cc; a misfit is a ValueError naming the consumer, the source and both shapes).
size_t InferShapes(const IndexedGraph& graph, std::vector<MaybeShape>* shapes);

// The partial shape `node` declares as a graph source, with 0 for each unknown dimension: a variable's
// __shape__, or the output of an op without inputs that has a `shape` parameter (_zeros, _ones, _full, random
// samplers). nullopt when the node declares no shape or a complete one.
MaybeShape DeclaredPartialShape(const Node& node);

// The same for dtypes (a variable's __dtype__ attribute, MXNet's integer type flag, applies when empty; ops
// without infer_type give every output their first input's dtype and require all inputs to match it).
size_t InferTypes(const IndexedGraph& graph, std::vector<MaybeDType>* dtypes);

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_GRAPH_H_
