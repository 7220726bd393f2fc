#include "core/graph/cached_op.h"

#include <unordered_map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "core/autograd/autograd.h"
#include "core/base/error.h"

namespace pmx {
namespace graph {

using internal::Pass;
using internal::RunState;

struct CachedOp::Compiled {
  std::string key;                                      // The signature it was compiled for.
  std::shared_ptr<const internal::CompiledGraph> graph;
  std::vector<std::optional<uint32_t>> input_entries;   // Per input: its variable's entry (if used).
  std::vector<uint32_t> output_entries;                 // Per output.
  std::vector<std::optional<uint32_t>> head_entries;    // Per output: its head gradient's entry (if read).
  std::vector<std::optional<uint32_t>> grad_entries;    // Per input: its gradient's entry (if computed).
  std::shared_ptr<RunState> kept;                       // static_alloc: the buffers kept between calls.
};

namespace {

bool ParseFlag(const std::string& key, const std::string& value) {
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower == "true" || lower == "1") return true;
  if (lower == "false" || lower == "0") return false;
  Throw(ErrorKind::kValueError, "[CachedOp] flag %s is '%s': expected true or false", key, value);
}

// The signature of a call: device, each input's dtype and shape, and which inputs get gradients.
std::string Signature(const std::vector<NDArray>& inputs, const std::vector<bool>& grad_mask) {
  std::string key;
  auto append = [&key](int64_t value) { key.append(reinterpret_cast<const char*>(&value), sizeof(value)); };
  const Device device = inputs.empty() ? DefaultDevice() : inputs[0].device();
  append(static_cast<int64_t>(device.type));
  append(device.id);
  for (const NDArray& input : inputs) {
    append(static_cast<int64_t>(input.dtype()));
    append(input.ndim());
    for (int64_t dim : input.shape().dims()) append(dim);
  }
  for (bool flag : grad_mask) key.push_back(flag ? '1' : '0');
  return key;
}

}  // namespace

CachedOpOptions ParseCachedOpFlags(const std::map<std::string, std::string>& flags) {
  CachedOpOptions options;
  for (const auto& [key, value] : flags) {
    if (key == "static_alloc") {
      options.static_alloc = ParseFlag(key, value);
    } else if (key == "static_shape") {
      options.static_shape = ParseFlag(key, value);
    } else if (key == "fuse") {
      options.fuse = ParseFlag(key, value);
    } else if (key == "inplace") {
      options.inplace = ParseFlag(key, value);
    } else if (key == "share_memory") {
      options.share_memory = ParseFlag(key, value);
    } else if (key == "cse") {
      options.cse = ParseFlag(key, value);
    } else if (key == "forward_bulk_size" || key == "backward_bulk_size") {
      int size;
      PMX_CHECK(absl::SimpleAtoi(value, &size), kValueError, "[CachedOp] flag %s is '%s': expected an integer", key,
                value);
      options.bulk_size = size;
    } else if (key != "inline_limit" && key != "data_indices" && key != "param_indices") {
      Throw(ErrorKind::kValueError,
            "[CachedOp] unknown flag '%s': expected static_alloc, static_shape, forward_bulk_size, "
            "backward_bulk_size, inline_limit, data_indices, param_indices, fuse, inplace, share_memory or cse",
            key);
    }
  }
  return options;
}

CachedOp::CachedOp(const Symbol& symbol, CachedOpOptions options) : symbol_(symbol), options_(options) {
  PMX_CHECK(!symbol.outputs().empty(), kValueError, "[CachedOp] the symbol has no outputs");
  const IndexedGraph graph(symbol.outputs());
  for (uint32_t id : graph.input_nodes()) {
    input_nodes_.push_back(graph.node_ptr(id));
    input_names_.push_back(graph.node(id).source->name);
    auxiliary_.push_back(graph.is_auxiliary(id));
  }
  output_names_ = symbol.ListOutputs();
}

int CachedOp::num_compilations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return compilations_;
}

std::pair<size_t, size_t> CachedOp::memory_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!latest_) return {0, 0};
  return {latest_->graph->plan().planned_bytes, latest_->graph->plan().unplanned_bytes};
}

size_t CachedOp::num_fused_chains() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_ ? latest_->graph->num_fused_chains() : 0;
}

std::shared_ptr<CachedOp::Compiled> CachedOp::Lookup(const std::vector<NDArray>& inputs,
                                                     const std::vector<bool>& grad_mask) {
  std::string key = Signature(inputs, grad_mask);
  std::lock_guard<std::mutex> lock(mutex_);
  if (options_.static_shape) {
    if (latest_ && latest_->key == key) return latest_;
  } else {
    auto found = cache_.find(key);
    if (found != cache_.end()) return latest_ = found->second;
  }

  std::vector<std::optional<WriteMode>> grad_modes(inputs.size());
  for (size_t i = 0; i < grad_mask.size(); ++i) {
    if (grad_mask[i]) grad_modes[i] = WriteMode::kWrite;
  }
  const internal::GraphBuild build =
      internal::BuildGraph(symbol_.outputs(), input_nodes_, grad_modes, output_names_, options_.cse);
  std::unordered_map<const Node*, size_t> input_index;
  for (size_t i = 0; i < input_nodes_.size(); ++i) input_index[input_nodes_[i].get()] = i;
  internal::CompileOptions compile;
  compile.fuse = options_.fuse;
  compile.inplace = options_.inplace;
  compile.share_memory = options_.share_memory;
  compile.bulk_size = options_.bulk_size;
  auto compiled = std::make_shared<Compiled>();
  compiled->key = std::move(key);
  compiled->graph = internal::CompileGraph(
      build,
      [&](const Node& node) -> std::optional<std::pair<Shape, DType>> {
        auto found = input_index.find(&node);
        if (found == input_index.end()) return std::nullopt;
        return std::make_pair(inputs[found->second].shape(), inputs[found->second].dtype());
      },
      inputs[0].device(), compile, "CachedOp");
  const IndexedGraph& graph = compiled->graph->graph();
  for (const auto& node : input_nodes_) compiled->input_entries.push_back(internal::VariableEntry(graph, node.get()));
  for (size_t i = 0; i < build.num_forward_outputs; ++i) {
    compiled->output_entries.push_back(graph.output_entries()[i]);
    compiled->head_entries.push_back(
        build.head_grads.empty() ? std::nullopt : internal::VariableEntry(graph, build.head_grads[i].get()));
  }
  for (int position : build.grad_output) {
    compiled->grad_entries.push_back(position < 0 ? std::nullopt
                                                  : std::optional<uint32_t>(graph.output_entries()[position]));
  }
  ++compilations_;
  if (options_.static_shape) cache_.clear();
  cache_[compiled->key] = compiled;
  return latest_ = compiled;
}

std::shared_ptr<RunState> CachedOp::StateFor(Compiled* compiled) {
  if (!options_.static_alloc) return std::make_shared<RunState>(compiled->graph);
  std::lock_guard<std::mutex> lock(mutex_);
  // The kept buffers are free unless a recorded call's backward still holds them.
  if (compiled->kept && compiled->kept.use_count() == 1) return compiled->kept;
  auto state = std::make_shared<RunState>(compiled->graph);
  if (!compiled->kept) compiled->kept = state;
  return state;
}

std::vector<NDArray> CachedOp::operator()(const std::vector<NDArray>& inputs) {
  PMX_CHECK(inputs.size() == input_names_.size(), kValueError, "[CachedOp] expected %d inputs, given %d",
            static_cast<int>(input_names_.size()), static_cast<int>(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    PMX_CHECK(!inputs[i].is_none(), kValueError, "[CachedOp] input %d ('%s') is a none array", static_cast<int>(i),
              input_names_[i]);
  }
  const bool record = autograd::NeedsRecording(inputs);
  std::vector<bool> grad_mask;
  if (record) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      grad_mask.push_back(!auxiliary_[i] && autograd::InGraph(inputs[i]) && IsFloatingPoint(inputs[i].dtype()));
    }
  }
  const std::shared_ptr<Compiled> compiled = Lookup(inputs, grad_mask);
  std::shared_ptr<RunState> state = StateFor(compiled.get());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (compiled->input_entries[i]) state->Bind(*compiled->input_entries[i], inputs[i]);
  }
  std::vector<NDArray> outputs;
  const internal::CompiledGraph& graph = *compiled->graph;
  for (uint32_t entry : compiled->output_entries) {
    outputs.push_back(NDArray::Empty(graph.shapes()[entry], graph.dtypes()[entry], graph.device()));
    state->Bind(entry, outputs.back());
  }
  state->Run(Pass::kForward, autograd::IsTraining());
  if (!record) return outputs;

  const size_t num_inputs = inputs.size();
  auto backward = [compiled, state, num_inputs](const std::vector<NDArray>& output_grads) {
    PMX_CHECK(!autograd::IsRecording(), kNotImplementedError,
              "[CachedOp] a backward pass with create_graph (higher-order gradients) cannot go through a hybridized "
              "block yet: call it without hybridize() for higher-order gradients");
    for (size_t i = 0; i < compiled->head_entries.size(); ++i) {
      if (compiled->head_entries[i]) state->Bind(*compiled->head_entries[i], output_grads.at(i));
    }
    std::vector<NDArray> grads(num_inputs);
    const internal::CompiledGraph& graph = *compiled->graph;
    for (size_t i = 0; i < num_inputs; ++i) {
      if (!compiled->grad_entries[i]) continue;
      const uint32_t entry = *compiled->grad_entries[i];
      grads[i] = NDArray::Empty(graph.shapes()[entry], graph.dtypes()[entry], graph.device());
      state->Bind(entry, grads[i]);
    }
    state->Run(Pass::kBackward, autograd::IsTraining());
    return grads;
  };
  std::vector<NDArray*> pointers;
  for (NDArray& output : outputs) pointers.push_back(&output);
  autograd::RecordCustom(inputs, pointers, std::move(backward), "CachedOp");
  return outputs;
}

}  // namespace graph
}  // namespace pmx
