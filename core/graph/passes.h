// Graph passes that the Executor and CachedOp run before executing a graph: dead-code elimination,
// common-subexpression elimination and memory planning. Passes never modify the nodes they are given (Symbols
// share nodes); a rewrite returns new outputs whose changed nodes are copies.
#ifndef POLYMIX_CORE_GRAPH_PASSES_H_
#define POLYMIX_CORE_GRAPH_PASSES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/base/dtype.h"
#include "core/base/shape.h"
#include "core/graph/graph.h"

namespace pmx {
namespace graph {

// What a rewriting pass did.
struct PassStats {
  size_t nodes_before = 0;  // Operator nodes reachable from the outputs given.
  size_t nodes_after = 0;   // Operator nodes reachable from the outputs returned.
};

// Rebuilds the graph of `outputs` from the inputs up. For each operator node, `rewrite` gets the node and its
// inputs as already rewritten, and returns replacements for all of the node's outputs, or an empty vector to
// keep the node (a copy with the new inputs when any changed, else the node itself). Variables are kept.
std::vector<NodeEntry> RewriteGraph(
    const std::vector<NodeEntry>& outputs,
    const std::function<std::vector<NodeEntry>(const std::shared_ptr<Node>& node,
                                               const std::vector<NodeEntry>& inputs)>& rewrite);

// Dead-code elimination: keeps the outputs whose keep[i] is set (all when `keep` is empty; the others are
// dropped from the result) and only the nodes they need, bypasses _copy nodes of operator outputs (a copy of
// a variable stays: an op may mutate the variable later) and drops zeros_like operands from sums (add_n,
// elemwise_add), which the gradient pass creates for outputs no gradient reaches.
std::vector<NodeEntry> EliminateDeadCode(const std::vector<NodeEntry>& outputs, const std::vector<bool>& keep = {},
                                         PassStats* stats = nullptr);

// Common-subexpression elimination: operator nodes with the same op, parameters and inputs compute the same
// values and are merged into the first. Never merges ops that draw random numbers (OpDef::needs_rng), mutate
// inputs, or have control dependencies.
std::vector<NodeEntry> EliminateCommonSubexpressions(const std::vector<NodeEntry>& outputs,
                                                     PassStats* stats = nullptr);

// Where each entry of a graph lives during execution (see Note [Memory planning] in passes.cc).
struct MemoryPlan {
  static constexpr int kExternal = -1;   // Memory given from outside: variables, graph outputs.
  static constexpr int kNoStorage = -2;  // Needs no array (an intermediate of a fused chain).
  std::vector<int> entry_slot;           // Per entry: its slot, kExternal or kNoStorage.
  std::vector<bool> inplace;             // Per entry: it reuses the slot of an input of its node (OpDef::inplace).
  std::vector<size_t> slot_bytes;        // Size of each slot (64-byte multiples).
  size_t planned_bytes = 0;              // Sum of slot_bytes.
  size_t unplanned_bytes = 0;            // What one array per internal entry would take (kNoStorage ones too).
};

// Options of PlanMemory.
struct MemoryPlanOptions {
  std::vector<bool> external;    // Per entry: memory given from outside (variables are always external).
  std::vector<bool> no_storage;  // Per entry: needs no memory (fused intermediates); empty: none.
  // Per entry: live until the end of the graph, never reused (forward values the backward pass reads, so that
  // a backward can run again after one forward, as MXNet allows); empty: none.
  std::vector<bool> keep;
  bool inplace = true;           // Let an output reuse the memory of an input that dies at its node.
  bool share = true;             // Let an entry reuse the memory of entries that died before its node.
};

// Plans the memory of every internal entry of `graph` for execution in node-id order: an entry is live from
// its node until its last consumer; an output may take over an input's slot where the op declares the pair in
// OpDef::inplace and that input dies at this node; otherwise it takes the best-fitting free slot (growing the
// largest free one if none is big enough) or a new one. Variables and external entries are never touched.
MemoryPlan PlanMemory(const IndexedGraph& graph, const std::vector<Shape>& shapes, const std::vector<DType>& dtypes,
                      const MemoryPlanOptions& options);

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_PASSES_H_
