// Pointwise fusion: a run of elementwise operators over arrays of one shape runs as ONE loop over element
// blocks, each block passing through the whole chain while it is in cache (Note [Fused chains] in fuse.cc).
#ifndef POLYMIX_CORE_GRAPH_FUSE_H_
#define POLYMIX_CORE_GRAPH_FUSE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/graph/graph.h"
#include "core/ops/op.h"

namespace pmx {
namespace graph {

// Whether `op` maps elements one to one: the unary, scalar and binary families, and Activation (whatever its
// act_type). Broadcasting binary ops qualify only when their operands have one shape (see IsFusable).
bool IsElementwiseOp(const OpDef& op);

// Whether node `id` can join a fused chain: an op of the elementwise families (unary, scalar, binary) or
// Activation, with one output, without random numbers, temp space or mutated inputs, with a CPU kernel, and with
// every input of its output's shape and dtype (so element i of the output depends only on element i of each input).
bool IsFusable(const IndexedGraph& graph, uint32_t id, const std::vector<Shape>& shapes,
               const std::vector<DType>& dtypes);

// Runs of at least `min_length` fusable op nodes that follow each other in node order within [begin, end)
// (variables in between are skipped) and share one output shape and dtype.
std::vector<std::vector<uint32_t>> FindFusionGroups(const IndexedGraph& graph, const std::vector<Shape>& shapes,
                                                    const std::vector<DType>& dtypes, uint32_t begin, uint32_t end,
                                                    size_t min_length = 2);

// The kernel of one fused chain.
class FusedChain {
 public:
  // Builds the chain of `nodes` (a group from FindFusionGroups). needs_memory(entry) tells which outputs are
  // read outside the chain (or are graph outputs) and so are written to memory; the others live in scratch.
  // modes(entry) gives each such output's write mode.
  FusedChain(const IndexedGraph& graph, const std::vector<uint32_t>& nodes, const std::vector<Shape>& shapes,
             const std::vector<DType>& dtypes, const std::function<bool(uint32_t entry)>& needs_memory,
             const std::function<WriteMode(uint32_t entry)>& modes);

  // The entries whose arrays Run takes, in order: the chain's inputs from outside, then its outputs in memory.
  const std::vector<uint32_t>& external_entries() const { return external_entries_; }
  // The entries that stay in scratch (need no memory plan).
  const std::vector<uint32_t>& scratch_entries() const { return scratch_entries_; }
  // Node ids of the chain.
  const std::vector<uint32_t>& nodes() const { return nodes_; }

  // Runs the chain: `external` holds one TensorRef per external_entries(); `base` gives the device and
  // training mode (its params and modes are replaced per node).
  void Run(const KernelContext& base, absl::Span<const TensorRef> external) const;

 private:
  // One node: its kernel and operands (indices; >= external size means scratch buffer index + that size).
  struct Step {
    const Kernel* kernel = nullptr;
    const OpParams* params = nullptr;
    const Node* node = nullptr;
    std::vector<int> inputs;
    int output = 0;
    WriteMode mode = WriteMode::kWrite;
  };
  std::vector<uint32_t> nodes_;
  std::vector<uint32_t> external_entries_;
  std::vector<uint32_t> scratch_entries_;
  std::vector<Step> steps_;
  int num_buffers_ = 0;  // Scratch buffers (scratch entries with disjoint lifetimes share one).
  int64_t size_ = 0;     // Elements of every operand.
  DType dtype_ = DType::kFloat32;
};

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_FUSE_H_
