#include "core/graph/passes.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/base/error.h"

namespace pmx {
namespace graph {
namespace {

size_t CountOps(const std::vector<NodeEntry>& outputs) {
  size_t count = 0;
  for (const auto& node : TopologicalOrder(outputs)) count += !node->is_variable();
  return count;
}

// A copy of `node` reading `inputs`, or `node` itself when they are its inputs already.
std::shared_ptr<Node> WithInputs(const std::shared_ptr<Node>& node, const std::vector<NodeEntry>& inputs,
                                 const std::vector<std::shared_ptr<Node>>& control_deps) {
  if (inputs == node->inputs && control_deps == node->control_deps) return node;
  auto copy = std::make_shared<Node>(*node);
  copy->inputs = inputs;
  copy->control_deps = control_deps;
  return copy;
}

std::vector<NodeEntry> AllOutputs(const std::shared_ptr<Node>& node) {
  std::vector<NodeEntry> entries;
  for (int k = 0; k < node->num_outputs(); ++k) entries.push_back(NodeEntry{node, k});
  return entries;
}

bool IsOp(const NodeEntry& entry, const char* name) {
  return entry.node && !entry.node->is_variable() && entry.node->op->name == name;
}

}  // namespace

std::vector<NodeEntry> RewriteGraph(
    const std::vector<NodeEntry>& outputs,
    const std::function<std::vector<NodeEntry>(const std::shared_ptr<Node>& node,
                                               const std::vector<NodeEntry>& inputs)>& rewrite) {
  std::unordered_map<const Node*, std::vector<NodeEntry>> replaced;
  auto map_entry = [&](const NodeEntry& entry) {
    auto found = replaced.find(entry.node.get());
    return found == replaced.end() ? entry : found->second.at(entry.index);
  };
  for (const std::shared_ptr<Node>& node : TopologicalOrder(outputs)) {
    if (node->is_variable()) continue;
    std::vector<NodeEntry> inputs;
    for (const NodeEntry& input : node->inputs) inputs.push_back(map_entry(input));
    std::vector<NodeEntry> replacement = rewrite(node, inputs);
    if (replacement.empty()) {
      std::vector<std::shared_ptr<Node>> deps;
      for (const auto& dep : node->control_deps) {
        auto found = replaced.find(dep.get());
        deps.push_back(found == replaced.end() ? dep : found->second.at(0).node);
      }
      replacement = AllOutputs(WithInputs(node, inputs, deps));
    }
    PMX_CHECK(static_cast<int>(replacement.size()) == node->num_outputs(), kRuntimeError,
              "[RewriteGraph] node '%s' has %d outputs but its rewrite gave %d", node->name, node->num_outputs(),
              static_cast<int>(replacement.size()));
    if (replacement != AllOutputs(node)) replaced[node.get()] = std::move(replacement);
  }
  std::vector<NodeEntry> result;
  for (const NodeEntry& output : outputs) result.push_back(map_entry(output));
  return result;
}

std::vector<NodeEntry> EliminateDeadCode(const std::vector<NodeEntry>& outputs, const std::vector<bool>& keep,
                                         PassStats* stats) {
  PMX_CHECK(keep.empty() || keep.size() == outputs.size(), kValueError,
            "[EliminateDeadCode] expected %d keep flags (one per output), given %d", static_cast<int>(outputs.size()),
            static_cast<int>(keep.size()));
  std::vector<NodeEntry> kept;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (keep.empty() || keep[i]) kept.push_back(outputs[i]);
  }
  static const OpDef& add_n = OpRegistry::Get()->Lookup("add_n");
  std::vector<NodeEntry> result = RewriteGraph(kept, [&](const std::shared_ptr<Node>& node,
                                                         const std::vector<NodeEntry>& inputs) {
    const std::string& op = node->op->name;
    if (op == "_copy" && !inputs[0].node->is_variable()) return std::vector<NodeEntry>{inputs[0]};
    if ((op == "add_n" || op == "elemwise_add") && node->control_deps.empty()) {
      std::vector<NodeEntry> terms;
      for (const NodeEntry& input : inputs) {
        if (!IsOp(input, "zeros_like")) terms.push_back(input);
      }
      if (terms.size() == inputs.size()) return std::vector<NodeEntry>{};
      if (terms.empty()) return std::vector<NodeEntry>{inputs[0]};  // All zeros: any one of them.
      if (terms.size() == 1) return terms;
      return AllOutputs(Node::Op(add_n, node->name, {{"num_args", std::to_string(terms.size())}}, terms,
                                 node->attrs));
    }
    return std::vector<NodeEntry>{};
  });
  if (stats) {
    stats->nodes_before = CountOps(outputs);
    stats->nodes_after = CountOps(result);
  }
  return result;
}

std::vector<NodeEntry> EliminateCommonSubexpressions(const std::vector<NodeEntry>& outputs, PassStats* stats) {
  // Key: op, canonical parameters, inputs (already merged, so equal inputs are the same entries).
  using Key = std::tuple<const OpDef*, ParamMap, std::vector<std::pair<const Node*, int>>>;
  std::map<Key, std::shared_ptr<Node>> seen;
  std::vector<NodeEntry> result = RewriteGraph(outputs, [&](const std::shared_ptr<Node>& node,
                                                            const std::vector<NodeEntry>& inputs) {
    const OpDef& op = *node->op;
    if (op.needs_rng || !op.MutatedInputs(node->parsed).empty() || !node->control_deps.empty()) {
      return std::vector<NodeEntry>{};
    }
    // Equal partial init nodes may each be sized by a different consumer (Note [Partial shapes] in graph.cc).
    if (inputs.empty() && DeclaredPartialShape(*node)) return std::vector<NodeEntry>{};
    std::vector<std::pair<const Node*, int>> input_keys;
    for (const NodeEntry& input : inputs) input_keys.emplace_back(input.node.get(), input.index);
    Key key{&op, node->parsed.ToStrings(), std::move(input_keys)};
    auto found = seen.find(key);
    if (found != seen.end()) return AllOutputs(found->second);
    std::shared_ptr<Node> kept = WithInputs(node, inputs, node->control_deps);
    seen.emplace(std::move(key), kept);
    return AllOutputs(kept);
  });
  if (stats) {
    stats->nodes_before = CountOps(outputs);
    stats->nodes_after = CountOps(result);
  }
  return result;
}

// Note [Memory planning]
// ~~~~~~~~~~~~~~~~~~~~~~
// Entries are planned in node-id order, which is the order the executors run nodes in. Every internal entry
// gets a slot (one buffer of the run); a slot holds several entries whose lifetimes do not overlap. An entry is
// live from its node until its last consumer has run, so its slot returns to the free list after that node:
// a node's outputs are placed before its inputs are released, hence an output never shares memory with an
// input of its own node unless the op says it may (OpDef::inplace) and the input has no other consumer left.
// The executors push the nodes with the slots' engine variables, so sharing stays correct when nodes run
// asynchronously. The plan is as good as the order: the gradient graph runs after the whole forward graph, so
// forward activations the gradient needs stay live until their gradient consumers, as in MXNet.
MemoryPlan PlanMemory(const IndexedGraph& graph, const std::vector<Shape>& shapes, const std::vector<DType>& dtypes,
                      const MemoryPlanOptions& options) {
  const size_t num_entries = graph.num_entries();
  PMX_CHECK(shapes.size() == num_entries && dtypes.size() == num_entries, kValueError,
            "[PlanMemory] expected %d entry shapes and dtypes, given %d and %d", static_cast<int>(num_entries),
            static_cast<int>(shapes.size()), static_cast<int>(dtypes.size()));
  PMX_CHECK(options.external.empty() || options.external.size() == num_entries, kValueError,
            "[PlanMemory] expected %d external flags, given %d", static_cast<int>(num_entries),
            static_cast<int>(options.external.size()));
  MemoryPlan plan;
  plan.entry_slot.assign(num_entries, MemoryPlan::kExternal);
  plan.inplace.assign(num_entries, false);
  std::vector<int> uses(num_entries, 0);
  for (uint32_t id = 0; id < graph.num_nodes(); ++id) {
    for (uint32_t input : graph.node(id).inputs) ++uses[input];
  }
  // A kept entry has one use no node consumes: it is never released, and never taken over in place.
  for (size_t entry = 0; entry < options.keep.size() && entry < num_entries; ++entry) uses[entry] += options.keep[entry];
  std::vector<int> slot_entries;  // Live entries per slot.
  std::vector<int> free_slots;
  auto bytes_of = [&](uint32_t entry) {
    const size_t bytes = static_cast<size_t>(shapes[entry].size()) * DTypeSize(dtypes[entry]);
    return (bytes + 63) / 64 * 64;
  };
  auto release = [&](uint32_t entry) {
    const int slot = plan.entry_slot[entry];
    if (slot < 0 || --slot_entries[slot] > 0) return;
    free_slots.push_back(slot);
  };
  for (uint32_t id = 0; id < graph.num_nodes(); ++id) {
    const IndexedGraph::NodeInfo& info = graph.node(id);
    const Node& node = *info.source;
    if (node.is_variable()) continue;
    std::vector<int> taken;  // Slots taken in place by earlier outputs of this node.
    for (int k = 0; k < node.num_outputs(); ++k) {
      const uint32_t entry = info.first_entry + k;
      if (!options.external.empty() && options.external[entry]) continue;
      const size_t bytes = bytes_of(entry);
      plan.unplanned_bytes += bytes;
      if (!options.no_storage.empty() && options.no_storage[entry]) {
        plan.entry_slot[entry] = MemoryPlan::kNoStorage;
        continue;
      }
      int chosen = -1;
      for (const auto& pair : options.inplace ? node.op->inplace : std::vector<std::pair<int, int>>{}) {
        if (pair.second != k || pair.first >= static_cast<int>(info.inputs.size())) continue;
        const uint32_t input = info.inputs[pair.first];
        const int slot = plan.entry_slot[input];
        if (slot < 0 || uses[input] != 1 || slot_entries[slot] != 1 || dtypes[input] != dtypes[entry] ||
            shapes[input].size() != shapes[entry].size() ||
            std::find(taken.begin(), taken.end(), slot) != taken.end()) {
          continue;
        }
        chosen = slot;
        plan.inplace[entry] = true;
        taken.push_back(slot);
        break;
      }
      if (chosen < 0 && options.share && !free_slots.empty()) {
        // Best fit: the smallest free slot that is big enough, else the largest one, grown.
        auto best = free_slots.end(), largest = free_slots.begin();
        for (auto it = free_slots.begin(); it != free_slots.end(); ++it) {
          const size_t size = plan.slot_bytes[*it];
          if (size >= bytes && (best == free_slots.end() || size < plan.slot_bytes[*best])) best = it;
          if (plan.slot_bytes[*it] > plan.slot_bytes[*largest]) largest = it;
        }
        auto pick = best != free_slots.end() ? best : largest;
        chosen = *pick;
        free_slots.erase(pick);
        plan.slot_bytes[chosen] = std::max(plan.slot_bytes[chosen], bytes);
      }
      if (chosen < 0) {
        chosen = static_cast<int>(plan.slot_bytes.size());
        plan.slot_bytes.push_back(bytes);
        slot_entries.push_back(0);
      }
      plan.entry_slot[entry] = chosen;
      ++slot_entries[chosen];
    }
    for (uint32_t input : info.inputs) {
      if (--uses[input] == 0) release(input);
    }
    for (int k = 0; k < node.num_outputs(); ++k) {
      if (uses[info.first_entry + k] == 0) release(info.first_entry + k);
    }
  }
  for (size_t bytes : plan.slot_bytes) plan.planned_bytes += bytes;
  return plan;
}

}  // namespace graph
}  // namespace pmx
