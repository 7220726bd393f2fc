#include "core/graph/gradient_pass.h"

#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/base/error.h"
#include "core/ops/params.h"

namespace pmx {
namespace graph {

GradientBuilder::Value GraphGradientBuilder::Add(const NodeEntry& entry) {
  values_.push_back(entry);
  return static_cast<Value>(values_.size() - 1);
}

const NodeEntry& GraphGradientBuilder::Get(Value value) const {
  PMX_CHECK(value >= 0 && value < static_cast<Value>(values_.size()), kValueError,
            "[Gradient] gradient value %d is unknown: expected 0 <= value < %d", value,
            static_cast<int>(values_.size()));
  return values_[value];
}

std::vector<GradientBuilder::Value> GraphGradientBuilder::Call(const std::string& op, const std::vector<Value>& inputs,
                                                               const ParamMap& params) {
  const OpDef& def = OpRegistry::Get()->Lookup(op);
  std::vector<NodeEntry> entries;
  for (Value value : inputs) entries.push_back(Get(value));
  auto node = Node::Op(def, prefix_ + "_" + def.name + std::to_string(counter_++), params, std::move(entries));
  std::vector<Value> ids;
  const int visible = node->num_visible_outputs();
  for (int k = 0; k < visible; ++k) ids.push_back(Add(NodeEntry{node, k}));
  return ids;
}

namespace {

// A key for one output of one node.
using EntryKey = std::pair<const Node*, int>;

// The sum of `parts` (one entry is returned as is; several become one add_n node named after `name`).
NodeEntry Sum(const std::vector<NodeEntry>& parts, const std::string& name) {
  if (parts.size() == 1) return parts[0];
  static const OpDef& add_n = OpRegistry::Get()->Lookup("add_n");
  auto node = Node::Op(add_n, name, {{"num_args", std::to_string(parts.size())}}, parts);
  return NodeEntry{node, 0};
}

NodeEntry ZerosLike(const NodeEntry& entry, const std::string& name) {
  static const OpDef& zeros_like = OpRegistry::Get()->Lookup("zeros_like");
  return NodeEntry{Node::Op(zeros_like, name, {}, {entry}), 0};
}

}  // namespace

std::vector<NodeEntry> Gradient(const std::vector<NodeEntry>& heads, const std::vector<NodeEntry>& xs,
                                const std::vector<NodeEntry>& head_grads, const std::vector<bool>& skip) {
  PMX_CHECK(head_grads.size() == heads.size(), kValueError, "[Gradient] expected %d head gradient(s), given %d",
            static_cast<int>(heads.size()), static_cast<int>(head_grads.size()));
  PMX_CHECK(skip.empty() || skip.size() == xs.size(), kValueError,
            "[Gradient] expected %d skip flag(s) (one per variable), given %d", static_cast<int>(xs.size()),
            static_cast<int>(skip.size()));
  std::unordered_set<const Node*> wanted;
  for (size_t i = 0; i < xs.size(); ++i) {
    PMX_CHECK(xs[i].node != nullptr && xs[i].node->is_variable(), kValueError,
              "[Gradient] gradients are taken with respect to variables, but argument %d is an output of '%s'",
              static_cast<int>(i), xs[i].node ? xs[i].node->name : std::string("<null>"));
    if (skip.empty() || !skip[i]) wanted.insert(xs[i].node.get());
  }

  // Nodes that depend on a wanted variable: only they pass gradients on.
  const std::vector<std::shared_ptr<Node>> order = TopologicalOrder(heads);
  std::unordered_set<const Node*> depends;
  for (const auto& node : order) {
    bool found = node->is_variable() && wanted.count(node.get());
    for (const NodeEntry& input : node->inputs) found = found || depends.count(input.node.get());
    if (found) depends.insert(node.get());
  }

  std::map<EntryKey, std::vector<NodeEntry>> contributions;
  for (size_t i = 0; i < heads.size(); ++i) {
    if (!depends.count(heads[i].node.get())) continue;
    contributions[{heads[i].node.get(), heads[i].index}].push_back(head_grads[i]);
  }

  GraphGradientBuilder builder("");
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& node = **it;
    if (node.is_variable() || !depends.count(&node)) continue;
    const int visible = node.num_visible_outputs();
    bool reached = false;
    for (int k = 0; k < visible && !reached; ++k) reached = contributions.count({&node, k}) > 0;
    if (!reached) continue;
    PMX_CHECK(static_cast<bool>(node.op->gradient), kValueError,
              "[%s] node '%s' is not differentiable, but a gradient flows through it (wrap its input in "
              "BlockGrad/stop_gradient, or set grad_req 'null' for the variables before it)",
              node.op->name, node.name);
    builder.set_prefix(node.name + "_backward");
    GradientArgs args;
    args.params = &node.parsed;
    for (const NodeEntry& input : node.inputs) args.inputs.push_back(builder.Add(input));
    const std::shared_ptr<Node>& self = *it;
    for (int k = 0; k < node.num_outputs(); ++k) args.outputs.push_back(builder.Add(NodeEntry{self, k}));
    for (int k = 0; k < visible; ++k) {
      auto found = contributions.find({&node, k});
      const std::string name = node.name + "_backward_head" + std::to_string(k);
      args.output_grads.push_back(builder.Add(found == contributions.end()
                                                  ? ZerosLike(NodeEntry{self, k}, name + "_zeros")
                                                  : Sum(found->second, name + "_sum")));
    }
    const std::vector<std::optional<GradientBuilder::Value>> grads = node.op->gradient(builder, args);
    PMX_CHECK(grads.size() == node.inputs.size(), kRuntimeError,
              "[%s] gradient returned %d values for %d inputs (node '%s')", node.op->name,
              static_cast<int>(grads.size()), static_cast<int>(node.inputs.size()), node.name);
    for (size_t i = 0; i < grads.size(); ++i) {
      const NodeEntry& input = node.inputs[i];
      if (!grads[i] || !depends.count(input.node.get())) continue;
      contributions[{input.node.get(), input.index}].push_back(builder.Get(*grads[i]));
    }
  }

  std::vector<NodeEntry> result;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!skip.empty() && skip[i]) {
      result.push_back(NodeEntry{});
      continue;
    }
    auto found = contributions.find({xs[i].node.get(), xs[i].index});
    const std::string name = xs[i].node->name + "_grad";
    result.push_back(found == contributions.end() ? ZerosLike(xs[i], name + "_zeros")
                                                  : Sum(found->second, name + "_sum"));
  }
  return result;
}

std::vector<NodeEntry> MakeOutputsDistinct(const std::vector<NodeEntry>& outputs) {
  static const OpDef& copy = OpRegistry::Get()->Lookup("_copy");
  std::vector<NodeEntry> result;
  std::map<EntryKey, int> used;
  for (const NodeEntry& output : outputs) {
    if (!output.node) {
      result.push_back(output);
      continue;
    }
    const int uses = used[{output.node.get(), output.index}]++;
    if (output.node->is_variable() || uses > 0) {
      result.push_back(NodeEntry{Node::Op(copy, output.node->name + "_copy" + std::to_string(uses), {}, {output}), 0});
    } else {
      result.push_back(output);
    }
  }
  return result;
}

}  // namespace graph
}  // namespace pmx
