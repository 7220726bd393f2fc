#include "core/graph/executor.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_join.h"
#include "core/base/error.h"

namespace pmx {
namespace graph {
namespace {

using internal::CompiledGraph;
using internal::Pass;
using internal::RunState;

// The variable nodes of a symbol's graph: arguments and auxiliary states, in list order.
void ListVariables(const Symbol& symbol, std::vector<std::shared_ptr<Node>>* args,
                   std::vector<std::shared_ptr<Node>>* aux) {
  const IndexedGraph graph(symbol.outputs());
  for (uint32_t id : graph.input_nodes()) (graph.is_auxiliary(id) ? aux : args)->push_back(graph.node_ptr(id));
}

// A view of the first shape.size() elements of `array` with `shape` (sharing its memory).
NDArray ViewPrefix(const NDArray& array, const Shape& shape) {
  return array.Reshape(Shape({array.size()})).Slice(0, shape.size()).Reshape(shape);
}

}  // namespace

GradReq ParseGradReq(const std::string& text) {
  if (text == "null") return GradReq::kNull;
  if (text == "write" || text == "inplace") return GradReq::kWrite;
  if (text == "add") return GradReq::kAdd;
  Throw(ErrorKind::kValueError, "[Executor] grad_req is '%s': expected 'null', 'write', 'inplace' or 'add'", text);
}

std::unique_ptr<Executor> Executor::Bind(const Symbol& symbol, Device device, std::vector<NDArray> args,
                                         std::vector<NDArray> arg_grads, std::vector<GradReq> grad_reqs,
                                         std::vector<NDArray> aux_states, const ExecutorOptions& options) {
  std::unique_ptr<Executor> executor(new Executor());
  executor->symbol_ = symbol;
  executor->device_ = device;
  executor->arg_names_ = symbol.ListArguments();
  executor->aux_names_ = symbol.ListAuxiliaryStates();
  executor->output_names_ = symbol.ListOutputs();
  const size_t num_args = executor->arg_names_.size();
  PMX_CHECK(args.size() == num_args, kValueError, "[bind] expected %d argument arrays (%s), given %d",
            static_cast<int>(num_args), absl::StrJoin(executor->arg_names_, ", "), static_cast<int>(args.size()));
  PMX_CHECK(aux_states.size() == executor->aux_names_.size(), kValueError,
            "[bind] expected %d auxiliary state arrays (%s), given %d", static_cast<int>(executor->aux_names_.size()),
            absl::StrJoin(executor->aux_names_, ", "), static_cast<int>(aux_states.size()));
  if (arg_grads.empty()) arg_grads.resize(num_args);
  PMX_CHECK(arg_grads.size() == num_args, kValueError,
            "[bind] expected %d gradient arrays (one per argument), given %d",
            static_cast<int>(num_args), static_cast<int>(arg_grads.size()));
  if (grad_reqs.empty()) {
    for (const NDArray& grad : arg_grads) grad_reqs.push_back(grad.is_none() ? GradReq::kNull : GradReq::kWrite);
  }
  PMX_CHECK(grad_reqs.size() == num_args, kValueError,
            "[bind] expected %d grad_req values (one per argument), given %d",
            static_cast<int>(num_args), static_cast<int>(grad_reqs.size()));
  for (size_t i = 0; i < num_args; ++i) {
    PMX_CHECK(!args[i].is_none(), kValueError, "[bind] argument '%s' is a none array", executor->arg_names_[i]);
    if (grad_reqs[i] != GradReq::kNull) {
      PMX_CHECK(!arg_grads[i].is_none(), kValueError,
                "[bind] argument '%s' has grad_req '%s' but no gradient array", executor->arg_names_[i],
                grad_reqs[i] == GradReq::kAdd ? "add" : "write");
      PMX_CHECK(arg_grads[i].shape() == args[i].shape() && arg_grads[i].dtype() == args[i].dtype(), kValueError,
                "[bind] the gradient array of '%s' is %s %s, expected %s %s like the argument",
                executor->arg_names_[i], arg_grads[i].shape().ToString(), DTypeName(arg_grads[i].dtype()),
                args[i].shape().ToString(), DTypeName(args[i].dtype()));
    } else {
      arg_grads[i] = NDArray();
    }
  }
  for (size_t i = 0; i < aux_states.size(); ++i) {
    PMX_CHECK(!aux_states[i].is_none(), kValueError, "[bind] auxiliary state '%s' is a none array",
              executor->aux_names_[i]);
  }
  executor->args_ = std::move(args);
  executor->grads_ = std::move(arg_grads);
  executor->reqs_ = std::move(grad_reqs);
  executor->aux_ = std::move(aux_states);
  executor->Initialize(options);
  return executor;
}

std::unique_ptr<Executor> Executor::SimpleBind(const Symbol& symbol, Device device,
                                               const std::map<std::string, Shape>& shapes,
                                               const std::map<std::string, DType>& dtypes,
                                               const std::map<std::string, GradReq>& grad_reqs, GradReq default_req,
                                               const ExecutorOptions& options) {
  const Symbol::Inferred<Shape> inferred_shapes = symbol.InferShape(shapes);
  Symbol::Inferred<DType> inferred_dtypes = symbol.InferType(dtypes, /*partial=*/true);
  if (!inferred_dtypes.complete) {
    // MXNet's default: arguments no dtype reaches are float32.
    std::map<std::string, DType> known = dtypes;
    const std::vector<std::string> arg_names = symbol.ListArguments();
    for (size_t i = 0; i < arg_names.size(); ++i) {
      if (!inferred_dtypes.arguments[i]) known.emplace(arg_names[i], DType::kFloat32);
    }
    inferred_dtypes = symbol.InferType(known);
  }
  const std::vector<std::string> arg_names = symbol.ListArguments();
  for (const auto& [name, req] : grad_reqs) {
    PMX_CHECK(std::find(arg_names.begin(), arg_names.end(), name) != arg_names.end(), kValueError,
              "[simple_bind] grad_req given for '%s', which is not an argument (arguments: %s)", name,
              absl::StrJoin(arg_names, ", "));
  }
  std::vector<NDArray> args, grads, aux;
  std::vector<GradReq> reqs;
  for (size_t i = 0; i < arg_names.size(); ++i) {
    const Shape& shape = *inferred_shapes.arguments[i];
    const DType dtype = *inferred_dtypes.arguments[i];
    args.push_back(NDArray::Zeros(shape, dtype, device));
    auto found = grad_reqs.find(arg_names[i]);
    const GradReq req = found == grad_reqs.end() ? default_req : found->second;
    reqs.push_back(req);
    grads.push_back(req == GradReq::kNull ? NDArray() : NDArray::Zeros(shape, dtype, device));
  }
  for (size_t i = 0; i < inferred_shapes.auxiliary_states.size(); ++i) {
    aux.push_back(NDArray::Zeros(*inferred_shapes.auxiliary_states[i], *inferred_dtypes.auxiliary_states[i], device));
  }
  return Bind(symbol, device, std::move(args), std::move(grads), std::move(reqs), std::move(aux), options);
}

void Executor::Initialize(const ExecutorOptions& options) {
  options_ = options;
  std::vector<std::shared_ptr<Node>> arg_nodes, aux_nodes;
  ListVariables(symbol_, &arg_nodes, &aux_nodes);
  std::unordered_map<const Node*, NDArray> variable_arrays;
  for (size_t i = 0; i < arg_nodes.size(); ++i) variable_arrays[arg_nodes[i].get()] = args_[i];
  for (size_t i = 0; i < aux_nodes.size(); ++i) variable_arrays[aux_nodes[i].get()] = aux_[i];

  std::vector<std::optional<WriteMode>> grad_modes;
  for (GradReq req : reqs_) {
    grad_modes.push_back(req == GradReq::kNull  ? std::optional<WriteMode>()
                         : req == GradReq::kAdd ? WriteMode::kAdd
                                                : WriteMode::kWrite);
    has_backward_ = has_backward_ || req != GradReq::kNull;
  }
  const internal::GraphBuild build =
      internal::BuildGraph(symbol_.outputs(), arg_nodes, grad_modes, output_names_, options.cse);
  internal::CompileOptions compile;
  compile.fuse = options.fuse;
  compile.inplace = options.inplace;
  compile.share_memory = options.share_memory;
  compile.bulk_size = options.bulk_size;
  compiled_ = internal::CompileGraph(
      build,
      [&](const Node& node) -> std::optional<std::pair<Shape, DType>> {
        auto found = variable_arrays.find(&node);
        if (found == variable_arrays.end()) return std::nullopt;
        return std::make_pair(found->second.shape(), found->second.dtype());
      },
      device_, compile, "bind");

  const IndexedGraph& graph = compiled_->graph();
  const std::vector<uint32_t>& output_entries = graph.output_entries();
  state_ = std::make_unique<RunState>(compiled_);
  for (uint32_t id : graph.input_nodes()) {
    auto found = variable_arrays.find(graph.node(id).source);
    if (found != variable_arrays.end()) state_->Bind(graph.node(id).first_entry, found->second);
  }
  for (size_t i = 0; i < build.num_forward_outputs; ++i) {
    const uint32_t entry = output_entries[i];
    outputs_.push_back(NDArray::Empty(compiled_->shapes()[entry], compiled_->dtypes()[entry], device_));
    state_->Bind(entry, outputs_.back());
  }
  head_grad_used_.assign(build.num_forward_outputs, false);
  head_grads_.resize(build.num_forward_outputs);
  for (size_t i = 0; i < build.head_grads.size(); ++i) {
    const std::optional<uint32_t> entry = internal::VariableEntry(graph, build.head_grads[i].get());
    if (!entry) continue;
    head_grad_used_[i] = true;
    head_grads_[i] = NDArray::Zeros(outputs_[i].shape(), outputs_[i].dtype(), device_);
    state_->Bind(*entry, head_grads_[i]);
  }
  for (size_t i = 0; i < arg_nodes.size(); ++i) {
    if (build.grad_output[i] >= 0) state_->Bind(output_entries[build.grad_output[i]], grads_[i]);
  }
}

void Executor::Forward(bool is_train, const std::map<std::string, NDArray>& inputs) {
  for (const auto& [name, array] : inputs) {
    auto found = std::find(arg_names_.begin(), arg_names_.end(), name);
    PMX_CHECK(found != arg_names_.end(), kValueError, "[forward] '%s' is not an argument (arguments: %s)", name,
              absl::StrJoin(arg_names_, ", "));
    const NDArray& target = args_[found - arg_names_.begin()];
    PMX_CHECK(array.shape() == target.shape(), kValueError, "[forward] '%s' has shape %s, expected %s", name,
              array.shape().ToString(), target.shape().ToString());
    array.CopyTo(target);
  }
  state_->Run(Pass::kForward, is_train);
}

void Executor::Backward(const std::vector<NDArray>& head_grads, bool is_train) {
  PMX_CHECK(has_backward_, kValueError,
            "[backward] the executor was bound without gradients (every grad_req is 'null'): bind with "
            "args_grad / grad_req to call backward");
  PMX_CHECK(head_grads.size() <= outputs_.size(), kValueError,
            "[backward] expected at most %d head gradients, given %d",
            static_cast<int>(outputs_.size()), static_cast<int>(head_grads.size()));
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (!head_grad_used_[i]) continue;
    PMX_CHECK(i < head_grads.size() && !head_grads[i].is_none(), kValueError,
              "[backward] output '%s' is not a loss (its gradient needs a head gradient), so head gradients are "
              "required when calling backward; to minimise the output itself, pass it through make_loss",
              output_names_[i]);
    PMX_CHECK(head_grads[i].shape() == outputs_[i].shape(), kValueError,
              "[backward] the head gradient of '%s' has shape %s, expected %s", output_names_[i],
              head_grads[i].shape().ToString(), outputs_[i].shape().ToString());
    head_grads[i].CopyTo(head_grads_[i]);
  }
  state_->Run(Pass::kBackward, is_train);
}

std::map<std::string, NDArray> Executor::arg_dict() const {
  std::map<std::string, NDArray> dict;
  for (size_t i = 0; i < arg_names_.size(); ++i) dict[arg_names_[i]] = args_[i];
  return dict;
}

std::map<std::string, NDArray> Executor::grad_dict() const {
  std::map<std::string, NDArray> dict;
  for (size_t i = 0; i < arg_names_.size(); ++i) {
    if (!grads_[i].is_none()) dict[arg_names_[i]] = grads_[i];
  }
  return dict;
}

std::map<std::string, NDArray> Executor::aux_dict() const {
  std::map<std::string, NDArray> dict;
  for (size_t i = 0; i < aux_names_.size(); ++i) dict[aux_names_[i]] = aux_[i];
  return dict;
}

std::map<std::string, NDArray> Executor::output_dict() const {
  std::map<std::string, NDArray> dict;
  for (size_t i = 0; i < output_names_.size(); ++i) dict[output_names_[i]] = outputs_[i];
  return dict;
}

void Executor::CopyParamsFrom(const std::map<std::string, NDArray>& arg_params,
                              const std::map<std::string, NDArray>& aux_params, bool allow_extra_params) {
  auto copy_in = [&](const std::map<std::string, NDArray>& params, const std::vector<std::string>& names,
                     const std::vector<NDArray>& arrays, const char* kind) {
    for (const auto& [name, value] : params) {
      auto found = std::find(names.begin(), names.end(), name);
      if (found == names.end()) {
        PMX_CHECK(allow_extra_params, kValueError, "[copy_params_from] found name '%s' that is not in the %s", name,
                  kind);
        continue;
      }
      const NDArray& target = arrays[found - names.begin()];
      PMX_CHECK(value.shape() == target.shape(), kValueError, "[copy_params_from] '%s' has shape %s, expected %s",
                name, value.shape().ToString(), target.shape().ToString());
      value.CopyTo(target);
    }
  };
  copy_in(arg_params, arg_names_, args_, "arguments");
  copy_in(aux_params, aux_names_, aux_, "auxiliary states");
}

std::unique_ptr<Executor> Executor::Reshape(const std::map<std::string, Shape>& shapes, bool partial_shaping,
                                            bool allow_up_sizing) const {
  // Shapes the new ones imply; arguments they leave open keep their current shape.
  Symbol::Inferred<Shape> inferred = symbol_.InferShape(shapes, /*partial=*/true);
  if (!inferred.complete) {
    std::map<std::string, Shape> known = shapes;
    for (size_t i = 0; i < arg_names_.size(); ++i) {
      if (!inferred.arguments[i]) known.emplace(arg_names_[i], args_[i].shape());
    }
    inferred = symbol_.InferShape(known);
  }
  auto resize = [&](const NDArray& array, const Shape& shape, const std::string& name, bool given) {
    if (array.is_none() || array.shape() == shape) return array;
    PMX_CHECK(partial_shaping || given, kValueError,
              "[reshape] the shape of '%s', which was not given, changes from %s to %s: give it explicitly or set "
              "partial_shaping=True",
              name, array.shape().ToString(), shape.ToString());
    if (shape.size() <= array.size()) return ViewPrefix(array, shape);
    PMX_CHECK(allow_up_sizing, kValueError,
              "[reshape] the new shape %s of '%s' is larger than the original %s: making a big executor and then "
              "down sizing it is more efficient; set allow_up_sizing=True to allocate new arrays",
              shape.ToString(), name, array.shape().ToString());
    return NDArray::Zeros(shape, array.dtype(), array.device());
  };
  std::vector<NDArray> args, grads, aux;
  for (size_t i = 0; i < arg_names_.size(); ++i) {
    const bool given = shapes.count(arg_names_[i]) > 0;
    args.push_back(resize(args_[i], *inferred.arguments[i], arg_names_[i], given));
    grads.push_back(resize(grads_[i], *inferred.arguments[i], arg_names_[i], given));
  }
  for (size_t i = 0; i < aux_names_.size(); ++i) {
    aux.push_back(resize(aux_[i], *inferred.auxiliary_states[i], aux_names_[i], shapes.count(aux_names_[i]) > 0));
  }
  return Bind(symbol_, device_, std::move(args), std::move(grads), reqs_, std::move(aux), options_);
}

}  // namespace graph
}  // namespace pmx
