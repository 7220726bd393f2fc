// The backward pass over a recorded graph: Backward (into gradient buffers) and Grad (returning gradients).
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/autograd/autograd.h"
#include "core/autograd/internal/graph.h"
#include "core/base/error.h"

namespace pmx {
namespace autograd {
namespace {

using internal::AutogradEntry;
using internal::AutogradNode;
using internal::WithEntry;
using NodePtr = std::shared_ptr<AutogradNode>;

// Sets both thread flags for a backward pass and restores them afterwards, also when it throws.
class PassState {
 public:
  PassState(bool create_graph, bool is_train)
      : previous_recording_(SetRecording(create_graph)), previous_training_(SetTraining(is_train)) {}
  ~PassState() {
    SetRecording(previous_recording_);
    SetTraining(previous_training_);
  }

 private:
  bool previous_recording_, previous_training_;
};

// A GradientBuilder whose values are arrays and whose calls go through autograd::Invoke, so that a pass run
// while recording (create_graph) records the gradient computation itself.
class RecordingGradientBuilder : public GradientBuilder {
 public:
  // Registers an array and returns its value id.
  Value Add(NDArray array) {
    values_.push_back(std::move(array));
    return static_cast<Value>(values_.size() - 1);
  }
  // The array of a value id.
  const NDArray& Get(Value value) const {
    PMX_CHECK(value >= 0 && value < static_cast<Value>(values_.size()), kRuntimeError,
              "[backward] gradient value %d is unknown: expected 0 <= value < %d", value,
              static_cast<int>(values_.size()));
    return values_[value];
  }
  std::vector<Value> Call(const std::string& op, const std::vector<Value>& inputs,
                          const ParamMap& params = {}) override {
    std::vector<NDArray> arrays;
    for (Value value : inputs) arrays.push_back(Get(value));
    const OpDef& def = OpRegistry::Get()->Lookup(op);
    const OpParams parsed = def.ParseParams(params);
    std::vector<NDArray> outputs = autograd::Invoke(def, arrays, parsed);
    std::vector<Value> ids;
    const int visible = def.NumVisibleOutputs(parsed);
    for (int i = 0; i < visible; ++i) ids.push_back(Add(std::move(outputs[i])));
    return ids;
  }

 private:
  std::vector<NDArray> values_;
};

// One gradient to compute: output `index` of `node`.
struct Target {
  NodePtr node;   // A variable node or a recorded node.
  int index = 0;  // Which output.
};

// One walk over the graph behind some heads: checks the heads, orders the nodes, runs the gradients.
class BackwardPass {
 public:
  // Checks `heads` and `head_grads` for `function` (error messages) and orders the nodes they depend on.
  BackwardPass(const char* function, const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads);

  // The nodes the heads depend on, inputs before their consumers.
  const std::vector<NodePtr>& order() const { return order_; }
  // The head gradients as given (to avoid handing one back as a result).
  const std::vector<NDArray>& given_head_grads() const { return given_head_grads_; }
  // Propagates the head gradients to `targets`, skipping nodes that lead to none of them. Call once, inside
  // the pass's PassState.
  void Run(const std::vector<Target>& targets);
  // The gradient accumulated for output `index` of `node`; a none array when none reached it.
  NDArray GradientOf(const AutogradNode* node, int index) const;
  // Frees every walked node (variables excepted).
  void Free();

 private:
  // Adds `grad` to the gradient of output `index` of `node`.
  void Accumulate(const AutogradNode* node, int index, NDArray grad);
  // Runs the gradient of a recorded op or custom node on its output gradients.
  std::vector<NDArray> NodeGradient(const NodePtr& node, const std::vector<NDArray>& output_grads) const;
  std::vector<NDArray> OpGradient(const NodePtr& node, const std::vector<NDArray>& output_grads) const;

  const char* function_;
  std::vector<Target> heads_;
  std::vector<NDArray> head_grads_;        // One per head; ones where none was given.
  std::vector<NDArray> given_head_grads_;  // As given.
  std::vector<NodePtr> order_;
  std::unordered_map<const AutogradNode*, std::vector<NDArray>> grads_;
};

BackwardPass::BackwardPass(const char* function, const std::vector<NDArray>& heads,
                           const std::vector<NDArray>& head_grads)
    : function_(function), given_head_grads_(head_grads) {
  PMX_CHECK(!heads.empty(), kValueError, "[%s] no heads given: expected at least one array to differentiate",
            function);
  PMX_CHECK(head_grads.empty() || head_grads.size() == heads.size(), kValueError,
            "[%s] %d head(s) but %d head gradient(s): expected one per head, or none for all ones", function,
            static_cast<int>(heads.size()), static_cast<int>(head_grads.size()));
  for (size_t i = 0; i < heads.size(); ++i) {
    const int number = static_cast<int>(i);
    const NDArray& head = heads[i];
    const AutogradEntry* entry = head.autograd_entry().get();
    PMX_CHECK(entry != nullptr && entry->node != nullptr, kValueError,
              "[%s] cannot differentiate head %d because it is not in a computational graph: record its "
              "computation (autograd.record()) from arrays marked with attach_grad / mark_variables",
              function, number);
    PMX_CHECK(!entry->node->freed, kValueError,
              "[%s] cannot differentiate head %d: its graph was freed by an earlier backward. Pass "
              "retain_graph=true to that backward to differentiate the same graph twice",
              function, number);
    heads_.push_back(Target{entry->node, entry->index});
    const NDArray given = head_grads.empty() ? NDArray() : head_grads[i];
    if (given.is_none()) {
      head_grads_.push_back(NDArray::Ones(head.shape(), head.dtype(), head.device()));
      continue;
    }
    PMX_CHECK(given.shape() == head.shape() && given.dtype() == head.dtype() && given.device() == head.device(),
              kValueError, "[%s] head gradient %d is %s %s on %s: expected the head's %s %s on %s", function,
              number, given.shape().ToString(), DTypeName(given.dtype()), given.device().ToString(),
              head.shape().ToString(), DTypeName(head.dtype()), head.device().ToString());
    head_grads_.push_back(given);
  }

  // Depth-first post-order without recursion: (node, next input to visit).
  std::unordered_set<const AutogradNode*> visited;
  std::vector<std::pair<NodePtr, size_t>> stack;
  for (const Target& head : heads_) {
    if (!visited.insert(head.node.get()).second) continue;
    stack.emplace_back(head.node, 0);
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next == node->inputs.size()) {
        order_.push_back(std::move(node));
        stack.pop_back();
        continue;
      }
      const NodePtr& input = node->inputs[next++].node;
      if (input == nullptr || !visited.insert(input.get()).second) continue;
      PMX_CHECK(!input->freed, kValueError,
                "[%s] cannot differentiate through '%s': that part of the graph was freed by an earlier backward. "
                "Pass retain_graph=true to that backward to differentiate the same graph twice",
                function, input->name);
      stack.emplace_back(input, 0);
    }
  }
}

void BackwardPass::Accumulate(const AutogradNode* node, int index, NDArray grad) {
  std::vector<NDArray>& slots = grads_[node];
  if (slots.empty()) slots.resize(std::max(1, node->num_visible_outputs()));
  NDArray& slot = slots.at(index);
  // Never in place: the same array may be the gradient of several inputs (x + x), and under create_graph
  // the sum must be recorded.
  slot = slot.is_none() ? std::move(grad) : autograd::Invoke1("elemwise_add", {slot, grad});
}

NDArray BackwardPass::GradientOf(const AutogradNode* node, int index) const {
  auto found = grads_.find(node);
  if (found == grads_.end() || index >= static_cast<int>(found->second.size())) return NDArray();
  return found->second[index];
}

std::vector<NDArray> BackwardPass::OpGradient(const NodePtr& node, const std::vector<NDArray>& output_grads) const {
  const OpDef& op = *node->op;
  PMX_CHECK(static_cast<bool>(op.gradient), kValueError,
            "[%s] operator '%s' is on the path from the heads to the variables but is not differentiable (it "
            "has no gradient): stop the gradient before it (detach / BlockGrad) or leave it out of the recording",
            function_, op.name);
  // Under create_graph the gradient must see the forward arrays with their slots, so that what it computes
  // from them is connected to the forward graph (second derivatives).
  const bool connect = IsRecording();
  RecordingGradientBuilder builder;
  GradientArgs args;
  args.params = &node->params;
  for (size_t i = 0; i < node->input_values.size(); ++i) {
    const AutogradEntry& entry = node->inputs[i];
    args.inputs.push_back(builder.Add(connect && entry.node ? WithEntry(node->input_values[i], entry.node, entry.index)
                                                            : node->input_values[i]));
  }
  for (size_t k = 0; k < node->output_values.size(); ++k) {
    const bool visible = static_cast<int>(k) < node->num_visible_outputs();
    args.outputs.push_back(builder.Add(connect && visible ? WithEntry(node->output_values[k], node, static_cast<int>(k))
                                                          : node->output_values[k]));
  }
  for (const NDArray& grad : output_grads) args.output_grads.push_back(builder.Add(grad));
  const auto grads = op.gradient(builder, args);
  PMX_CHECK(grads.size() == node->inputs.size(), kRuntimeError, "[%s] the gradient of '%s' returned %d values for %d inputs",
            function_, op.name, static_cast<int>(grads.size()), static_cast<int>(node->inputs.size()));
  std::vector<NDArray> result;
  for (const auto& grad : grads) result.push_back(grad ? builder.Get(*grad) : NDArray());
  return result;
}

std::vector<NDArray> BackwardPass::NodeGradient(const NodePtr& node, const std::vector<NDArray>& output_grads) const {
  std::vector<NDArray> grads;
  try {
    grads = node->kind == AutogradNode::Kind::kOp ? OpGradient(node, output_grads) : node->backward(output_grads);
  } catch (const Error& error) {
    // Name the node being differentiated: the failing call inside its gradient is often a different op.
    if (error.message().rfind(std::string("[") + function_ + "]", 0) == 0) throw;
    throw Error(error.kind(), absl::StrFormat("[%s] in the gradient of '%s': %s", function_, node->name,
                                              error.message()));
  }
  PMX_CHECK(grads.size() == node->inputs.size(), kRuntimeError,
            "[%s] the backward function of '%s' returned %d gradient(s) for %d input(s)", function_, node->name,
            static_cast<int>(grads.size()), static_cast<int>(node->inputs.size()));
  for (size_t i = 0; i < grads.size(); ++i) {
    PMX_CHECK(grads[i].is_none() || grads[i].shape() == node->input_shapes[i], kRuntimeError,
              "[%s] the gradient of '%s' for input %d has shape %s: expected the input's shape %s", function_,
              node->name, static_cast<int>(i), grads[i].shape().ToString(), node->input_shapes[i].ToString());
  }
  return grads;
}

void BackwardPass::Run(const std::vector<Target>& targets) {
  // A node is worth differentiating when some input leads to a target.
  std::unordered_set<const AutogradNode*> target_nodes, useful;
  for (const Target& target : targets) target_nodes.insert(target.node.get());
  auto leads_to_target = [&](const AutogradNode* node) { return target_nodes.count(node) || useful.count(node); };
  for (const NodePtr& node : order_) {
    for (const AutogradEntry& input : node->inputs) {
      if (input.node && leads_to_target(input.node.get())) {
        useful.insert(node.get());
        break;
      }
    }
  }

  for (size_t i = 0; i < heads_.size(); ++i) Accumulate(heads_[i].node.get(), heads_[i].index, head_grads_[i]);
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    const NodePtr& node = *it;
    if (node->kind == AutogradNode::Kind::kVariable || !useful.count(node.get())) continue;
    auto found = grads_.find(node.get());
    if (found == grads_.end()) continue;  // No gradient flows into this node (e.g. only through integer inputs).
    std::vector<NDArray> output_grads = std::move(found->second);
    grads_.erase(found);
    for (int k = 0; k < node->num_visible_outputs(); ++k) {
      if (output_grads[k].is_none()) {
        output_grads[k] = NDArray::Zeros(node->output_shapes[k], node->output_dtypes[k], node->output_devices[k]);
      }
    }
    // Targets among recorded nodes (Grad with respect to an intermediate array) keep their gradient.
    if (target_nodes.count(node.get())) grads_[node.get()] = output_grads;
    const std::vector<NDArray> input_grads = NodeGradient(node, output_grads);
    for (size_t i = 0; i < input_grads.size(); ++i) {
      const AutogradEntry& input = node->inputs[i];
      if (input.node == nullptr || input_grads[i].is_none() || !leads_to_target(input.node.get())) continue;
      Accumulate(input.node.get(), input.index, input_grads[i]);
    }
  }
}

void BackwardPass::Free() {
  for (const NodePtr& node : order_) node->Free();
}

// Writes `grad` (none: no gradient reached it) into the buffer of variable `node` per its GradReq.
void WriteGradient(AutogradNode* node, NDArray grad, bool create_graph) {
  const bool add = node->grad_req == GradReq::kAdd;
  if (grad.is_none()) {
    if (add) return;
    grad = NDArray::Zeros(node->grad.shape(), node->grad.dtype(), node->grad.device());
  }
  // The buffer keeps its memory (callers hold it as x.grad); only its slot changes.
  InvokeOptions options;
  options.outputs = {Detach(node->grad)};
  if (create_graph) {
    // Recorded, so that the buffer is in the graph of the gradient (and, for kAdd, of the earlier contents).
    node->grad = add ? autograd::Invoke("elemwise_add", {node->grad, grad}, {}, options).at(0)
                     : autograd::Invoke("_copy", {grad}, {}, options).at(0);
    return;
  }
  options.modes = {add ? WriteMode::kAdd : WriteMode::kWrite};
  node->grad = pmx::Invoke("_copy", {grad}, {}, options).at(0);
}

}  // namespace

void Backward(const std::vector<NDArray>& heads, const std::vector<NDArray>& head_grads, bool retain_graph,
              bool create_graph, bool is_train) {
  BackwardPass pass("backward", heads, head_grads);
  std::vector<Target> targets;
  for (const NodePtr& node : pass.order()) {
    if (node->kind == AutogradNode::Kind::kVariable && node->grad_req != GradReq::kNull) {
      targets.push_back(Target{node, 0});
    }
  }
  PMX_CHECK(!targets.empty(), kValueError,
            "[backward] there are no inputs in the computational graph that require gradients: mark them with "
            "attach_grad / mark_variables (grad_req write or add) before recording");
  {
    PassState state(create_graph, is_train);
    pass.Run(targets);
    for (const Target& target : targets) {
      WriteGradient(target.node.get(), pass.GradientOf(target.node.get(), 0), create_graph);
      target.node->fresh_grad = true;
    }
  }
  if (!retain_graph) pass.Free();
}

std::vector<NDArray> Grad(const std::vector<NDArray>& heads, const std::vector<NDArray>& variables,
                          const std::vector<NDArray>& head_grads, bool retain_graph, bool create_graph,
                          bool is_train) {
  PMX_CHECK(!variables.empty(), kValueError, "[grad] no variables given: expected at least one array");
  std::vector<Target> targets;
  for (size_t i = 0; i < variables.size(); ++i) {
    const AutogradEntry* entry = internal::LiveEntryOf(variables[i]);
    PMX_CHECK(entry != nullptr, kValueError,
              "[grad] cannot differentiate with respect to variable %d because it is not in a computational graph: "
              "mark it with attach_grad / mark_variables before recording",
              static_cast<int>(i));
    targets.push_back(Target{entry->node, entry->index});
  }
  BackwardPass pass("grad", heads, head_grads);
  std::vector<NDArray> results;
  {
    PassState state(create_graph, is_train);
    pass.Run(targets);
    for (size_t i = 0; i < targets.size(); ++i) {
      NDArray grad = pass.GradientOf(targets[i].node.get(), targets[i].index);
      const NDArray& variable = variables[i];
      if (grad.is_none()) {
        // Not reached from the heads: MXNet's gradient pass answers zeros.
        grad = NDArray::Zeros(variable.shape(), variable.dtype(), variable.device());
      } else {
        // A result must not alias a caller's head gradient (it flows through unchanged for y = x).
        for (const NDArray& given : pass.given_head_grads()) {
          if (grad.SharesChunkWith(given)) {
            grad = autograd::Invoke1("_copy", {grad});
            break;
          }
        }
      }
      results.push_back(std::move(grad));
    }
  }
  if (!retain_graph) pass.Free();
  return results;
}

}  // namespace autograd
}  // namespace pmx
