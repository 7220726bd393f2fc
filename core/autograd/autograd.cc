// Autograd state, variables and recording. The backward pass: backward.cc.
#include "core/autograd/autograd.h"

#include <utility>

#include "core/autograd/internal/graph.h"
#include "core/base/error.h"

namespace pmx {

namespace internal {

AutogradNode::~AutogradNode() {
  // Dropping the head of a long chain would otherwise destroy one node per stack frame. Nodes whose last
  // reference goes while a teardown is running are parked and destroyed by the outermost destructor's loop.
  // The parking list is leaked on purpose: nodes may die during thread exit, after thread_local destructors.
  thread_local std::vector<std::shared_ptr<AutogradNode>>* parked = new std::vector<std::shared_ptr<AutogradNode>>();
  thread_local bool tearing_down = false;
  for (AutogradEntry& input : inputs) {
    if (input.node) parked->push_back(std::move(input.node));
  }
  inputs.clear();
  if (tearing_down) return;
  tearing_down = true;
  while (!parked->empty()) {
    std::shared_ptr<AutogradNode> node = std::move(parked->back());
    parked->pop_back();
    node.reset();
  }
  tearing_down = false;
}

void AutogradNode::Free() {
  if (kind == Kind::kVariable) return;
  inputs.clear();
  input_values.clear();
  output_values.clear();
  backward = nullptr;
  freed = true;
}

const AutogradEntry* LiveEntryOf(const NDArray& array) {
  const AutogradEntry* entry = array.autograd_entry().get();
  if (entry == nullptr || entry->node == nullptr || entry->node->freed) return nullptr;
  return entry;
}

NDArray WithEntry(NDArray array, const std::shared_ptr<AutogradNode>& node, int index) {
  array.set_autograd_entry(std::make_shared<AutogradEntry>(AutogradEntry{node, index}));
  return array;
}

}  // namespace internal

namespace autograd {
namespace {

using internal::AutogradEntry;
using internal::AutogradNode;
using internal::LiveEntryOf;

thread_local bool recording = false;
thread_local bool training = false;

// Throws ValueError naming `op` if `output` (output `index` of a call) is in a graph while recording.
void CheckOutputNotInGraph(const NDArray& output, int index, const std::string& op) {
  PMX_CHECK(LiveEntryOf(output) == nullptr, kValueError,
            "[%s] output %d is already in a recorded graph: assigning to it while recording (out=, +=, x[:]=, "
            "in-place ops) would corrupt the values its gradients need. Call backward first to clear the graph, "
            "write outside autograd.record(), or use a new array",
            op, index);
}

// Creates a recorded-call node for `inputs` with slot-less copies of what it saves; gives each of the first
// `visible` outputs a slot naming it.
std::shared_ptr<AutogradNode> NewCallNode(AutogradNode::Kind kind, const std::string& name,
                                          const std::vector<NDArray>& inputs,
                                          const std::vector<NDArray*>& outputs, int visible) {
  auto node = std::make_shared<AutogradNode>();
  node->kind = kind;
  node->name = name;
  for (const NDArray& input : inputs) {
    const AutogradEntry* entry = LiveEntryOf(input);
    node->inputs.push_back(entry ? *entry : AutogradEntry{});
    node->input_shapes.push_back(input.shape());
  }
  for (int k = 0; k < visible; ++k) {
    node->output_shapes.push_back(outputs[k]->shape());
    node->output_dtypes.push_back(outputs[k]->dtype());
    node->output_devices.push_back(outputs[k]->device());
  }
  return node;
}

}  // namespace

bool IsRecording() { return recording; }

bool SetRecording(bool value) { return std::exchange(recording, value); }

bool IsTraining() { return training; }

bool SetTraining(bool value) { return std::exchange(training, value); }

RecordScope::RecordScope(bool train_mode)
    : previous_recording_(SetRecording(true)), previous_training_(SetTraining(train_mode)) {}

RecordScope::~RecordScope() {
  SetRecording(previous_recording_);
  SetTraining(previous_training_);
}

PauseScope::PauseScope(bool train_mode)
    : previous_recording_(SetRecording(false)), previous_training_(SetTraining(train_mode)) {}

PauseScope::~PauseScope() {
  SetRecording(previous_recording_);
  SetTraining(previous_training_);
}

void MarkVariables(const std::vector<NDArray*>& variables, const std::vector<NDArray>& gradients,
                   const std::vector<GradReq>& reqs) {
  const int count = static_cast<int>(variables.size());
  PMX_CHECK(gradients.size() == variables.size(), kValueError,
            "[mark_variables] %d variable(s) but %d gradient buffer(s): expected one buffer per variable", count,
            static_cast<int>(gradients.size()));
  PMX_CHECK(reqs.empty() || reqs.size() == variables.size(), kValueError,
            "[mark_variables] %d variable(s) but %d grad_req(s): expected one per variable (or none)", count,
            static_cast<int>(reqs.size()));
  // Check everything before marking anything, so that a bad call changes nothing.
  for (int i = 0; i < count; ++i) {
    PMX_CHECK(variables[i] != nullptr && !variables[i]->is_none(), kValueError,
              "[mark_variables] variable %d is %s: expected an array", i, variables[i] ? "none" : "null");
    if (!reqs.empty()) {
      const int req = static_cast<int>(reqs[i]);
      PMX_CHECK(req == 0 || req == 1 || req == 3, kValueError,
                "[mark_variables] grad_req %d of variable %d: expected 0 (null), 1 (write) or 3 (add)", req, i);
    }
    const NDArray& grad = gradients[i];
    if (grad.is_none()) continue;
    const NDArray& variable = *variables[i];
    PMX_CHECK(grad.shape() == variable.shape() && grad.dtype() == variable.dtype() &&
                  grad.device() == variable.device(),
              kValueError,
              "[mark_variables] gradient %d is %s %s on %s: expected the variable's %s %s on %s", i,
              grad.shape().ToString(), DTypeName(grad.dtype()), grad.device().ToString(),
              variable.shape().ToString(), DTypeName(variable.dtype()), variable.device().ToString());
    PMX_CHECK(!grad.SharesChunkWith(variable), kValueError,
              "[mark_variables] gradient %d shares memory with its variable: expected a separate buffer", i);
  }
  for (int i = 0; i < count; ++i) {
    NDArray& variable = *variables[i];
    auto node = std::make_shared<AutogradNode>();
    node->kind = AutogradNode::Kind::kVariable;
    node->name = "variable";
    node->grad = gradients[i].is_none() ? NDArray::Zeros(variable.shape(), variable.dtype(), variable.device())
                                        : Detach(gradients[i]);
    node->grad_req = reqs.empty() ? GradReq::kWrite : reqs[i];
    variable = internal::WithEntry(variable, node, 0);
  }
}

NDArray GradOf(const NDArray& array) {
  const AutogradEntry* entry = LiveEntryOf(array);
  if (entry == nullptr || entry->node->kind != AutogradNode::Kind::kVariable) return NDArray();
  return entry->node->grad;
}

bool GradIsFresh(const NDArray& array) {
  const AutogradEntry* entry = LiveEntryOf(array);
  return entry != nullptr && entry->node->kind == AutogradNode::Kind::kVariable && entry->node->fresh_grad;
}

void SetGradFresh(const NDArray& array, bool fresh) {
  const AutogradEntry* entry = LiveEntryOf(array);
  PMX_CHECK(entry != nullptr && entry->node->kind == AutogradNode::Kind::kVariable, kValueError,
            "[SetGradFresh] expected a variable (an array marked with attach_grad / mark_variables), got %s",
            entry == nullptr ? "an array outside any graph" : "the output of a recorded operation");
  entry->node->fresh_grad = fresh;
}

bool InGraph(const NDArray& array) { return LiveEntryOf(array) != nullptr; }

NDArray Detach(const NDArray& array) {
  NDArray detached = array;
  detached.set_autograd_entry(nullptr);
  return detached;
}

bool NeedsRecording(const std::vector<NDArray>& inputs) {
  if (!recording) return false;
  for (const NDArray& input : inputs) {
    if (LiveEntryOf(input) != nullptr) return true;
  }
  return false;
}

std::vector<NDArray> Invoke(const OpDef& op, const std::vector<NDArray>& inputs, const OpParams& params,
                            InvokeOptions options) {
  options.is_train = training;
  if (recording) {
    for (size_t i = 0; i < options.outputs.size(); ++i) {
      CheckOutputNotInGraph(options.outputs[i], static_cast<int>(i), op.name);
    }
  }
  std::vector<NDArray> outputs = pmx::Invoke(op, inputs, params, options);
  if (!NeedsRecording(inputs)) return outputs;

  const int visible = op.NumVisibleOutputs(params);
  std::vector<NDArray*> output_pointers;
  for (NDArray& output : outputs) output_pointers.push_back(&output);
  std::shared_ptr<AutogradNode> node =
      NewCallNode(AutogradNode::Kind::kOp, op.name, inputs, output_pointers, visible);
  node->op = &op;
  node->params = params;
  for (const NDArray& input : inputs) node->input_values.push_back(Detach(input));
  for (const NDArray& output : outputs) node->output_values.push_back(Detach(output));
  for (int k = 0; k < visible; ++k) outputs[k] = internal::WithEntry(std::move(outputs[k]), node, k);
  return outputs;
}

std::vector<NDArray> Invoke(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params,
                            InvokeOptions options) {
  const OpDef& def = OpRegistry::Get()->Lookup(op);
  return autograd::Invoke(def, inputs, def.ParseParams(params), std::move(options));
}

NDArray Invoke1(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params) {
  return autograd::Invoke(op, inputs, params).at(0);
}

bool RecordCustom(const std::vector<NDArray>& inputs, const std::vector<NDArray*>& outputs, BackwardFn backward,
                  const std::string& name) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    PMX_CHECK(outputs[i] != nullptr && !outputs[i]->is_none(), kValueError,
              "[%s] output %d is %s: expected an array", name, static_cast<int>(i), outputs[i] ? "none" : "null");
    if (recording) CheckOutputNotInGraph(*outputs[i], static_cast<int>(i), name);
  }
  if (!NeedsRecording(inputs)) return false;
  PMX_CHECK(static_cast<bool>(backward), kValueError, "[%s] the backward function is empty", name);
  std::shared_ptr<AutogradNode> node = NewCallNode(AutogradNode::Kind::kCustom, name, inputs, outputs,
                                                   static_cast<int>(outputs.size()));
  node->backward = std::move(backward);
  for (size_t k = 0; k < outputs.size(); ++k) {
    *outputs[k] = internal::WithEntry(std::move(*outputs[k]), node, static_cast<int>(k));
  }
  return true;
}

}  // namespace autograd
}  // namespace pmx
