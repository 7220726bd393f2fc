// What the Executor and CachedOp share: a graph compiled once for one set of input shapes (entries' shapes and
// dtypes, memory plan, fused chains, engine segments), and RunState, the arrays of one execution of it.
#ifndef POLYMIX_CORE_GRAPH_INTERNAL_COMPILED_GRAPH_H_
#define POLYMIX_CORE_GRAPH_INTERNAL_COMPILED_GRAPH_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/array/ndarray.h"
#include "core/engine/engine.h"
#include "core/graph/fuse.h"
#include "core/graph/graph.h"
#include "core/graph/passes.h"

namespace pmx {
namespace graph {
namespace internal {

// How a graph is compiled and run.
struct CompileOptions {
  bool fuse = true;          // Pointwise fusion of elementwise chains (CPU only).
  bool inplace = true;       // In-place reuse of memory (OpDef::inplace).
  bool share_memory = true;  // Buffer sharing between entries whose lifetimes do not overlap.
  // Nodes per engine operation; 0 pushes each pass (forward, backward) as one engine operation.
  int bulk_size = 0;
};

// The two parts of a compiled graph.
enum class Pass { kForward, kBackward };

// Infers every entry's shape and dtype of `graph` from the known ones (variables' slots filled); throws
// ValueError naming `who` and the entries still unknown.
void InferAll(const IndexedGraph& graph, std::vector<MaybeShape> known_shapes, std::vector<MaybeDType> known_dtypes,
              const char* who, std::vector<Shape>* shapes, std::vector<DType>* dtypes);

// A graph prepared for execution with fixed entry shapes and dtypes; immutable, shared by runs.
class CompiledGraph {
 public:
  // Compiles `graph`, whose first `num_forward_outputs` outputs are the forward pass (the nodes they need come
  // first in node order) and the rest the backward pass. `output_modes` holds one write mode per graph output
  // (kAdd: accumulate into the bound array; such an output must have no consumer inside the graph). Finds
  // every node's kernel for `device` (NotImplementedError if missing), plans memory and fuses chains.
  // `who` names the user of the graph ("bind", "CachedOp") in error messages.
  CompiledGraph(std::shared_ptr<const IndexedGraph> graph, size_t num_forward_outputs, std::vector<Shape> shapes,
                std::vector<DType> dtypes, Device device, std::vector<WriteMode> output_modes,
                const CompileOptions& options, std::string who = "graph");

  // The graph.
  const IndexedGraph& graph() const { return *graph_; }
  // Shape of every entry.
  const std::vector<Shape>& shapes() const { return shapes_; }
  // Dtype of every entry.
  const std::vector<DType>& dtypes() const { return dtypes_; }
  // The device it runs on.
  Device device() const { return device_; }
  // The memory plan.
  const MemoryPlan& plan() const { return plan_; }
  // Number of nodes of the forward pass (ids [0, num_forward_nodes)).
  uint32_t num_forward_nodes() const { return num_forward_nodes_; }
  // Number of fused chains.
  size_t num_fused_chains() const { return num_chains_; }
  // The name errors start with.
  const std::string& who() const { return who_; }
  // Number of engine operations one run of `pass` pushes.
  size_t num_segments(Pass pass) const { return (pass == Pass::kForward ? forward_ : backward_).size(); }

 private:
  friend class RunState;
  // One thing to run: a node or a fused chain.
  struct Step {
    uint32_t node = 0;                         // The node (unused for a chain).
    std::shared_ptr<const FusedChain> chain;  // The chain, or null.
  };
  // Consecutive steps pushed as one engine operation, with the entries they read and write.
  struct Segment {
    size_t first_step = 0, last_step = 0;
    std::vector<uint32_t> reads, writes;  // Entries (deduplicated; writes include mutated inputs).
    std::vector<uint32_t> rng_nodes;      // Nodes drawing a random seed, in order.
    const char* name = "graph";           // Engine operation name (static storage).
    bool run_inline = false;              // Note [Tiny segments run inline].
  };

  // Runs the steps of one segment on an engine worker.
  void RunSegment(const Segment& segment, const std::vector<TensorRef>& refs, const std::vector<uint64_t>& seeds,
                  bool is_train, const RunContext& run) const;
  // Builds the segments of the steps of node ids [begin, end).
  std::vector<Segment> Segments(size_t first_step, size_t last_step, int bulk_size) const;

  std::shared_ptr<const IndexedGraph> graph_;
  std::string who_;
  std::vector<Shape> shapes_;
  std::vector<DType> dtypes_;
  Device device_;
  uint32_t num_forward_nodes_ = 0;
  MemoryPlan plan_;
  std::vector<bool> external_;                   // Per entry: given by the caller (variables, outputs).
  std::vector<const Kernel*> kernels_;           // Per node.
  std::vector<std::vector<WriteMode>> modes_;    // Per node: one per output.
  std::vector<Step> steps_;
  std::vector<Segment> forward_, backward_;
  size_t num_chains_ = 0;
};

// The arrays of one execution of a compiled graph: its planned buffers and the arrays bound to its variables
// and outputs. Runs are pushed to the engine; the buffers live as long as the state (and any pushed work).
class RunState {
 public:
  // Allocates the planned buffers of `compiled`.
  explicit RunState(std::shared_ptr<const CompiledGraph> compiled);

  // The compiled graph.
  const CompiledGraph& compiled() const { return *compiled_; }
  // Binds an external entry (variable or graph output) to `array`, which must have its shape, dtype and device.
  void Bind(uint32_t entry, const NDArray& array);
  // The array bound to an external entry (none if unbound).
  const NDArray& bound(uint32_t entry) const { return arrays_[entry]; }
  // Pushes every step of `pass` to the engine. ValueError if an array it needs is not bound.
  void Run(Pass pass, bool is_train);

 private:
  // The engine variables (const, mutable) of one segment for the current bindings.
  std::pair<std::vector<VarHandle>, std::vector<VarHandle>> SegmentVars(const CompiledGraph::Segment& segment) const;

  std::shared_ptr<const CompiledGraph> compiled_;
  std::vector<NDArray> slots_;    // One byte array per planned slot.
  std::vector<NDArray> arrays_;   // Per entry: the bound array (external entries).
  std::vector<TensorRef> refs_;   // Per entry: where it lives.
  std::vector<VarHandle> vars_;   // Per entry: its engine variable (null for no storage).
  std::shared_ptr<const std::vector<TensorRef>> snapshot_;  // refs_ as of the last Run, shared with pushed work.
  std::vector<std::pair<std::vector<VarHandle>, std::vector<VarHandle>>> forward_vars_, backward_vars_;
};

// A forward graph with its gradient graph, ready to compile.
struct GraphBuild {
  std::vector<NodeEntry> outputs;                 // The forward outputs, then the gradients.
  size_t num_forward_outputs = 0;                 // How many of `outputs` are forward outputs.
  std::vector<WriteMode> modes;                   // One write mode per output.
  std::vector<std::shared_ptr<Node>> head_grads;  // Per forward output: its head-gradient variable (if any).
  std::vector<int> grad_output;                   // Per x: the position of its gradient in `outputs`, or -1.
};

// Builds the graph an executor runs: `forward` (with common subexpressions merged when `cse`) and, for each
// x whose grad_modes[i] is set, its gradient (written with that mode) from head-gradient variables named
// "<output name>_head_grad"; dead code eliminated; outputs made distinct (Note [Outputs of compiled graphs]).
GraphBuild BuildGraph(std::vector<NodeEntry> forward, const std::vector<std::shared_ptr<Node>>& xs,
                      const std::vector<std::optional<WriteMode>>& grad_modes,
                      const std::vector<std::string>& output_names, bool cse);

// Describes a variable's array for CompileGraph: its shape and dtype, or nullopt if unknown.
using VariableInfo = std::function<std::optional<std::pair<Shape, DType>>(const Node& variable)>;

// Infers every shape and dtype of `build`'s graph (head gradients take their outputs' shapes and dtypes) and
// compiles it; ValueError naming `who` when something cannot be inferred.
std::shared_ptr<const CompiledGraph> CompileGraph(const GraphBuild& build, const VariableInfo& variables,
                                                  Device device, const CompileOptions& options, const char* who);

// The entry of variable `node` in `graph`, or nullopt when the graph does not use it.
std::optional<uint32_t> VariableEntry(const IndexedGraph& graph, const Node* node);

}  // namespace internal
}  // namespace graph
}  // namespace pmx

#endif  // POLYMIX_CORE_GRAPH_INTERNAL_COMPILED_GRAPH_H_
