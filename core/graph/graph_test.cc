// IndexedGraph and whole-graph shape/dtype inference on hand-built graphs.
#include "core/graph/graph.h"

#include <gtest/gtest.h>

#include "core/base/error.h"

namespace pmx {
namespace graph {
namespace {

std::shared_ptr<Node> Op(const std::string& op, const std::string& name, ParamMap params,
                         std::vector<NodeEntry> inputs) {
  return Node::Op(OpRegistry::Get()->Lookup(op), name, std::move(params), std::move(inputs));
}

NodeEntry Out(const std::shared_ptr<Node>& node, int index = 0) { return NodeEntry{node, index}; }

// data -> FullyConnected(fc) -> BatchNorm(bn) with variables for every input.
struct FcBnGraph {
  std::shared_ptr<Node> data = Node::Variable("data");
  std::shared_ptr<Node> weight = Node::Variable("fc_weight");
  std::shared_ptr<Node> bias = Node::Variable("fc_bias");
  std::shared_ptr<Node> fc = Op("FullyConnected", "fc", {{"num_hidden", "4"}}, {Out(data), Out(weight), Out(bias)});
  std::shared_ptr<Node> gamma = Node::Variable("bn_gamma");
  std::shared_ptr<Node> beta = Node::Variable("bn_beta");
  std::shared_ptr<Node> mean = Node::Variable("bn_moving_mean");
  std::shared_ptr<Node> var = Node::Variable("bn_moving_var");
  std::shared_ptr<Node> bn = Op("BatchNorm", "bn", {}, {Out(fc), Out(gamma), Out(beta), Out(mean), Out(var)});
};

TEST(IndexedGraphTest, NumbersNodesAndEntriesInDepthFirstOrder) {
  FcBnGraph g;
  const IndexedGraph graph({Out(g.bn)});
  ASSERT_EQ(graph.num_nodes(), 9u);
  const std::vector<std::string> expected = {"data",     "fc_weight",      "fc_bias",       "fc", "bn_gamma",
                                             "bn_beta", "bn_moving_mean", "bn_moving_var", "bn"};
  for (uint32_t id = 0; id < graph.num_nodes(); ++id) {
    EXPECT_EQ(graph.node(id).source->name, expected[id]);
    EXPECT_EQ(graph.node_id(graph.node(id).source), id);
    EXPECT_EQ(graph.node_ptr(id).get(), graph.node(id).source);
  }
  // Every node has one output except BatchNorm, whose hidden outputs get entries too.
  EXPECT_EQ(graph.num_entries(), 8u + static_cast<size_t>(g.bn->num_outputs()));
  EXPECT_EQ(graph.node(8).first_entry, 8u);
  EXPECT_EQ(graph.entry_id(g.bn.get(), 2), 10u);
  EXPECT_EQ(graph.entry_node(10), 8u);
  EXPECT_EQ(graph.node(3).inputs, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(graph.node(8).inputs, (std::vector<uint32_t>{3, 4, 5, 6, 7}));
  EXPECT_EQ(graph.input_nodes(), (std::vector<uint32_t>{0, 1, 2, 4, 5, 6, 7}));
  EXPECT_EQ(graph.output_entries(), (std::vector<uint32_t>{8}));
  for (uint32_t id : graph.input_nodes()) {
    EXPECT_EQ(graph.is_auxiliary(id), id == 6 || id == 7) << graph.node(id).source->name;
  }
}

TEST(IndexedGraphTest, SharedNodesAppearOnceAndForeignNodesAreRejected) {
  auto x = Node::Variable("x");
  auto sum = Op("elemwise_add", "sum", {}, {Out(x), Out(x)});
  const IndexedGraph graph({Out(sum), Out(x)});
  EXPECT_EQ(graph.num_nodes(), 2u);
  EXPECT_EQ(graph.node(1).inputs, (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(graph.output_entries(), (std::vector<uint32_t>{1, 0}));
  auto other = Node::Variable("other");
  EXPECT_THROW(graph.node_id(other.get()), Error);
}

TEST(NodeTest, OpChecksInputCountAndIndices) {
  auto x = Node::Variable("x");
  try {
    Op("FullyConnected", "fc", {{"num_hidden", "2"}}, {Out(x)});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("expected 3 inputs, given 1"), std::string::npos) << error.message();
  }
  EXPECT_THROW(Op("relu", "r", {}, {Out(x, 1)}), Error);
  EXPECT_THROW(Node::Variable(""), Error);
}

TEST(InferShapesTest, FillsWeightsFromDataAndOutputs) {
  FcBnGraph g;
  const IndexedGraph graph({Out(g.bn)});
  std::vector<MaybeShape> shapes(graph.num_entries());
  shapes[graph.entry_id(g.data.get(), 0)] = Shape{5, 3};
  EXPECT_EQ(InferShapes(graph, &shapes), 0u);
  EXPECT_EQ(*shapes[graph.entry_id(g.weight.get(), 0)], Shape({4, 3}));
  EXPECT_EQ(*shapes[graph.entry_id(g.bias.get(), 0)], Shape({4}));
  EXPECT_EQ(*shapes[graph.entry_id(g.mean.get(), 0)], Shape({4}));
  EXPECT_EQ(*shapes[graph.entry_id(g.bn.get(), 0)], Shape({5, 4}));
}

TEST(InferShapesTest, LeavesUnknownsWhenTooLittleIsKnown) {
  FcBnGraph g;
  const IndexedGraph graph({Out(g.bn)});
  std::vector<MaybeShape> shapes(graph.num_entries());
  EXPECT_GT(InferShapes(graph, &shapes), 0u);
  EXPECT_FALSE(shapes[graph.entry_id(g.weight.get(), 0)].has_value());
  EXPECT_FALSE(shapes[graph.entry_id(g.bn.get(), 0)].has_value());
}

TEST(InferShapesTest, ReadsTheShapeAttributeOfVariables) {
  auto data = Node::Variable("data", {{"__shape__", "(2, 6)"}});
  auto relu = Op("relu", "act", {}, {Out(data)});
  const IndexedGraph graph({Out(relu)});
  std::vector<MaybeShape> shapes(graph.num_entries());
  EXPECT_EQ(InferShapes(graph, &shapes), 0u);
  EXPECT_EQ(*shapes[1], Shape({2, 6}));
  // MXNet 1.x wrote unknown dimensions as 0: such an attribute gives no shape.
  auto partial = Node::Variable("p", {{"__shape__", "(0, 6)"}});
  const IndexedGraph partial_graph({Out(Op("relu", "act2", {}, {Out(partial)}))});
  std::vector<MaybeShape> partial_shapes(partial_graph.num_entries());
  EXPECT_EQ(InferShapes(partial_graph, &partial_shapes), 2u);
  // And "()" for a wholly unknown shape.
  auto unknown = Node::Variable("u", {{"__shape__", "()"}});
  const IndexedGraph unknown_graph({Out(Op("relu", "act3", {}, {Out(unknown)}))});
  std::vector<MaybeShape> unknown_shapes(unknown_graph.num_entries());
  EXPECT_EQ(InferShapes(unknown_graph, &unknown_shapes), 2u);
}

TEST(InferShapesTest, ConflictNamesTheNode) {
  FcBnGraph g;
  const IndexedGraph graph({Out(g.bn)});
  std::vector<MaybeShape> shapes(graph.num_entries());
  shapes[graph.entry_id(g.data.get(), 0)] = Shape{5, 3};
  shapes[graph.entry_id(g.weight.get(), 0)] = Shape{4, 7};
  try {
    InferShapes(graph, &shapes);
    FAIL() << "expected a conflict";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("'fc'"), std::string::npos) << error.message();
  }
}

TEST(InferTypesTest, PropagatesForwardsAndBackwards) {
  auto a = Node::Variable("a");
  auto b = Node::Variable("b");
  auto sum = Op("elemwise_add", "sum", {}, {Out(a), Out(b)});
  const IndexedGraph graph({Out(sum)});
  std::vector<MaybeDType> dtypes(graph.num_entries());
  dtypes[graph.entry_id(sum.get(), 0)] = DType::kFloat64;  // Known output only: inputs follow.
  EXPECT_EQ(InferTypes(graph, &dtypes), 0u);
  EXPECT_EQ(*dtypes[0], DType::kFloat64);
  EXPECT_EQ(*dtypes[1], DType::kFloat64);
}

TEST(InferTypesTest, ReadsTheDTypeAttributeAsFlagOrName) {
  auto a = Node::Variable("a", {{"__dtype__", "6"}});
  auto b = Node::Variable("b", {{"__dtype__", "int64"}});
  auto sum = Op("elemwise_add", "sum", {}, {Out(a), Out(b)});
  const IndexedGraph graph({Out(sum)});
  std::vector<MaybeDType> dtypes(graph.num_entries());
  EXPECT_EQ(InferTypes(graph, &dtypes), 0u);
  EXPECT_EQ(*dtypes[2], DType::kInt64);
}

TEST(InferTypesTest, ConflictNamesTheNode) {
  auto a = Node::Variable("a", {{"__dtype__", "0"}});
  auto b = Node::Variable("b", {{"__dtype__", "1"}});
  auto sum = Op("elemwise_add", "sum", {}, {Out(a), Out(b)});
  const IndexedGraph graph({Out(sum)});
  std::vector<MaybeDType> dtypes(graph.num_entries());
  try {
    InferTypes(graph, &dtypes);
    FAIL() << "expected a conflict";
  } catch (const Error& error) {
    // The op's own kind (elemwise_add: TypeError for mixed dtypes), with the node named.
    EXPECT_NE(error.message().find("node 'sum'"), std::string::npos) << error.message();
  }
}

}  // namespace
}  // namespace graph
}  // namespace pmx
