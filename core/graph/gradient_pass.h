// The gradient pass: builds the backward graph of a graph out of each operator's own gradient
// (OpDef::gradient), evaluated on graph nodes instead of arrays, so an op's gradient is written once and
// serves autograd, the Executor and CachedOp alike.
#ifndef POLYMIX_CORE_GRAPH_GRADIENT_PASS_H_
#define POLYMIX_CORE_GRAPH_GRADIENT_PASS_H_

#include <string>
#include <vector>

#include "core/graph/graph.h"
#include "core/ops/op.h"

namespace pmx {
namespace graph {

// A GradientBuilder whose values are graph entries and whose calls create operator nodes.
class GraphGradientBuilder : public GradientBuilder {
 public:
  // Nodes it creates are named "<prefix>_<op><counter>".
  explicit GraphGradientBuilder(std::string prefix) : prefix_(std::move(prefix)) {}
  // Registers an entry and returns its value id.
  Value Add(const NodeEntry& entry);
  // The entry of a value id (ValueError for an unknown id).
  const NodeEntry& Get(Value value) const;
  // Creates a node calling `op` on `inputs`; returns the ids of its visible outputs.
  std::vector<Value> Call(const std::string& op, const std::vector<Value>& inputs,
                          const ParamMap& params = {}) override;
  // Changes the prefix of the names of nodes created from now on.
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }

 private:
  std::string prefix_;
  int counter_ = 0;
  std::vector<NodeEntry> values_;
};

// Builds the gradients of `heads` with respect to the variables `xs`, given one head gradient entry per head
// (usually new variables). Returns one entry per x: the sum (add_n) of every gradient that reaches it, or
// zeros_like(x) when none does; an empty entry (node == nullptr) where skip[i] (grad_req 'null'). Only nodes on
// a path from some x to some head are differentiated; an output of a multi-output node that receives no
// gradient counts as zeros. ValueError when an x is not a variable, the counts differ, or an operator on such a
// path has no gradient. The forward nodes are shared, never modified.
std::vector<NodeEntry> Gradient(const std::vector<NodeEntry>& heads, const std::vector<NodeEntry>& xs,
                                const std::vector<NodeEntry>& head_grads, const std::vector<bool>& skip = {});

// Makes every entry of `outputs` a distinct operator output: an output that is a variable, or that repeats an
// earlier output, becomes a _copy of it, so that each output can be written into its own array.
std::vector<NodeEntry> MakeOutputsDistinct(const std::vector<NodeEntry>& outputs);

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_GRADIENT_PASS_H_
