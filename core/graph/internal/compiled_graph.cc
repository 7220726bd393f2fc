#include "core/graph/internal/compiled_graph.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "core/base/error.h"
#include "core/graph/gradient_pass.h"
#include "core/ops/invoke.h"
#include "core/storage/storage.h"

namespace pmx {
namespace graph {
namespace internal {
namespace {

// "variable 'x'" or "output 1 of node 'bn1' (BatchNorm)", for messages.
std::string DescribeEntry(const IndexedGraph& graph, uint32_t entry) {
  const uint32_t id = graph.entry_node(entry);
  const Node& node = *graph.node(id).source;
  if (node.is_variable()) return "variable '" + node.name + "'";
  return "output " + std::to_string(entry - graph.node(id).first_entry) + " of node '" + node.name + "' (" +
         node.op->name + ")";
}

TensorRef RefOf(const NDArray& array) {
  TensorRef ref;
  ref.data = array.data();
  ref.shape = array.shape();
  ref.dtype = array.dtype();
  ref.device = array.device();
  return ref;
}

void SortUnique(std::vector<VarHandle>* vars) {
  std::sort(vars->begin(), vars->end());
  vars->erase(std::unique(vars->begin(), vars->end()), vars->end());
}

}  // namespace

void InferAll(const IndexedGraph& graph, std::vector<MaybeShape> known_shapes, std::vector<MaybeDType> known_dtypes,
              const char* who, std::vector<Shape>* shapes, std::vector<DType>* dtypes) {
  const size_t unknown_shapes = InferShapes(graph, &known_shapes);
  const size_t unknown_dtypes = InferTypes(graph, &known_dtypes);
  if (unknown_shapes > 0 || unknown_dtypes > 0) {
    std::string names;
    int listed = 0;
    for (uint32_t entry = 0; entry < graph.num_entries() && listed < 8; ++entry) {
      if (known_shapes[entry] && known_dtypes[entry]) continue;
      names += (listed++ ? ", " : "") + DescribeEntry(graph, entry) + (known_shapes[entry] ? " (dtype)" : " (shape)");
    }
    Throw(ErrorKind::kValueError,
          "[%s] cannot infer the shapes and dtypes of %d entries from the inputs given, e.g. %s: give the shapes "
          "of more arguments",
          who, static_cast<int>(unknown_shapes + unknown_dtypes), names);
  }
  shapes->clear();
  dtypes->clear();
  for (const MaybeShape& shape : known_shapes) shapes->push_back(*shape);
  for (const MaybeDType& dtype : known_dtypes) dtypes->push_back(*dtype);
}

CompiledGraph::CompiledGraph(std::shared_ptr<const IndexedGraph> graph, size_t num_forward_outputs,
                             std::vector<Shape> shapes, std::vector<DType> dtypes, Device device,
                             std::vector<WriteMode> output_modes, const CompileOptions& options, std::string who)
    : graph_(std::move(graph)),
      who_(std::move(who)),
      shapes_(std::move(shapes)),
      dtypes_(std::move(dtypes)),
      device_(device) {
  const IndexedGraph& g = *graph_;
  const std::vector<uint32_t>& outputs = g.output_entries();
  PMX_CHECK(num_forward_outputs <= outputs.size() && output_modes.size() == outputs.size(), kValueError,
            "[CompiledGraph] expected %d output modes and at most that many forward outputs, given %d and %d",
            static_cast<int>(outputs.size()), static_cast<int>(output_modes.size()),
            static_cast<int>(num_forward_outputs));
  // The nodes the forward outputs need come first in node order (depth-first from the outputs in order).
  num_forward_nodes_ = static_cast<uint32_t>(
      TopologicalOrder({g.outputs().begin(), g.outputs().begin() + num_forward_outputs}).size());

  external_.assign(g.num_entries(), false);
  for (uint32_t id : g.input_nodes()) external_[g.node(id).first_entry] = true;
  for (uint32_t entry : outputs) external_[entry] = true;

  const bool on_gpu = device.type == DeviceType::kGPU;
  kernels_.assign(g.num_nodes(), nullptr);
  modes_.resize(g.num_nodes());
  std::vector<std::vector<uint32_t>> consumers(g.num_entries());
  for (uint32_t id = 0; id < g.num_nodes(); ++id) {
    const Node& node = *g.node(id).source;
    for (uint32_t input : g.node(id).inputs) consumers[input].push_back(id);
    if (node.is_variable()) continue;
    auto found = node.op->kernels.find(on_gpu ? DeviceType::kGPU : DeviceType::kCPU);
    PMX_CHECK(found != node.op->kernels.end(), kNotImplementedError, "[%s] no %s kernel for %s yet (graph node '%s')",
              node.op->name, on_gpu ? "GPU" : "CPU", node.op->name, node.name);
    kernels_[id] = &found->second;
    modes_[id].assign(node.num_outputs(), WriteMode::kWrite);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (output_modes[i] != WriteMode::kAdd) continue;
    PMX_CHECK(consumers[outputs[i]].empty() && !g.node(g.entry_node(outputs[i])).source->is_variable(), kValueError,
              "[CompiledGraph] output %d is accumulated (grad_req 'add') but %s is read inside the graph",
              static_cast<int>(i), DescribeEntry(g, outputs[i]));
    const uint32_t id = g.entry_node(outputs[i]);
    modes_[id][outputs[i] - g.node(id).first_entry] = WriteMode::kAdd;
  }

  // Fusion groups never straddle the forward/backward boundary: the passes run separately.
  std::vector<std::vector<uint32_t>> groups;
  if (options.fuse && device.is_host()) {
    groups = FindFusionGroups(g, shapes_, dtypes_, 0, num_forward_nodes_);
    auto backward = FindFusionGroups(g, shapes_, dtypes_, num_forward_nodes_, static_cast<uint32_t>(g.num_nodes()));
    groups.insert(groups.end(), backward.begin(), backward.end());
  }
  std::vector<int> group_of(g.num_nodes(), -1);
  for (size_t i = 0; i < groups.size(); ++i) {
    for (uint32_t id : groups[i]) group_of[id] = static_cast<int>(i);
  }
  auto needs_memory = [&](uint32_t entry) {
    if (external_[entry]) return true;
    const int group = group_of[g.entry_node(entry)];
    for (uint32_t consumer : consumers[entry]) {
      if (group < 0 || group_of[consumer] != group) return true;
    }
    return false;
  };
  std::vector<bool> no_storage(g.num_entries(), false);
  for (const auto& group : groups) {
    for (uint32_t id : group) no_storage[g.node(id).first_entry] = !needs_memory(g.node(id).first_entry);
  }

  MemoryPlanOptions plan_options;
  plan_options.external = external_;
  plan_options.no_storage = no_storage;
  plan_options.inplace = options.inplace;
  plan_options.share = options.share_memory;
  // Forward values the backward pass reads stay until the end: backward may run more than once per forward
  // (MXNet's executor allows it; so does autograd with retain_graph), and must read them intact each time.
  plan_options.keep.assign(g.num_entries(), false);
  for (uint32_t id = num_forward_nodes_; id < g.num_nodes(); ++id) {
    for (uint32_t input : g.node(id).inputs) plan_options.keep[input] = g.entry_node(input) < num_forward_nodes_;
  }
  plan_ = PlanMemory(g, shapes_, dtypes_, plan_options);
  for (uint32_t id = 0; id < g.num_nodes(); ++id) {
    for (size_t k = 0; k < modes_[id].size(); ++k) {
      if (plan_.inplace[g.node(id).first_entry + k]) modes_[id][k] = WriteMode::kInplace;
    }
  }

  size_t forward_steps = 0;
  for (uint32_t id = 0; id < g.num_nodes(); ++id) {
    if (g.node(id).source->is_variable()) continue;
    const int group = group_of[id];
    if (group >= 0 && groups[group].front() != id) continue;
    Step step;
    step.node = id;
    if (group >= 0) {
      step.chain = std::make_shared<FusedChain>(g, groups[group], shapes_, dtypes_, needs_memory, [&](uint32_t entry) {
        const uint32_t node = g.entry_node(entry);
        return modes_[node][entry - g.node(node).first_entry];
      });
      ++num_chains_;
    }
    steps_.push_back(std::move(step));
    if (id < num_forward_nodes_) forward_steps = steps_.size();
  }
  forward_ = Segments(0, forward_steps, options.bulk_size);
  backward_ = Segments(forward_steps, steps_.size(), options.bulk_size);
}

// Note [Tiny segments run inline]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Handing an engine operation to a worker thread and waking the waiting caller afterwards costs tens of
// microseconds on a loaded machine, more than a hybridized chain of tiny elementwise ops takes to compute. A
// host segment made only of elementwise ops over few elements is therefore pushed as FnProperty::kAsync: the
// engine runs it on the thread that makes it ready (usually the caller, at once), still ordered by the same
// variables. Anything bigger, or any other op, goes to the workers as usual, so large graphs stay asynchronous.
constexpr int64_t kInlineElements = int64_t{1} << 16;

std::vector<CompiledGraph::Segment> CompiledGraph::Segments(size_t first_step, size_t last_step, int bulk_size) const {
  const IndexedGraph& g = *graph_;
  std::vector<Segment> segments;
  size_t step = first_step;
  while (step < last_step) {
    Segment segment;
    segment.first_step = step;
    int nodes = 0;
    int64_t elements = 0;
    bool elementwise = device_.is_host();
    std::unordered_set<uint32_t> reads, writes;
    while (step < last_step && (bulk_size <= 0 || nodes < bulk_size)) {
      const std::vector<uint32_t> ids =
          steps_[step].chain ? steps_[step].chain->nodes() : std::vector<uint32_t>{steps_[step].node};
      for (uint32_t id : ids) {
        const IndexedGraph::NodeInfo& info = g.node(id);
        const Node& node = *info.source;
        for (uint32_t input : info.inputs) reads.insert(input);
        for (int k = 0; k < node.num_outputs(); ++k) writes.insert(info.first_entry + k);
        for (int index : node.op->MutatedInputs(node.parsed)) writes.insert(info.inputs.at(index));
        if (node.op->needs_rng) segment.rng_nodes.push_back(id);
        elementwise = elementwise && IsElementwiseOp(*node.op);
        elements += shapes_[info.first_entry].size();
        ++nodes;
      }
      ++step;
    }
    segment.last_step = step;
    segment.run_inline = elementwise && elements <= kInlineElements;
    if (nodes == 1) segment.name = g.node(steps_[segment.first_step].node).source->op->name.c_str();
    for (uint32_t entry : writes) {
      if (plan_.entry_slot[entry] != MemoryPlan::kNoStorage) segment.writes.push_back(entry);
    }
    for (uint32_t entry : reads) {
      if (!writes.count(entry) && plan_.entry_slot[entry] != MemoryPlan::kNoStorage) segment.reads.push_back(entry);
    }
    std::sort(segment.reads.begin(), segment.reads.end());
    std::sort(segment.writes.begin(), segment.writes.end());
    segments.push_back(std::move(segment));
  }
  return segments;
}

void CompiledGraph::RunSegment(const Segment& segment, const std::vector<TensorRef>& refs,
                               const std::vector<uint64_t>& seeds, bool is_train, const RunContext& run) const {
  const IndexedGraph& g = *graph_;
  std::vector<TensorRef> inputs, outputs;
  size_t next_seed = 0;
  for (size_t s = segment.first_step; s < segment.last_step; ++s) {
    const Step& step = steps_[s];
    if (step.chain) {
      inputs.clear();
      for (uint32_t entry : step.chain->external_entries()) inputs.push_back(refs[entry]);
      KernelContext base;
      base.device = run.device;
      base.stream = run.stream;
      base.is_train = is_train;
      step.chain->Run(base, inputs);
      continue;
    }
    const IndexedGraph::NodeInfo& info = g.node(step.node);
    const Node& node = *info.source;
    inputs.clear();
    outputs.clear();
    for (uint32_t input : info.inputs) inputs.push_back(refs[input]);
    for (int k = 0; k < node.num_outputs(); ++k) outputs.push_back(refs[info.first_entry + k]);
    KernelContext context;
    context.params = &node.parsed;
    context.device = run.device;
    context.stream = run.stream;
    context.modes = modes_[step.node];
    context.is_train = is_train;
    if (node.op->needs_rng) context.seed = seeds.at(next_seed++);
    std::vector<StorageBlock> temps;
    if (node.op->needs_temp_space) {
      context.temp_space = [&temps, &run](size_t bytes) {
        temps.push_back(Storage::Get()->Allocate(bytes, run.device));
        return temps.back().data;
      };
    }
    auto free_temps = [&temps]() {
      for (StorageBlock& block : temps) Storage::Get()->Free(block);
      temps.clear();
    };
    try {
      (*kernels_[step.node])(context, inputs, outputs);
    } catch (const Error& error) {
      free_temps();
      throw Error(error.kind(), error.message() + " (graph node '" + node.name + "')");
    } catch (...) {
      free_temps();
      throw;
    }
    free_temps();
  }
}

RunState::RunState(std::shared_ptr<const CompiledGraph> compiled) : compiled_(std::move(compiled)) {
  const CompiledGraph& c = *compiled_;
  const size_t num_entries = c.graph().num_entries();
  for (size_t bytes : c.plan().slot_bytes) slots_.push_back(NDArray::Empty(Shape({static_cast<int64_t>(bytes)}),
                                                                             DType::kUint8, c.device()));
  arrays_.resize(num_entries);
  refs_.resize(num_entries);
  vars_.assign(num_entries, nullptr);
  for (uint32_t entry = 0; entry < num_entries; ++entry) {
    refs_[entry].shape = c.shapes()[entry];
    refs_[entry].dtype = c.dtypes()[entry];
    refs_[entry].device = c.device();
    const int slot = c.plan().entry_slot[entry];
    if (slot >= 0) {
      refs_[entry].data = slots_[slot].data();
      vars_[entry] = slots_[slot].var();
    }
  }
}

void RunState::Bind(uint32_t entry, const NDArray& array) {
  const CompiledGraph& c = *compiled_;
  PMX_CHECK(entry < c.graph().num_entries() && c.external_[entry], kValueError,
            "[%s] entry %d is not a variable or output of the graph", c.who(), static_cast<int>(entry));
  PMX_CHECK(!array.is_none(), kValueError, "[%s] %s is bound to a none array", c.who(),
            DescribeEntry(c.graph(), entry));
  PMX_CHECK(array.shape() == c.shapes()[entry] && array.dtype() == c.dtypes()[entry], kValueError,
            "[%s] %s is %s %s but the graph was compiled for %s %s", c.who(), DescribeEntry(c.graph(), entry),
            array.shape().ToString(), DTypeName(array.dtype()), c.shapes()[entry].ToString(),
            DTypeName(c.dtypes()[entry]));
  PMX_CHECK(array.device() == c.device() || (array.device().is_host() && c.device().is_host()), kValueError,
            "[%s] %s is on %s but the graph runs on %s: copy it first", c.who(), DescribeEntry(c.graph(), entry),
            array.device().ToString(), c.device().ToString());
  arrays_[entry] = array;
  refs_[entry] = RefOf(array);
  vars_[entry] = array.var();
  snapshot_.reset();
  forward_vars_.clear();
  backward_vars_.clear();
}

std::pair<std::vector<VarHandle>, std::vector<VarHandle>> RunState::SegmentVars(
    const CompiledGraph::Segment& segment) const {
  const CompiledGraph& c = *compiled_;
  std::vector<VarHandle> reads, writes;
  auto check = [&](uint32_t entry) {
    PMX_CHECK(vars_[entry] != nullptr, kValueError, "[%s] %s has no array bound", c.who(),
              DescribeEntry(c.graph(), entry));
  };
  for (uint32_t entry : segment.writes) {
    check(entry);
    writes.push_back(vars_[entry]);
  }
  SortUnique(&writes);
  for (uint32_t entry : segment.reads) {
    check(entry);
    if (!std::binary_search(writes.begin(), writes.end(), vars_[entry])) reads.push_back(vars_[entry]);
  }
  SortUnique(&reads);
  return {std::move(reads), std::move(writes)};
}

void RunState::Run(Pass pass, bool is_train) {
  const CompiledGraph& c = *compiled_;
  const std::vector<CompiledGraph::Segment>& segments = pass == Pass::kForward ? c.forward_ : c.backward_;
  auto& cache = pass == Pass::kForward ? forward_vars_ : backward_vars_;
  if (cache.empty()) {
    for (const auto& segment : segments) cache.push_back(SegmentVars(segment));
  }
  if (!snapshot_) snapshot_ = std::make_shared<const std::vector<TensorRef>>(refs_);
  for (size_t i = 0; i < segments.size(); ++i) {
    const CompiledGraph::Segment* segment = &segments[i];
    std::vector<uint64_t> seeds;
    for (size_t k = 0; k < segment->rng_nodes.size(); ++k) seeds.push_back(NextRandomSeed(c.device()));
    Engine::Get()->PushSync(
        [compiled = compiled_, snapshot = snapshot_, segment, seeds = std::move(seeds), is_train](RunContext run) {
          compiled->RunSegment(*segment, *snapshot, seeds, is_train, run);
        },
        c.device(), cache[i].first, cache[i].second,
        segment->run_inline ? FnProperty::kAsync : FnProperty::kNormal, 0, segment->name);
  }
}

// Note [Outputs of compiled graphs]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Each output of a compiled graph is written into an array of its own, so every output must be a distinct
// operator output: an output that is a variable or repeats another gets a _copy (MakeOutputsDistinct). An
// accumulated output (grad_req 'add') is written with WriteMode::kAdd by the node producing it, which is only
// right when nothing else in the graph reads that entry (it would see the sum), so such an entry gets a _copy too.
GraphBuild BuildGraph(std::vector<NodeEntry> forward, const std::vector<std::shared_ptr<Node>>& xs,
                      const std::vector<std::optional<WriteMode>>& grad_modes,
                      const std::vector<std::string>& output_names, bool cse) {
  PMX_CHECK(grad_modes.size() == xs.size() && output_names.size() == forward.size(), kValueError,
            "[BuildGraph] expected %d gradient modes and %d output names, given %d and %d",
            static_cast<int>(xs.size()), static_cast<int>(forward.size()), static_cast<int>(grad_modes.size()),
            static_cast<int>(output_names.size()));
  GraphBuild build;
  if (cse) forward = EliminateCommonSubexpressions(forward);
  build.num_forward_outputs = forward.size();
  build.outputs = forward;
  build.modes.assign(forward.size(), WriteMode::kWrite);
  build.grad_output.assign(xs.size(), -1);
  bool any = false;
  for (const auto& mode : grad_modes) any = any || mode.has_value();
  if (any) {
    std::vector<NodeEntry> heads, x_entries;
    std::vector<bool> skip;
    for (const std::string& name : output_names) {
      build.head_grads.push_back(Node::Variable(name + "_head_grad"));
      heads.push_back(NodeEntry{build.head_grads.back(), 0});
    }
    for (size_t i = 0; i < xs.size(); ++i) {
      x_entries.push_back(NodeEntry{xs[i], 0});
      skip.push_back(!grad_modes[i].has_value());
    }
    const std::vector<NodeEntry> grads = Gradient(forward, x_entries, heads, skip);
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].node) continue;
      build.grad_output[i] = static_cast<int>(build.outputs.size());
      build.outputs.push_back(grads[i]);
      build.modes.push_back(*grad_modes[i]);
    }
    build.outputs = EliminateDeadCode(build.outputs);
  }
  build.outputs = MakeOutputsDistinct(build.outputs);
  std::unordered_set<const Node*> consumed;
  for (const auto& node : TopologicalOrder(build.outputs)) {
    for (const NodeEntry& input : node->inputs) consumed.insert(input.node.get());
  }
  static const OpDef& copy = OpRegistry::Get()->Lookup("_copy");
  for (size_t i = 0; i < build.outputs.size(); ++i) {
    NodeEntry& output = build.outputs[i];
    if (build.modes[i] == WriteMode::kAdd && consumed.count(output.node.get())) {
      output = NodeEntry{Node::Op(copy, output.node->name + "_accumulate", {}, {output}), 0};
    }
  }
  return build;
}

std::shared_ptr<const CompiledGraph> CompileGraph(const GraphBuild& build, const VariableInfo& variables,
                                                  Device device, const CompileOptions& options, const char* who) {
  auto graph = std::make_shared<const IndexedGraph>(build.outputs);
  std::vector<MaybeShape> shapes(graph->num_entries());
  std::vector<MaybeDType> dtypes(graph->num_entries());
  for (uint32_t id : graph->input_nodes()) {
    const auto info = variables(*graph->node(id).source);
    if (!info) continue;
    shapes[graph->node(id).first_entry] = info->first;
    dtypes[graph->node(id).first_entry] = info->second;
  }
  // The forward graph infers completely from the variables; then head gradients take their outputs' shapes.
  InferShapes(*graph, &shapes);
  InferTypes(*graph, &dtypes);
  for (size_t i = 0; i < build.head_grads.size(); ++i) {
    const std::optional<uint32_t> entry = VariableEntry(*graph, build.head_grads[i].get());
    if (!entry) continue;
    shapes[*entry] = shapes[graph->output_entries()[i]];
    dtypes[*entry] = dtypes[graph->output_entries()[i]];
  }
  std::vector<Shape> entry_shapes;
  std::vector<DType> entry_dtypes;
  InferAll(*graph, std::move(shapes), std::move(dtypes), who, &entry_shapes, &entry_dtypes);
  return std::make_shared<const CompiledGraph>(graph, build.num_forward_outputs, std::move(entry_shapes),
                                               std::move(entry_dtypes), device, build.modes, options, who);
}

std::optional<uint32_t> VariableEntry(const IndexedGraph& graph, const Node* node) {
  for (uint32_t id : graph.input_nodes()) {
    if (graph.node(id).source == node) return graph.node(id).first_entry;
  }
  return std::nullopt;
}

}  // namespace internal
}  // namespace graph
}  // namespace pmx
