// CachedOp: a graph called like one operator on NDArrays (what Gluon's hybridize runs). The first call for a
// given input signature compiles the graph (shapes and dtypes inferred, passes run, memory planned); later calls
// with that signature reuse the compiled graph. Under autograd recording a call is recorded as ONE node whose
// gradient runs the cached backward graph.
#ifndef POLYMIX_CORE_GRAPH_CACHED_OP_H_
#define POLYMIX_CORE_GRAPH_CACHED_OP_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/array/ndarray.h"
#include "core/graph/internal/compiled_graph.h"
#include "core/graph/symbol.h"

namespace pmx {
namespace graph {

// Options of a CachedOp (MXNet's CachedOp flags).
struct CachedOpOptions {
  // Keep the planned buffers between calls instead of allocating them per call (MXNet's static_alloc).
  bool static_alloc = false;
  // Input shapes are not expected to change: keep only the latest compiled signature (MXNet's static_shape).
  bool static_shape = false;
  bool fuse = true;          // Fuse chains of elementwise ops (CPU).
  bool inplace = true;       // Let outputs reuse dying inputs' memory where ops allow.
  bool share_memory = true;  // Share memory between entries whose lifetimes do not overlap.
  bool cse = true;           // Merge common subexpressions.
  int bulk_size = 0;         // Nodes per engine operation; 0: one engine operation per pass.
};

// Parses MXNet's CachedOp flags ("static_alloc", "static_shape": "true"/"false"/"1"/"0"; the bulk sizes
// "forward_bulk_size"/"backward_bulk_size"; "inline_limit", "data_indices", "param_indices" are accepted and
// need nothing here) plus Polymix's "fuse", "inplace", "share_memory", "cse". ValueError for other keys.
CachedOpOptions ParseCachedOpFlags(const std::map<std::string, std::string>& flags);

// A symbol compiled per input signature and called on arrays. Calls from several threads are safe without
// static_alloc; with it, one thread at a time (the kept buffers are rebound by each call, as in MXNet).
class CachedOp {
 public:
  // Prepares `symbol` (nothing is compiled until the first call).
  explicit CachedOp(const Symbol& symbol, CachedOpOptions options = {});

  // The inputs a call takes, in order: every variable of the symbol (arguments and auxiliary states) in
  // list_inputs order.
  const std::vector<std::string>& input_names() const { return input_names_; }
  // Number of outputs a call returns.
  size_t num_outputs() const { return symbol_.outputs().size(); }
  // The symbol.
  const Symbol& symbol() const { return symbol_; }

  // Runs the graph on `inputs` (one per input_names() entry, all on one device) in the thread's training mode
  // (autograd::IsTraining) and returns new output arrays. Auxiliary states that ops update in training mode
  // (BatchNorm's moving statistics) are updated in place, as imperative calls do. When autograd::NeedsRecording
  // (inputs), the call is recorded as one node; its gradient flows to the inputs that are in a graph.
  std::vector<NDArray> operator()(const std::vector<NDArray>& inputs);

  // Number of compilations so far (one per new input signature).
  int num_compilations() const;
  // Planned and unplanned internal bytes of the most recently compiled signature (0 before any call).
  std::pair<size_t, size_t> memory_bytes() const;
  // Fused chains of the most recently compiled signature.
  size_t num_fused_chains() const;

 private:
  // One compiled signature.
  struct Compiled;
  // Finds or compiles the graph for these inputs; `grad_mask` says which inputs get gradients (empty: none).
  std::shared_ptr<Compiled> Lookup(const std::vector<NDArray>& inputs, const std::vector<bool>& grad_mask);
  // A run state for `compiled`: its kept one when free (static_alloc), else a new one.
  std::shared_ptr<internal::RunState> StateFor(Compiled* compiled);

  Symbol symbol_;
  CachedOpOptions options_;
  std::vector<std::string> input_names_;
  std::vector<std::shared_ptr<Node>> input_nodes_;
  std::vector<bool> auxiliary_;  // Per input.
  std::vector<std::string> output_names_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Compiled>> cache_;
  std::shared_ptr<Compiled> latest_;
  int compilations_ = 0;
};

}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_CACHED_OP_H_
