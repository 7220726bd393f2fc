// The gradient pass (against finite differences and the imperative gradient), DCE, CSE, memory planning and
// pointwise fusion on small graphs.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/graph/executor.h"
#include "core/graph/fuse.h"
#include "core/graph/gradient_pass.h"
#include "core/graph/internal/exec_test_util.h"
#include "core/graph/passes.h"
#include "core/ops/gradient.h"
#include "gtest/gtest.h"

namespace pmx {
namespace graph {
namespace {

using testing::Call;
using testing::EvaluateImperatively;
using testing::ExpectClose;
using testing::FromVector;
using testing::NumericGradient;
using testing::PlainInvoke;
using testing::RandomArray;
using testing::ToVector;
using testing::Var;

size_t CountOps(const std::vector<NodeEntry>& outputs, const std::string& op = "") {
  size_t count = 0;
  for (const auto& node : TopologicalOrder(outputs)) {
    count += !node->is_variable() && (op.empty() || node->op->name == op);
  }
  return count;
}

TEST(GradientPassTest, MatchesFiniteDifferencesWithSharedInputs) {
  // x is used three times (its gradients are summed); w feeds two dot products.
  const Symbol x = Var("x"), w = Var("w");
  const Symbol hidden = Call("tanh", {Call("dot", {x, w})});
  const Symbol row_sums = Call("sum", {x}, {{"axis", "1"}, {"keepdims", "True"}});
  const Symbol scaled = Call("broadcast_mul", {hidden, row_sums});
  const Symbol y = Call("elemwise_add", {scaled, Call("exp", {Call("dot", {x, w})})});
  const std::map<std::string, NDArray> values = {
      {"x", RandomArray(Shape({3, 4}), 1, -1, 1, DType::kFloat64)},
      {"w", RandomArray(Shape({4, 4}), 2, -1, 1, DType::kFloat64)}};
  const NDArray head = RandomArray(Shape({3, 4}), 3, -1, 1, DType::kFloat64);
  auto head_node = Node::Variable("head");
  const std::vector<NodeEntry> grads =
      Gradient(y.outputs(), {x.outputs()[0], w.outputs()[0]}, {NodeEntry{head_node, 0}});
  ASSERT_EQ(grads.size(), 2u);
  std::map<std::string, NDArray> all = values;
  all["head"] = head;
  const std::vector<NDArray> computed = EvaluateImperatively(Symbol(grads), all, PlainInvoke(false));
  const char* names[] = {"x", "w"};
  for (int i = 0; i < 2; ++i) {
    const std::vector<double> numeric = NumericGradient(y, values, head, names[i]);
    ExpectClose(computed[i], FromVector(numeric, values.at(names[i]).shape(), DType::kFloat64), 1e-6, 1e-7,
                std::string("gradient of ") + names[i]);
  }
  // The two dot(x, w) calls are separate nodes, so x gets several contributions summed by one add_n.
  EXPECT_GE(CountOps(grads, "add_n"), 1u);
}

TEST(GradientPassTest, ZerosForUnreachedSkipForNullAndPartialOutputs) {
  const Symbol x = Var("x"), unused = Var("unused");
  // split gives two outputs; only the first reaches the head, so the second's gradient counts as zeros.
  const Symbol parts = Call("SliceChannel", {x}, {{"num_outputs", "2"}, {"axis", "1"}});
  const Symbol y = Call("_mul_scalar", {parts[0]}, {{"scalar", "3"}});
  auto head_node = Node::Variable("head");
  const std::vector<NodeEntry> grads =
      Gradient(y.outputs(), {x.outputs()[0], unused.outputs()[0], x.outputs()[0]}, {NodeEntry{head_node, 0}},
               {false, false, true});
  ASSERT_EQ(grads.size(), 3u);
  EXPECT_EQ(grads[2].node, nullptr);  // Skipped (grad_req null).
  ASSERT_NE(grads[1].node, nullptr);
  EXPECT_EQ(grads[1].node->op->name, "zeros_like");
  std::map<std::string, NDArray> values = {{"x", RandomArray(Shape({2, 4}), 4)},
                                           {"unused", RandomArray(Shape({5}), 5)},
                                           {"head", FromVector({1, 2, 3, 4}, Shape({2, 2}))}};
  const std::vector<NDArray> computed =
      EvaluateImperatively(Symbol({grads[0], grads[1]}), values, PlainInvoke(false));
  EXPECT_EQ(ToVector(computed[0]), (std::vector<double>{3, 6, 0, 0, 9, 12, 0, 0}));
  EXPECT_EQ(ToVector(computed[1]), std::vector<double>(5, 0.0));
}

// An identity op without a gradient, for the error below.
PMX_REGISTER_OP(_test_not_differentiable) {
  OpDef def;
  def.name = "_test_not_differentiable";
  def.family = "test";
  def.inputs = {"data"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    (*out)[0] = (*in)[0];
    return (*in)[0].has_value();
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext&, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    std::copy_n(in[0].As<char>(), in[0].size() * DTypeSize(in[0].dtype), out[0].As<char>());
  };
  return def;
}

TEST(GradientPassTest, NonDifferentiableOpOnThePathIsAValueError) {
  const Symbol x = Var("x");
  const Symbol y = Call("_test_not_differentiable", {Call("exp", {x})});
  auto head_node = Node::Variable("head");
  try {
    Gradient(y.outputs(), {x.outputs()[0]}, {NodeEntry{head_node, 0}});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("_test_not_differentiable"), std::string::npos) << error.message();
  }
  // Gradients are taken with respect to variables only.
  EXPECT_THROW(Gradient(y.outputs(), {y.outputs()[0]}, {NodeEntry{head_node, 0}}), Error);
}

TEST(PassesTest, MakeOutputsDistinctCopiesVariablesAndRepeats) {
  const Symbol x = Var("x");
  const Symbol e = Call("exp", {x});
  const std::vector<NodeEntry> outputs = MakeOutputsDistinct({x.outputs()[0], e.outputs()[0], e.outputs()[0]});
  EXPECT_EQ(outputs[0].node->op->name, "_copy");
  EXPECT_EQ(outputs[1].node, e.outputs()[0].node);
  EXPECT_EQ(outputs[2].node->op->name, "_copy");
}

TEST(PassesTest, DeadCodeEliminationDropsUnneededBranchesCopiesAndZeroTerms) {
  const Symbol x = Var("x");
  const Symbol kept = Call("exp", {Call("_copy", {Call("sin", {x})})});
  const Symbol dead = Call("log", {Call("cos", {x})});
  const Symbol sum = Call("add_n", {kept, Call("zeros_like", {x}), Call("zeros_like", {kept})}, {{"num_args", "3"}});
  PassStats stats;
  const std::vector<NodeEntry> result =
      EliminateDeadCode({sum.outputs()[0], dead.outputs()[0]}, {true, false}, &stats);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(stats.nodes_before, 8u);  // sin, _copy, exp, two zeros_like, add_n; cos and log.
  // What is left: sin, exp; the copy, both zeros and the sum of one term are gone, and so is the dead branch.
  EXPECT_EQ(CountOps(result), 2u);
  EXPECT_EQ(result[0].node->op->name, "exp");
  const NDArray value = RandomArray(Shape({7}), 6);
  ExpectClose(EvaluateImperatively(Symbol(result), {{"x", value}}, PlainInvoke(false))[0],
              EvaluateImperatively(sum, {{"x", value}}, PlainInvoke(false))[0], 0, 0, "after DCE");
  // The original nodes were not modified.
  EXPECT_EQ(CountOps(sum.outputs()), 6u);
}

TEST(PassesTest, CommonSubexpressionsMergeExceptRandomOps) {
  const Symbol x = Var("x");
  const Symbol a = Call("exp", {x}), b = Call("exp", {x});
  const Symbol c = Call("_plus_scalar", {a}, {{"scalar", "1"}}), d = Call("_plus_scalar", {b}, {{"scalar", "1.0"}});
  const Symbol e = Call("_plus_scalar", {b}, {{"scalar", "2"}});  // Other parameters: not merged.
  const Symbol r1 = Call("Dropout", {x}, {{"p", "0.5"}}), r2 = Call("Dropout", {x}, {{"p", "0.5"}});
  const Symbol y = Call("add_n", {c, d, e, r1, r2}, {{"num_args", "5"}});
  PassStats stats;
  const std::vector<NodeEntry> result = EliminateCommonSubexpressions(y.outputs(), &stats);
  EXPECT_EQ(stats.nodes_before, 8u);
  EXPECT_EQ(stats.nodes_after, 6u);  // One exp and one x+1 fewer.
  EXPECT_EQ(CountOps(result, "exp"), 1u);
  EXPECT_EQ(CountOps(result, "Dropout"), 2u);
  const NDArray value = RandomArray(Shape({2, 3}), 7);
  ExpectClose(EvaluateImperatively(Symbol(result), {{"x", value}}, PlainInvoke(false))[0],
              EvaluateImperatively(y, {{"x", value}}, PlainInvoke(false))[0], 0, 0, "after CSE");
}

// Shapes and dtypes of every entry of `graph` for float32 variables of `shape`.
void InferFloat(const IndexedGraph& graph, const Shape& shape, std::vector<Shape>* shapes,
                std::vector<DType>* dtypes) {
  std::vector<MaybeShape> s(graph.num_entries());
  std::vector<MaybeDType> d(graph.num_entries());
  for (uint32_t id : graph.input_nodes()) {
    s[graph.node(id).first_entry] = shape;
    d[graph.node(id).first_entry] = DType::kFloat32;
  }
  internal::InferAll(graph, s, d, "test", shapes, dtypes);
}

TEST(MemoryPlanTest, ChainRunsInPlaceAndLiveValuesAreNotShared) {
  Symbol x = Var("x");
  Symbol h = x;
  for (int i = 0; i < 8; ++i) h = Call(i % 2 ? "sin" : "exp", {h});
  const IndexedGraph chain(h.outputs());
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  InferFloat(chain, Shape({1000}), &shapes, &dtypes);
  MemoryPlanOptions options;
  options.external.assign(chain.num_entries(), false);
  options.external[chain.output_entries()[0]] = true;
  MemoryPlan plan = PlanMemory(chain, shapes, dtypes, options);
  // Seven internal entries of 4000 bytes: one buffer, every op after the first in place.
  EXPECT_EQ(plan.unplanned_bytes, 7u * 4032);
  EXPECT_EQ(plan.planned_bytes, 4032u);
  EXPECT_EQ(plan.entry_slot[chain.node(0).first_entry], MemoryPlan::kExternal);  // The variable.

  // Without in-place, two buffers alternate; without sharing either, one buffer per entry.
  options.inplace = false;
  EXPECT_EQ(PlanMemory(chain, shapes, dtypes, options).planned_bytes, 2u * 4032);
  options.share = false;
  EXPECT_EQ(PlanMemory(chain, shapes, dtypes, options).planned_bytes, 7u * 4032);

  // A value read again later (a skip connection) keeps its buffer until then.
  const Symbol a = Call("exp", {x});
  const Symbol b = Call("sin", {a});
  const Symbol c = Call("cos", {b});
  const Symbol y = Call("elemwise_add", {c, a});
  const IndexedGraph skip(y.outputs());
  InferFloat(skip, Shape({10}), &shapes, &dtypes);
  MemoryPlanOptions skip_options;
  skip_options.external.assign(skip.num_entries(), false);
  skip_options.external[skip.output_entries()[0]] = true;
  plan = PlanMemory(skip, shapes, dtypes, skip_options);
  const int slot_a = plan.entry_slot[skip.entry_id(a.outputs()[0])];
  EXPECT_NE(plan.entry_slot[skip.entry_id(b.outputs()[0])], slot_a);
  EXPECT_NE(plan.entry_slot[skip.entry_id(c.outputs()[0])], slot_a);
  EXPECT_FALSE(plan.inplace[skip.entry_id(b.outputs()[0])]);
}

TEST(FusionTest, FindsRunsOfElementwiseOpsOfOneShape) {
  const Symbol x = Var("x"), w = Var("w");
  const Symbol a = Call("_mul_scalar", {Call("exp", {x})}, {{"scalar", "2"}});
  const Symbol b = Call("elemwise_add", {Call("tanh", {a}), x});
  const Symbol c = Call("dot", {b, w});  // Not elementwise: ends the run.
  const Symbol d = Call("relu", {Call("negative", {c})});
  const IndexedGraph graph(d.outputs());
  std::vector<MaybeShape> s(graph.num_entries());
  std::vector<MaybeDType> t(graph.num_entries());
  s[graph.entry_id(x.outputs()[0])] = Shape({4, 4});
  s[graph.entry_id(w.outputs()[0])] = Shape({4, 4});
  std::vector<Shape> shapes;
  std::vector<DType> dtypes;
  for (auto& dtype : t) dtype = DType::kFloat32;
  internal::InferAll(graph, s, t, "test", &shapes, &dtypes);
  const auto groups = FindFusionGroups(graph, shapes, dtypes, 0, static_cast<uint32_t>(graph.num_nodes()));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].size(), 4u);  // exp, *2, tanh, +x
  EXPECT_EQ(groups[1].size(), 2u);  // negative, relu
}

// One long chain of elementwise ops with a second input, in `dtype`, run fused and unfused.
void CheckFusedEqualsUnfused(DType dtype, int64_t size, bool is_float) {
  Symbol x = Var("x"), y = Var("y");
  Symbol h = x;
  for (int i = 0; i < 12; ++i) {
    switch (i % 4) {
      case 0: h = Call("elemwise_add", {h, y}); break;
      case 1: h = Call("_mul_scalar", {h}, {{"scalar", "0.5"}}); break;
      case 2: h = Call(is_float ? "sin" : "negative", {h}); break;
      default: h = Call("elemwise_mul", {h, x}); break;
    }
  }
  const Symbol out = Symbol::Group({h, Call("abs", {h})});
  const NDArray xv = RandomArray(Shape({size}), 8, -2, 2, DType::kFloat64).AsType(dtype);
  const NDArray yv = RandomArray(Shape({size}), 9, -2, 2, DType::kFloat64).AsType(dtype);
  ExecutorOptions fused, unfused;
  unfused.fuse = false;
  auto run = [&](const ExecutorOptions& options, size_t* chains) {
    auto executor = Executor::Bind(out, DefaultDevice(), {xv, yv}, {}, {}, {}, options);
    executor->Forward();
    *chains = executor->compiled().num_fused_chains();
    return executor->outputs();
  };
  size_t fused_chains = 0, unfused_chains = 0;
  const std::vector<NDArray> a = run(fused, &fused_chains), b = run(unfused, &unfused_chains);
  EXPECT_EQ(fused_chains, 1u);
  EXPECT_EQ(unfused_chains, 0u);
  const std::vector<NDArray> reference = EvaluateImperatively(out, {{"x", xv}, {"y", yv}}, PlainInvoke(false));
  for (int k = 0; k < 2; ++k) {
    ExpectClose(a[k], reference[k], 0, 0, std::string("fused ") + DTypeName(dtype));
    ExpectClose(b[k], reference[k], 0, 0, std::string("unfused ") + DTypeName(dtype));
  }
}

TEST(FusionTest, FusedChainEqualsUnfusedForEveryDtypeAndSize) {
  CheckFusedEqualsUnfused(DType::kFloat32, 10, true);
  CheckFusedEqualsUnfused(DType::kFloat32, 300001, true);  // Many blocks, several threads.
  CheckFusedEqualsUnfused(DType::kFloat64, 70001, true);
  CheckFusedEqualsUnfused(DType::kInt32, 5000, false);
}

}  // namespace
}  // namespace graph
}  // namespace pmx
