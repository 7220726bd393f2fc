#include "core/graph/symbol.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "core/base/error.h"
#include "core/graph/symbol_conventions.h"

namespace pmx {
namespace graph {
namespace {

// The only node of a symbol whose outputs all come from one node; nullptr for a group or an empty symbol.
Node* SingleNode(const std::vector<NodeEntry>& outputs) {
  if (outputs.empty()) return nullptr;
  Node* node = outputs[0].node.get();
  for (const NodeEntry& output : outputs) {
    if (output.node.get() != node) return nullptr;
  }
  return node;
}

// Checks that every input symbol of a call has exactly one output, as MXNet's composition requires.
void CheckSingleOutput(const std::string& op, const std::string& what, const Symbol& symbol) {
  PMX_CHECK(symbol.num_outputs() == 1, kValueError,
            "[%s] %s has %d outputs: expected a single output (select one with symbol[i])", op, what,
            symbol.num_outputs());
}

// The visible outputs of an operator node, as MXNet's CreateFunctor returns them.
std::vector<NodeEntry> VisibleOutputs(const std::shared_ptr<Node>& node) {
  std::vector<NodeEntry> outputs;
  for (int k = 0; k < node->num_visible_outputs(); ++k) outputs.push_back(NodeEntry{node, k});
  return outputs;
}

// The name list_outputs shows for `entry`.
std::string OutputEntryName(const NodeEntry& entry) {
  const Node& node = *entry.node;
  if (node.is_variable()) return node.name;
  const std::string output = OutputName(node, entry.index);
  return node.name.empty() ? output : node.name + "_" + output;
}

// Shared body of InferShape and InferType: seeds the graph's variables with `known` values by name, runs
// `infer` and splits the result into arguments, outputs and auxiliary states.
template <typename T, typename Infer, typename Describe>
Symbol::Inferred<T> InferAttribute(const std::vector<NodeEntry>& outputs, const std::map<std::string, T>& known,
                                   bool partial, const char* what, const char* noun, Infer&& infer,
                                   Describe&& describe) {
  const IndexedGraph graph(outputs);
  std::vector<std::optional<T>> slots(graph.num_entries());
  std::set<std::string> matched;
  std::vector<std::string> candidates;
  for (uint32_t id : graph.input_nodes()) {
    const std::string& name = graph.node(id).source->name;
    candidates.push_back(name);
    auto found = known.find(name);
    if (found == known.end()) continue;
    slots[graph.node(id).first_entry] = found->second;
    matched.insert(name);
  }
  for (const auto& entry : known) {
    PMX_CHECK(matched.count(entry.first), kValueError,
              "[%s] keyword argument name '%s' (%s %s) is not an input of the symbol; candidate arguments: %s",
              what, entry.first, noun, describe(entry.second), absl::StrJoin(candidates, ", "));
  }
  const size_t unknown = infer(graph, &slots);
  Symbol::Inferred<T> result;
  std::vector<std::string> unknown_names;
  for (uint32_t id : graph.input_nodes()) {
    const std::optional<T>& slot = slots[graph.node(id).first_entry];
    (graph.is_auxiliary(id) ? result.auxiliary_states : result.arguments).push_back(slot);
    if (!slot) unknown_names.push_back(graph.node(id).source->name);
  }
  for (size_t k = 0; k < graph.output_entries().size(); ++k) {
    const std::optional<T>& slot = slots[graph.output_entries()[k]];
    result.outputs.push_back(slot);
    if (!slot) unknown_names.push_back(OutputEntryName(graph.outputs()[k]));
  }
  result.complete = unknown == 0;
  if (partial || result.complete) return result;
  if (unknown_names.empty()) {
    // Every argument is known but some op could not infer its outputs: name the first such node.
    for (uint32_t id = 0; id < graph.num_nodes() && unknown_names.empty(); ++id) {
      const IndexedGraph::NodeInfo& info = graph.node(id);
      for (int k = 0; k < info.source->num_outputs(); ++k) {
        if (slots[info.first_entry + k]) continue;
        unknown_names.push_back("output " + std::to_string(k) + " of node '" + info.source->name + "' (" +
                                info.source->op->name + ")");
        break;
      }
    }
  }
  Throw(ErrorKind::kValueError,
        "[%s] cannot decide the %s of the following arguments; consider providing them as input (or use "
        "partial inference): %s",
        what, noun, absl::StrJoin(unknown_names, ", "));
}

// Every key given to an op call in MXNet's one dictionary: parameters, plus attributes (double-underscore keys).
void SplitParameters(const std::map<std::string, std::string>& given, ParamMap* params,
                     std::map<std::string, std::string>* attrs) {
  for (const auto& [key, value] : given) {
    const std::string normalized = NormalizeAttributeKey(key);
    if (absl::StartsWith(normalized, "__")) {
      (*attrs)[normalized] = value;
    } else {
      (*params)[normalized] = value;
    }
  }
}

// The calling thread's NameManager counters, by hint.
std::map<std::string, int>& NameCounters() {
  thread_local std::map<std::string, int> counters;
  return counters;
}

}  // namespace

Symbol Symbol::Variable(const std::string& name, std::map<std::string, std::string> attrs) {
  std::map<std::string, std::string> normalized;
  for (auto& [key, value] : attrs) normalized[NormalizeAttributeKey(key)] = std::move(value);
  return Symbol({NodeEntry{Node::Variable(name, std::move(normalized)), 0}});
}

Symbol Symbol::Create(const std::string& op_name, const std::vector<Symbol>& positional,
                      const std::map<std::string, Symbol>& named, const ParamMap& params, const std::string& name,
                      std::map<std::string, std::string> attrs) {
  const OpDef& op = OpRegistry::Get()->Lookup(op_name);
  // MXNet keeps parameters and attributes in one dictionary; attribute keys are the double-underscore ones.
  ParamMap given;
  std::map<std::string, std::string> node_attrs;
  SplitParameters(params, &given, &node_attrs);
  SplitParameters(attrs, &given, &node_attrs);
  for (size_t i = 0; i < positional.size(); ++i) {
    CheckSingleOutput(op.name, "positional input " + std::to_string(i), positional[i]);
  }
  for (const auto& [key, symbol] : named) CheckSingleOutput(op.name, "input '" + key + "'", symbol);
  // MXNet's front ends fill a variadic op's count parameter from the positional inputs.
  if (!op.variadic_count_param.empty() && !given.count(op.variadic_count_param)) {
    const size_t stride = std::max(1, op.variadic_stride);
    PMX_CHECK(positional.size() % stride == 0, kValueError,
              "[%s] takes inputs in groups of %d, given %d positional inputs", op.name, static_cast<int>(stride),
              static_cast<int>(positional.size()));
    given[op.variadic_count_param] = std::to_string(positional.size() / stride);
  }
  const std::string node_name = name.empty() ? NameManager::NewName(absl::AsciiStrToLower(op_name)) : name;
  const OpParams parsed = op.ParseParams(given);
  const int required = op.NumInputs(parsed);
  PMX_CHECK(static_cast<int>(positional.size()) <= required, kValueError,
            "[%s] node '%s' takes %d inputs, given %d positional inputs", op.name, node_name, required,
            static_cast<int>(positional.size()));
  const std::vector<std::string> input_names = InputNames(op, parsed);
  std::vector<NodeEntry> inputs(required);
  for (size_t i = 0; i < positional.size(); ++i) inputs[i] = positional[i].outputs()[0];
  // Automatically created variables get a copy of the node's dictionary, as MXNet's Compose does.
  std::map<std::string, std::string> variable_attrs(given.begin(), given.end());
  variable_attrs.insert(node_attrs.begin(), node_attrs.end());
  size_t matched = 0;
  for (int i = static_cast<int>(positional.size()); i < required; ++i) {
    auto found = named.find(input_names[i]);
    if (found != named.end()) {
      inputs[i] = found->second.outputs()[0];
      ++matched;
    } else {
      inputs[i] = NodeEntry{Node::Variable(node_name + "_" + input_names[i], variable_attrs), 0};
    }
  }
  if (matched != named.size()) {
    const std::vector<std::string> open(input_names.begin() + positional.size(), input_names.end());
    for (const auto& entry : named) {
      PMX_CHECK(std::find(open.begin(), open.end(), entry.first) != open.end(), kValueError,
                "[%s] node '%s': keyword input '%s' not found; candidate inputs: %s", op.name, node_name,
                entry.first, open.empty() ? std::string("none") : absl::StrJoin(open, ", "));
    }
  }
  std::shared_ptr<Node> node = Node::Op(op, node_name, std::move(given), std::move(inputs), std::move(node_attrs));
  SetInputVariableDefaults(*node);
  return Symbol(VisibleOutputs(node));
}

Symbol Symbol::Group(const std::vector<Symbol>& symbols) {
  std::vector<NodeEntry> outputs;
  for (const Symbol& symbol : symbols) outputs.insert(outputs.end(), symbol.outputs_.begin(), symbol.outputs_.end());
  return Symbol(std::move(outputs));
}

Symbol Symbol::operator[](int index) const {
  PMX_CHECK(index >= 0 && index < num_outputs(), kIndexError,
            "[Symbol] output index %d is out of range for a symbol with %d outputs", index, num_outputs());
  return Symbol({outputs_[index]});
}

Symbol Symbol::operator[](const std::string& name) const {
  const std::vector<std::string> names = ListOutputs();
  int found = -1;
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    if (names[i] != name) continue;
    PMX_CHECK(found < 0, kValueError, "[Symbol] there are several outputs named '%s'", name);
    found = i;
  }
  PMX_CHECK(found >= 0, kValueError, "[Symbol] no output is named '%s'; outputs: %s", name,
            absl::StrJoin(names, ", "));
  return Symbol({outputs_[found]});
}

std::vector<std::string> Symbol::ListArguments() const {
  const IndexedGraph graph(outputs_);
  std::vector<std::string> names;
  for (uint32_t id : graph.input_nodes()) {
    if (!graph.is_auxiliary(id)) names.push_back(graph.node(id).source->name);
  }
  return names;
}

std::vector<std::string> Symbol::ListOutputs() const {
  std::vector<std::string> names;
  for (const NodeEntry& output : outputs_) names.push_back(OutputEntryName(output));
  return names;
}

std::vector<std::string> Symbol::ListAuxiliaryStates() const {
  const IndexedGraph graph(outputs_);
  std::vector<std::string> names;
  for (uint32_t id : graph.input_nodes()) {
    if (graph.is_auxiliary(id)) names.push_back(graph.node(id).source->name);
  }
  return names;
}

std::vector<std::string> Symbol::ListInputs() const {
  std::vector<std::string> names;
  for (const std::shared_ptr<Node>& node : TopologicalOrder(outputs_)) {
    if (node->is_variable()) names.push_back(node->name);
  }
  return names;
}

Symbol Symbol::GetInternals() const {
  std::vector<NodeEntry> outputs;
  for (const std::shared_ptr<Node>& node : TopologicalOrder(outputs_)) {
    for (int k = 0; k < node->num_visible_outputs(); ++k) outputs.push_back(NodeEntry{node, k});
  }
  return Symbol(std::move(outputs));
}

Symbol Symbol::GetChildren() const {
  std::vector<NodeEntry> children;
  std::unordered_set<const Node*> visited;
  for (const NodeEntry& output : outputs_) {
    if (!visited.insert(output.node.get()).second) continue;
    children.insert(children.end(), output.node->inputs.begin(), output.node->inputs.end());
  }
  return Symbol(std::move(children));
}

Symbol Symbol::Copy() const {
  std::unordered_map<const Node*, std::shared_ptr<Node>> copies;
  for (const std::shared_ptr<Node>& node : TopologicalOrder(outputs_)) {
    auto copy = std::make_shared<Node>(*node);
    // Inputs come before their consumers, so their copies already exist.
    for (NodeEntry& input : copy->inputs) input.node = copies.at(input.node.get());
    for (std::shared_ptr<Node>& dependency : copy->control_deps) dependency = copies.at(dependency.get());
    copies[node.get()] = std::move(copy);
  }
  std::vector<NodeEntry> outputs;
  for (const NodeEntry& output : outputs_) outputs.push_back(NodeEntry{copies.at(output.node.get()), output.index});
  return Symbol(std::move(outputs));
}

std::optional<std::string> Symbol::GetAttr(const std::string& key) const {
  const Node* node = SingleNode(outputs_);
  if (node == nullptr) return std::nullopt;
  if (key == "name") return node->name;
  auto lookup = [node](const std::string& candidate) -> std::optional<std::string> {
    auto attr = node->attrs.find(candidate);
    if (attr != node->attrs.end()) return attr->second;
    auto param = node->params.find(candidate);
    if (param != node->params.end()) return param->second;
    return std::nullopt;
  };
  if (std::optional<std::string> value = lookup(key)) return value;
  // MXNet also finds its hidden keys under their plain spelling ("lr_mult" for "__lr_mult__").
  if (std::find(HiddenKeys().begin(), HiddenKeys().end(), key) != HiddenKeys().end()) {
    return lookup("__" + key + "__");
  }
  return std::nullopt;
}

void Symbol::SetAttr(const std::string& key, const std::string& value) {
  Node* node = SingleNode(outputs_);
  PMX_CHECK(node != nullptr, kValueError,
            "[Symbol.SetAttr] expected a symbol of one node, given a group of %d outputs (set '%s' on each "
            "member instead)",
            num_outputs(), key);
  const std::string normalized = NormalizeAttributeKey(key);
  if (normalized == "name") {
    node->name = value;
    return;
  }
  if (node->is_variable() || absl::StartsWith(normalized, "__")) {
    node->attrs[normalized] = value;
    return;
  }
  // Any other key of an operator node is one of its parameters, re-parsed as MXNet's SetAttrs does.
  ParamMap params = node->params;
  params[normalized] = value;
  OpParams parsed = node->op->ParseParams(params);
  PMX_CHECK(node->op->NumInputs(parsed) == static_cast<int>(node->inputs.size()) &&
                node->op->NumOutputs(parsed) == node->num_outputs(),
            kValueError, "[%s] node '%s': setting '%s' to '%s' would change the number of inputs or outputs",
            node->op->name, node->name, normalized, value);
  node->params = std::move(params);
  node->parsed = std::move(parsed);
}

std::map<std::string, std::map<std::string, std::string>> Symbol::AttrDict() const {
  std::map<std::string, std::map<std::string, std::string>> dict;
  for (const std::shared_ptr<Node>& node : TopologicalOrder(outputs_)) {
    if (node->params.empty() && node->attrs.empty()) continue;
    std::map<std::string, std::string>& entry = dict[node->name];
    for (const auto& [key, value] : node->params) entry[key] = value;
    for (const auto& [key, value] : node->attrs) {
      entry[key] = value;
      // MXNet lists hidden keys under both spellings ("__lr_mult__" and "lr_mult").
      for (const std::string& hidden : HiddenKeys()) {
        if (key == "__" + hidden + "__") entry[hidden] = value;
      }
    }
  }
  return dict;
}

std::string Symbol::name() const {
  const Node* node = SingleNode(outputs_);
  PMX_CHECK(node != nullptr, kValueError, "[Symbol.name] a group of %d outputs has no single name",
            num_outputs());
  return node->name;
}

Symbol::Inferred<Shape> Symbol::InferShape(const std::map<std::string, Shape>& known, bool partial) const {
  return InferAttribute<Shape>(
      outputs_, known, partial, "InferShape", "shapes",
      [](const IndexedGraph& graph, std::vector<MaybeShape>* slots) { return InferShapes(graph, slots); },
      [](const Shape& shape) { return shape.ToString(); });
}

Symbol::Inferred<DType> Symbol::InferType(const std::map<std::string, DType>& known, bool partial) const {
  return InferAttribute<DType>(
      outputs_, known, partial, "InferType", "types",
      [](const IndexedGraph& graph, std::vector<MaybeDType>* slots) { return InferTypes(graph, slots); },
      [](DType dtype) { return std::string(DTypeName(dtype)); });
}

std::string NameManager::NewName(const std::string& hint) {
  const int count = NameCounters()[hint]++;
  return hint + std::to_string(count);
}

void NameManager::Reset() { NameCounters().clear(); }

}  // namespace graph
}  // namespace pmx
