#include "core/graph/graph.h"

#include <algorithm>
#include <functional>
#include <unordered_set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/base/error.h"

namespace pmx {
namespace graph {

std::shared_ptr<Node> Node::Variable(const std::string& name, std::map<std::string, std::string> attrs) {
  PMX_CHECK(!name.empty(), kValueError, "[Variable] expected a non-empty variable name");
  auto node = std::make_shared<Node>();
  node->name = name;
  node->attrs = std::move(attrs);
  return node;
}

std::shared_ptr<Node> Node::Op(const OpDef& op, const std::string& name, ParamMap params,
                               std::vector<NodeEntry> inputs, std::map<std::string, std::string> attrs) {
  auto node = std::make_shared<Node>();
  node->op = &op;
  node->name = name;
  node->parsed = op.ParseParams(params);
  node->params = std::move(params);
  node->attrs = std::move(attrs);
  const int expected = op.NumInputs(node->parsed);
  PMX_CHECK(static_cast<int>(inputs.size()) == expected, kValueError, "[%s] node '%s' expected %d inputs, given %d",
            op.name, name, expected, static_cast<int>(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i) {
    PMX_CHECK(inputs[i].node != nullptr, kValueError, "[%s] node '%s' input %d is empty", op.name, name,
              static_cast<int>(i));
    PMX_CHECK(inputs[i].index >= 0 && inputs[i].index < inputs[i].node->num_outputs(), kIndexError,
              "[%s] node '%s' input %d refers to output %d of '%s', which has %d outputs", op.name, name,
              static_cast<int>(i), inputs[i].index, inputs[i].node->name, inputs[i].node->num_outputs());
  }
  node->inputs = std::move(inputs);
  return node;
}

std::vector<std::shared_ptr<Node>> TopologicalOrder(const std::vector<NodeEntry>& outputs) {
  // Iterative DFS (graphs of thousands of nodes would overflow a recursive one): post-order, inputs in
  // order, then control dependencies, as nnvm's DFSVisit.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<const Node*> visited;
  struct Frame {
    std::shared_ptr<Node> node;
    size_t next = 0;  // Next input (then control dep) to visit.
  };
  for (const NodeEntry& output : outputs) {
    if (!output.node || !visited.insert(output.node.get()).second) continue;
    std::vector<Frame> stack{{output.node, 0}};
    while (!stack.empty()) {
      Frame& frame = stack.back();
      const Node& node = *frame.node;
      const size_t total = node.inputs.size() + node.control_deps.size();
      if (frame.next < total) {
        const size_t k = frame.next++;
        const std::shared_ptr<Node>& child =
            k < node.inputs.size() ? node.inputs[k].node : node.control_deps[k - node.inputs.size()];
        if (child && visited.insert(child.get()).second) stack.push_back({child, 0});
        continue;
      }
      order.push_back(frame.node);
      stack.pop_back();
    }
  }
  return order;
}

IndexedGraph::IndexedGraph(std::vector<NodeEntry> outputs) : outputs_(std::move(outputs)) {
  nodes_ = TopologicalOrder(outputs_);
  infos_.resize(nodes_.size());
  auxiliary_.assign(nodes_.size(), false);
  for (uint32_t id = 0; id < nodes_.size(); ++id) {
    ids_[nodes_[id].get()] = id;
    infos_[id].source = nodes_[id].get();
    infos_[id].first_entry = static_cast<uint32_t>(num_entries_);
    const int count = nodes_[id]->num_outputs();
    num_entries_ += count;
    for (int k = 0; k < count; ++k) entry_node_.push_back(id);
    if (nodes_[id]->is_variable()) input_nodes_.push_back(id);
  }
  for (uint32_t id = 0; id < nodes_.size(); ++id) {
    const Node& node = *nodes_[id];
    for (const NodeEntry& input : node.inputs) infos_[id].inputs.push_back(entry_id(input));
    if (node.op == nullptr) continue;
    for (int aux : node.op->auxiliary_inputs) {
      if (aux < static_cast<int>(node.inputs.size()) && node.inputs[aux].node->is_variable()) {
        auxiliary_[node_id(node.inputs[aux].node.get())] = true;
      }
    }
  }
  for (const NodeEntry& output : outputs_) output_entries_.push_back(entry_id(output));
}

uint32_t IndexedGraph::node_id(const Node* node) const {
  auto found = ids_.find(node);
  PMX_CHECK(found != ids_.end(), kValueError, "[IndexedGraph] node '%s' is not in this graph",
            node ? node->name : std::string("<null>"));
  return found->second;
}

namespace {

// Parses a __shape__ attribute such as "(2, 3)" or "[2,3]"; nullopt for "()", which MXNet 1.x wrote for an
// unknown shape. Unknown dimensions (MXNet 1.x wrote 0, its NumPy mode -1) come back as 0: a partial shape.
MaybeShape ParseShapeAttribute(const std::string& node, const std::string& text) {
  absl::string_view body = absl::StripAsciiWhitespace(text);
  PMX_CHECK(body.size() >= 2 && (body.front() == '(' || body.front() == '['), kValueError,
            "[InferShape] variable '%s' has __shape__ '%s', expected a tuple such as (2, 3)", node, text);
  body = body.substr(1, body.size() - 2);
  std::vector<int64_t> dims;
  for (absl::string_view part : absl::StrSplit(body, ',', absl::SkipWhitespace())) {
    int64_t dim;
    PMX_CHECK(absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &dim), kValueError,
              "[InferShape] variable '%s' has __shape__ '%s', expected integers", node, text);
    dims.push_back(std::max<int64_t>(dim, 0));
  }
  if (dims.empty()) return std::nullopt;
  return Shape(dims);
}

// Whether `shape` has an unknown (0) dimension, i.e. is partial when it comes from a graph source.
bool HasUnknownDim(const Shape& shape) {
  for (int64_t dim : shape.dims()) {
    if (dim == 0) return true;
  }
  return false;
}

// Whether `shape` agrees with `partial` on every dimension `partial` knows (non-zero), and on ndim.
bool FitsPartialShape(const Shape& partial, const Shape& shape) {
  if (partial.ndim() != shape.ndim()) return false;
  for (int axis = 0; axis < partial.ndim(); ++axis) {
    if (partial[axis] != 0 && partial[axis] != shape[axis]) return false;
  }
  return true;
}

// Parses a __dtype__ attribute: MXNet's integer flag ("0") or a dtype name ("float32").
MaybeDType ParseDTypeAttribute(const std::string& text) {
  int32_t flag;
  if (absl::SimpleAtoi(text, &flag)) {
    if (flag < 0) return std::nullopt;  // -1: unknown.
    return DTypeFromFlag(flag);
  }
  return DTypeFromName(text);
}

// Rethrows an inference error with the node named, keeping its kind.
[[noreturn]] void RethrowForNode(const Error& error, const Node& node, const char* what) {
  throw Error(error.kind(), "[" + std::string(what) + "] node '" + node.name + "' (" + node.op->name +
                                "): " + error.message());
}

// Runs one node's inference rule and merges the result into `slots`; returns whether anything changed.
// `Rule` is (const Node&, std::vector<std::optional<T>>* in, std::vector<std::optional<T>>* out). `Admit` is
// (uint32_t entry, bool own_output, const T& value, const std::string& role) -> bool: whether a value the rule
// gives for `entry` counts (false: ignore it); it may throw.
template <typename T, typename Rule, typename Describe, typename Admit>
bool MergeNode(const IndexedGraph& graph, uint32_t id, std::vector<std::optional<T>>* slots, const char* what,
               Rule&& rule, Describe&& describe, Admit&& admit) {
  const IndexedGraph::NodeInfo& info = graph.node(id);
  const Node& node = *info.source;
  const int num_outputs = node.num_outputs();
  std::vector<std::optional<T>> in(info.inputs.size()), out(num_outputs);
  for (size_t i = 0; i < in.size(); ++i) in[i] = (*slots)[info.inputs[i]];
  for (int k = 0; k < num_outputs; ++k) out[k] = (*slots)[info.first_entry + k];
  try {
    rule(node, &in, &out);
  } catch (const Error& error) {
    RethrowForNode(error, node, what);
  }
  bool changed = false;
  auto merge = [&](uint32_t entry, const std::optional<T>& value, const std::string& role, bool own_output) {
    if (!value || !admit(entry, own_output, *value, role)) return;
    std::optional<T>& slot = (*slots)[entry];
    if (!slot) {
      slot = value;
      changed = true;
    } else if (!(*slot == *value)) {
      Throw(ErrorKind::kValueError, "[%s] node '%s' (%s): %s is %s but the op infers %s", what, node.name,
            node.op->name, role, describe(*slot), describe(*value));
    }
  };
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& input_name =
        node.op->inputs.empty() ? std::string("input") : node.op->inputs[std::min(i, node.op->inputs.size() - 1)];
    merge(info.inputs[i], in[i], "input " + std::to_string(i) + " (" + input_name + ")", false);
  }
  for (int k = 0; k < num_outputs; ++k) merge(info.first_entry + k, out[k], "output " + std::to_string(k), true);
  return changed;
}

// Fixed-point iteration of `merge_node` over the op nodes, forwards then backwards; returns unknown count.
template <typename T, typename MergeFn>
size_t Propagate(const IndexedGraph& graph, std::vector<std::optional<T>>* slots, MergeFn&& merge_node) {
  bool changed = true;
  // Each sweep either fills a slot or stops; bound the sweeps anyway against a rule that flip-flops.
  for (int sweep = 0; changed && sweep < 2 * static_cast<int>(graph.num_nodes()) + 2; ++sweep) {
    changed = false;
    for (uint32_t id = 0; id < graph.num_nodes(); ++id) {
      if (!graph.node(id).source->is_variable()) changed |= merge_node(id);
    }
    for (uint32_t id = static_cast<uint32_t>(graph.num_nodes()); id-- > 0;) {
      if (!graph.node(id).source->is_variable()) changed |= merge_node(id);
    }
  }
  size_t unknown = 0;
  for (const std::optional<T>& slot : *slots) unknown += !slot.has_value();
  return unknown;
}

}  // namespace

// Note [Partial shapes]
// ~~~~~~~~~~~~~~~~~~~~~
// MXNet 1.x (outside its NumPy shape mode) writes 0 for a dimension not known yet: in a variable's __shape__
// (a Dense weight (128, 0) before the input size is known) and in the `shape` of init ops (Gluon's recurrent
// layers called without states trace _zeros(shape=(L, 0, H)), whose batch size the RNN consumer decides). Such
// a graph source is partially known: consumers may assign it any shape that agrees with it on ndim and on every
// non-zero dimension, and anything else is a ValueError naming the consumer, the source and both shapes.
// MXNet carries partial shapes through every op's shape function; here ops only ever see complete shapes (their
// infer_shape stays as it is) and the pass keeps the partial shape of each source entry aside: its slot stays
// unknown until a consumer fills it, and the fill is checked against the stored shape. So a partial shape is
// resolved only by a direct consumer (which is how Gluon's graphs use them: RNN assigns its states,
// FullyConnected its weight); chains that need an op to compute with a partial shape (MXNet's Reshape(-1)
// inferring a weight's missing dimension backwards) stay unknown. A source nothing resolves stays unknown too,
// as in MXNet, so binding such a graph asks for more input shapes. Executors then run the init op with its
// inferred shape: kernels fill the output they are given. Common-subexpression elimination leaves such init
// nodes apart (two equal ones may be sized by different consumers). Imperative calls never pass here:
// mx.nd.zeros((2, 0)) stays a real zero-size array (MXNet 1.9.1 outside NumPy shape mode rejects it).
MaybeShape DeclaredPartialShape(const Node& node) {
  MaybeShape shape;
  if (node.is_variable()) {
    auto attr = node.attrs.find("__shape__");
    if (attr != node.attrs.end()) shape = ParseShapeAttribute(node.name, attr->second);
  } else if (node.inputs.empty() && node.num_outputs() == 1 && node.op->infer_shape) {
    const auto& params = node.op->params;
    const bool has_shape_param = std::any_of(params.begin(), params.end(),
                                             [](const ParamDef& param) { return param.name == "shape"; });
    if (!has_shape_param) return std::nullopt;
    std::vector<MaybeShape> in, out(1);
    try {
      node.op->infer_shape(node.parsed, &in, &out);
    } catch (const Error&) {
      return std::nullopt;  // The pass reports the op's own error with the node named.
    }
    shape = out[0];
  }
  if (!shape || !HasUnknownDim(*shape)) return std::nullopt;
  return shape;
}

size_t InferShapes(const IndexedGraph& graph, std::vector<MaybeShape>* shapes) {
  PMX_CHECK(shapes->size() == graph.num_entries(), kValueError,
            "[InferShape] expected %d entry shapes, given %d", static_cast<int>(graph.num_entries()),
            static_cast<int>(shapes->size()));
  // Per entry: the partial shape its source declares, while its slot waits for a consumer (Note [Partial shapes]).
  std::vector<MaybeShape> partial(graph.num_entries());
  for (uint32_t id = 0; id < graph.num_nodes(); ++id) {
    const Node& node = *graph.node(id).source;
    const uint32_t entry = graph.node(id).first_entry;
    if (node.is_variable()) {
      auto attr = node.attrs.find("__shape__");
      if ((*shapes)[entry] || attr == node.attrs.end()) continue;  // A given shape wins over the attribute.
      MaybeShape declared = ParseShapeAttribute(node.name, attr->second);
      if (declared && HasUnknownDim(*declared)) {
        partial[entry] = std::move(declared);
      } else {
        (*shapes)[entry] = std::move(declared);
      }
    } else if (node.inputs.empty()) {
      partial[entry] = DeclaredPartialShape(node);
    }
  }
  auto admit = [&](const Node& consumer, uint32_t entry, bool own_output, const Shape& value,
                   const std::string& role) {
    if (!partial[entry]) return true;
    if (own_output) return false;  // The source restating its partial shape decides nothing.
    const Node& source = *graph.node(graph.entry_node(entry)).source;
    PMX_CHECK(FitsPartialShape(*partial[entry], value), kValueError,
              "[InferShape] node '%s' (%s): %s is inferred as %s, which does not fit the partial shape %s of %s '%s' "
              "(0 marks an unknown dimension; the others must match)",
              consumer.name, consumer.op->name, role, value.ToString(), partial[entry]->ToString(),
              source.is_variable() ? "variable" : "node", source.name);
    return true;
  };
  return Propagate(graph, shapes, [&](uint32_t id) {
    const Node& node = *graph.node(id).source;
    return MergeNode<Shape>(
        graph, id, shapes, "InferShape",
        [](const Node& node, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
          node.op->infer_shape(node.parsed, in, out);
        },
        [](const Shape& shape) { return shape.ToString(); },
        [&](uint32_t entry, bool own_output, const Shape& value, const std::string& role) {
          return admit(node, entry, own_output, value, role);
        });
  });
}

size_t InferTypes(const IndexedGraph& graph, std::vector<MaybeDType>* dtypes) {
  PMX_CHECK(dtypes->size() == graph.num_entries(), kValueError,
            "[InferType] expected %d entry dtypes, given %d", static_cast<int>(graph.num_entries()),
            static_cast<int>(dtypes->size()));
  for (uint32_t id : graph.input_nodes()) {
    const Node& node = *graph.node(id).source;
    MaybeDType& slot = (*dtypes)[graph.node(id).first_entry];
    auto attr = node.attrs.find("__dtype__");
    if (!slot && attr != node.attrs.end()) slot = ParseDTypeAttribute(attr->second);
  }
  return Propagate(graph, dtypes, [&](uint32_t id) {
    return MergeNode<DType>(
        graph, id, dtypes, "InferType",
        [](const Node& node, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
          if (node.op->infer_type) {
            node.op->infer_type(node.parsed, in, out);
            return;
          }
          // The imperative default (core/ops/invoke.cc): all inputs and outputs share one dtype.
          MaybeDType common;
          for (const MaybeDType& dtype : *in) common = common ? common : dtype;
          for (const MaybeDType& dtype : *out) common = common ? common : dtype;
          if (!common) return;
          for (MaybeDType& dtype : *in) dtype = dtype ? dtype : common;
          for (MaybeDType& dtype : *out) dtype = dtype ? dtype : common;
        },
        [](DType dtype) { return std::string(DTypeName(dtype)); },
        [](uint32_t, bool, DType, const std::string&) { return true; });
  });
}

}  // namespace graph
}  // namespace pmx
