// MXNet 1.x partial shapes (0: unknown dimension) in graph inference and execution (Note [Partial shapes] in
// graph.cc): init ops and variables whose shape a consumer completes, misfits as ValueErrors, sources nothing
// completes staying unknown, and the Executor / CachedOp running init ops with their inferred shapes.
#include <map>
#include <string>
#include <vector>

#include "core/graph/cached_op.h"
#include "core/graph/executor.h"
#include "core/graph/graph.h"
#include "core/graph/internal/exec_test_util.h"
#include "core/graph/passes.h"
#include "gtest/gtest.h"

namespace pmx {
namespace graph {
namespace {

using testing::Call;
using testing::ExpectClose;
using testing::FromVector;
using testing::RandomArray;
using testing::ToVector;
using testing::Var;

std::shared_ptr<Node> Op(const std::string& op, const std::string& name, ParamMap params,
                         std::vector<NodeEntry> inputs = {}) {
  return Node::Op(OpRegistry::Get()->Lookup(op), name, std::move(params), std::move(inputs));
}

NodeEntry Out(const std::shared_ptr<Node>& node, int index = 0) { return NodeEntry{node, index}; }

// Runs InferShapes on the graph of `outputs` with `known` variable shapes; returns the unknown count.
size_t Infer(const IndexedGraph& graph, const std::map<const Node*, Shape>& known, std::vector<MaybeShape>* shapes) {
  shapes->assign(graph.num_entries(), std::nullopt);
  for (const auto& [node, shape] : known) (*shapes)[graph.entry_id(node, 0)] = shape;
  return InferShapes(graph, shapes);
}

// Expects `run` to throw a ValueError whose message holds every string of `parts`.
template <typename Fn>
void ExpectValueError(Fn&& run, const std::vector<std::string>& parts) {
  try {
    run();
    ADD_FAILURE() << "expected a ValueError";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError) << error.message();
    for (const std::string& part : parts) {
      EXPECT_NE(error.message().find(part), std::string::npos) << "missing '" << part << "' in: " << error.message();
    }
  }
}

TEST(PartialShapeTest, DeclaredPartialShapes) {
  EXPECT_EQ(DeclaredPartialShape(*Op("_zeros", "z", {{"shape", "(2, 0, 4)"}})), Shape({2, 0, 4}));
  EXPECT_EQ(DeclaredPartialShape(*Op("_full", "f", {{"shape", "(0,)"}, {"value", "3"}})), Shape({0}));
  EXPECT_EQ(DeclaredPartialShape(*Node::Variable("w", {{"__shape__", "(3, 0)"}})), Shape({3, 0}));
  EXPECT_EQ(DeclaredPartialShape(*Node::Variable("w", {{"__shape__", "(3, -1)"}})), Shape({3, 0}));
  // Complete shapes, no shape, and ops without a `shape` parameter (an empty _eye is really empty).
  EXPECT_FALSE(DeclaredPartialShape(*Op("_zeros", "z", {{"shape", "(2, 3)"}})));
  EXPECT_FALSE(DeclaredPartialShape(*Op("_zeros", "z", {{"shape", "()"}})));
  EXPECT_FALSE(DeclaredPartialShape(*Node::Variable("w", {{"__shape__", "(3, 4)"}})));
  EXPECT_FALSE(DeclaredPartialShape(*Node::Variable("w", {{"__shape__", "()"}})));
  EXPECT_FALSE(DeclaredPartialShape(*Node::Variable("w")));
  EXPECT_FALSE(DeclaredPartialShape(*Op("_eye", "e", {{"N", "0"}})));
}

TEST(PartialShapeTest, ConsumerCompletesAnInitOp) {
  auto zeros = Op("_zeros", "zeros", {{"shape", "(2, 0, 4)"}});
  auto x = Node::Variable("x");
  auto sum = Op("elemwise_add", "sum", {}, {Out(zeros), Out(x)});
  const IndexedGraph graph({Out(sum)});
  std::vector<MaybeShape> shapes;
  EXPECT_EQ(Infer(graph, {{x.get(), Shape({2, 3, 4})}}, &shapes), 0u);
  EXPECT_EQ(shapes[graph.entry_id(zeros.get(), 0)], Shape({2, 3, 4}));
  EXPECT_EQ(shapes[graph.entry_id(sum.get(), 0)], Shape({2, 3, 4}));
  // Nothing completes it without x: it stays unknown (MXNet asks for more input shapes) rather than (2, 0, 4).
  EXPECT_EQ(Infer(graph, {}, &shapes), 3u);
  EXPECT_FALSE(shapes[graph.entry_id(zeros.get(), 0)]);
}

TEST(PartialShapeTest, RnnAssignsItsZeroStates) {
  // What Gluon's LSTM layer called without states traces: _zeros(shape=(layers, 0, hidden)) for both states.
  auto data = Node::Variable("data");
  auto parameters = Node::Variable("parameters");
  auto h0 = Op("_zeros", "h0", {{"shape", "(2, 0, 6)"}});
  auto c0 = Op("_zeros", "c0", {{"shape", "(2, 0, 6)"}});
  auto rnn = Op("RNN", "lstm",
                {{"mode", "lstm"}, {"state_size", "6"}, {"num_layers", "2"}, {"state_outputs", "True"}},
                {Out(data), Out(parameters), Out(h0), Out(c0)});
  const IndexedGraph graph({Out(rnn)});
  std::vector<MaybeShape> shapes;
  EXPECT_EQ(Infer(graph, {{data.get(), Shape({5, 3, 4})}}, &shapes), 0u);
  EXPECT_EQ(shapes[graph.entry_id(h0.get(), 0)], Shape({2, 3, 6}));
  EXPECT_EQ(shapes[graph.entry_id(c0.get(), 0)], Shape({2, 3, 6}));
  EXPECT_EQ(shapes[graph.entry_id(rnn.get(), 0)], Shape({5, 3, 6}));
}

TEST(PartialShapeTest, FullyConnectedCompletesAPartialWeight) {
  for (const char* attr : {"(3, 0)", "(3, -1)"}) {
    auto data = Node::Variable("data");
    auto weight = Node::Variable("fc_weight", {{"__shape__", attr}});
    auto bias = Node::Variable("fc_bias", {{"__shape__", "(3,)"}});
    auto fc = Op("FullyConnected", "fc", {{"num_hidden", "3"}}, {Out(data), Out(weight), Out(bias)});
    const IndexedGraph graph({Out(fc)});
    std::vector<MaybeShape> shapes;
    EXPECT_EQ(Infer(graph, {{data.get(), Shape({2, 5})}}, &shapes), 0u) << attr;
    EXPECT_EQ(shapes[graph.entry_id(weight.get(), 0)], Shape({3, 5})) << attr;
    EXPECT_EQ(shapes[graph.entry_id(fc.get(), 0)], Shape({2, 3})) << attr;
  }
}

TEST(PartialShapeTest, AKnownDimensionThatDisagreesIsAValueError) {
  auto zeros = Op("_zeros", "zeros", {{"shape", "(2, 0, 4)"}});
  auto x = Node::Variable("x");
  auto sum = Op("elemwise_add", "sum", {}, {Out(zeros), Out(x)});
  const IndexedGraph graph({Out(sum)});
  std::vector<MaybeShape> shapes;
  ExpectValueError([&] { Infer(graph, {{x.get(), Shape({3, 5, 4})}}, &shapes); },
                   {"'sum'", "elemwise_add", "(3, 5, 4)", "(2, 0, 4)", "node 'zeros'"});
  ExpectValueError([&] { Infer(graph, {{x.get(), Shape({2, 5})}}, &shapes); }, {"(2, 5)", "(2, 0, 4)"});  // ndim

  auto data = Node::Variable("data");
  auto weight = Node::Variable("fc_weight", {{"__shape__", "(4, 0)"}});
  auto fc = Op("FullyConnected", "fc", {{"num_hidden", "3"}, {"no_bias", "True"}}, {Out(data), Out(weight)});
  const IndexedGraph fc_graph({Out(fc)});
  ExpectValueError([&] { Infer(fc_graph, {{data.get(), Shape({2, 5})}}, &shapes); },
                   {"'fc'", "FullyConnected", "(3, 5)", "(4, 0)", "variable 'fc_weight'"});
  // A shape the caller gives wins over the attribute, as MXNet applies __shape__ only to unknown variables.
  EXPECT_EQ(Infer(fc_graph, {{data.get(), Shape({2, 5})}, {weight.get(), Shape({3, 5})}}, &shapes), 0u);
}

TEST(PartialShapeTest, SymbolInferShapeAndCompleteShapesAreUnchanged) {
  const Symbol zeros = Call("_zeros", {}, {{"shape", "(0, 3)"}}, "zeros");
  const Symbol out = Call("elemwise_add", {zeros, Var("x")}, {}, "sum");
  const auto inferred = out.InferShape({{"x", Shape({4, 3})}});
  EXPECT_TRUE(inferred.complete);
  EXPECT_EQ(*inferred.outputs[0], Shape({4, 3}));
  const auto partial = out.InferShape({}, /*partial=*/true);
  EXPECT_FALSE(partial.complete);
  EXPECT_FALSE(partial.outputs[0]);
  // A complete init op is taken literally; the JSON keeps the partial shape as written.
  const Symbol full = Call("elemwise_add", {Call("_ones", {}, {{"shape", "(4, 3)"}}), Var("y")});
  EXPECT_EQ(*full.InferShape({}, /*partial=*/true).arguments[0], Shape({4, 3}));
  EXPECT_NE(out.ToJson().find("(0, 3)"), std::string::npos) << out.ToJson();
}

TEST(PartialShapeTest, CommonSubexpressionsKeepEqualPartialInitOpsApart) {
  // Two equal _zeros(shape=(0, 3)) sized by different consumers must not be merged into one node.
  const Symbol a = Call("elemwise_add", {Call("_zeros", {}, {{"shape", "(0, 3)"}}, "za"), Var("x")}, {}, "a");
  const Symbol b = Call("elemwise_add", {Call("_zeros", {}, {{"shape", "(0, 3)"}}, "zb"), Var("y")}, {}, "b");
  const Symbol both = Symbol::Group({a, b});
  auto executor = Executor::SimpleBind(both, Device::cpu(), {{"x", Shape({2, 3})}, {"y", Shape({5, 3})}}, {}, {},
                                       GradReq::kNull);
  const NDArray x = RandomArray(Shape({2, 3}), 1), y = RandomArray(Shape({5, 3}), 2);
  executor->Forward(false, {{"x", x}, {"y", y}});
  ExpectClose(executor->outputs()[0], x, 0, 0, "a");
  ExpectClose(executor->outputs()[1], y, 0, 0, "b");
  // Equal complete init ops are still merged.
  const Symbol c = Call("elemwise_add", {Call("_ones", {}, {{"shape", "(2, 3)"}}, "oa"), Var("x")});
  const Symbol d = Call("elemwise_mul", {Call("_ones", {}, {{"shape", "(2, 3)"}}, "ob"), Var("x")});
  PassStats stats;
  EliminateCommonSubexpressions(Symbol::Group({c, d}).outputs(), &stats);
  EXPECT_EQ(stats.nodes_after, stats.nodes_before - 1);
}

// An LSTM whose states are _zeros(shape=(2, 0, 6)) against the same LSTM given explicit zero states.
struct LstmGraphs {
  ParamMap params = {{"mode", "lstm"}, {"state_size", "6"}, {"num_layers", "2"}};
  Symbol partial = Call("RNN", {Var("data"), Var("parameters"), Call("_zeros", {}, {{"shape", "(2, 0, 6)"}}, "h0"),
                                Call("_ones", {}, {{"shape", "(2, 0, 6)"}}, "c0")},
                        params, "lstm");
  Symbol explicit_states = Call("RNN", {Var("data"), Var("parameters"), Var("state"), Var("state_cell")}, params,
                                "lstm_explicit");
};

TEST(PartialShapeTest, ExecutorRunsInitOpsWithTheirInferredShapes) {
  LstmGraphs g;
  const Shape data_shape({5, 3, 4});
  auto executor = Executor::SimpleBind(g.partial, Device::cpu(), {{"data", data_shape}}, {}, {}, GradReq::kNull);
  ASSERT_EQ(executor->arg_arrays().size(), 2u);
  const Shape param_shape = executor->arg_arrays()[1].shape();
  const NDArray data = RandomArray(data_shape, 3), parameters = RandomArray(param_shape, 4, -0.3, 0.3);
  executor->Forward(false, {{"data", data}, {"parameters", parameters}});
  const std::vector<double> zeros(36, 0.0), ones(36, 1.0);
  auto reference = Executor::SimpleBind(g.explicit_states, Device::cpu(), {{"data", data_shape}}, {}, {},
                                        GradReq::kNull);
  reference->Forward(false, {{"data", data},
                             {"parameters", parameters},
                             {"state", FromVector(zeros, Shape({2, 3, 6}))},
                             {"state_cell", FromVector(ones, Shape({2, 3, 6}))}});
  ASSERT_EQ(executor->outputs()[0].shape(), Shape({5, 3, 6}));
  ExpectClose(executor->outputs()[0], reference->outputs()[0], 1e-6, 1e-7, "lstm output");
  // Data without the states' known dimensions cannot bind: the layer count is fixed at 2.
  const Symbol wrong = Call("elemwise_add", {Call("_zeros", {}, {{"shape", "(2, 0, 6)"}}), Var("v")});
  ExpectValueError([&] { Executor::SimpleBind(wrong, Device::cpu(), {{"v", Shape({3, 3, 6})}}); },
                   {"(3, 3, 6)", "(2, 0, 6)"});
}

TEST(PartialShapeTest, CachedOpSizesInitOpsPerInputSignature) {
  LstmGraphs g;
  CachedOp op(g.partial);
  ASSERT_EQ(op.input_names(), (std::vector<std::string>{"data", "parameters"}));
  for (int64_t batch : {3, 7}) {  // A new batch size recompiles, and the states follow it.
    const Shape data_shape({5, batch, 4});
    const auto inferred = g.partial.InferShape({{"data", data_shape}});
    const NDArray data = RandomArray(data_shape, 5), parameters = RandomArray(*inferred.arguments[1], 6, -0.3, 0.3);
    const std::vector<NDArray> outputs = op({data, parameters});
    auto reference = Executor::SimpleBind(g.explicit_states, Device::cpu(), {{"data", data_shape}}, {}, {},
                                          GradReq::kNull);
    const std::vector<double> zeros(2 * batch * 6, 0.0), ones(2 * batch * 6, 1.0);
    reference->Forward(false, {{"data", data},
                               {"parameters", parameters},
                               {"state", FromVector(zeros, Shape({2, batch, 6}))},
                               {"state_cell", FromVector(ones, Shape({2, batch, 6}))}});
    ExpectClose(outputs[0], reference->outputs()[0], 1e-6, 1e-7, "batch " + std::to_string(batch));
  }
  EXPECT_EQ(op.num_compilations(), 2);
}

}  // namespace
}  // namespace graph
}  // namespace pmx
