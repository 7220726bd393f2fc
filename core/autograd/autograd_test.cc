// First-order autograd: recorded gradients against central finite differences in float64, gradient
// requests, graph lifetime, recording state and the errors users hit.
#include "core/autograd/autograd.h"

#include <string>
#include <vector>

#include "core/autograd/internal/graph.h"
#include "core/autograd/internal/test_util.h"
#include "core/base/error.h"
#include "core/ops/op.h"
#include "gtest/gtest.h"

namespace pmx {

namespace {

// An identity op without a gradient, to check the error for non-differentiable ops on the path.
PMX_REGISTER_OP(_autograd_test_opaque) {
  OpDef def;
  def.name = "_autograd_test_opaque";
  def.family = "autograd_test";
  def.doc = "Test-only identity without a gradient.";
  def.inputs = {"data"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext&, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const double* x = in[0].As<double>();
    double* y = out[0].As<double>();
    for (int64_t i = 0; i < in[0].size(); ++i) y[i] = x[i];
  };
  return def;
}

}  // namespace

namespace autograd {
namespace {

using testing::Array;
using testing::ExpectClose;
using testing::FiniteDifference;
using testing::Scalar;
using testing::ToVector;
using testing::Total;
using testing::Values;

NDArray Call(const std::string& op, const std::vector<NDArray>& inputs, const ParamMap& params = {}) {
  return autograd::Invoke1(op, inputs, params);
}

NDArray Sum(const NDArray& x) { return Call("sum", {x}); }

NDArray Add(const NDArray& a, const NDArray& b) { return Call("elemwise_add", {a, b}); }

NDArray Mul(const NDArray& a, const NDArray& b) { return Call("elemwise_mul", {a, b}); }

// Marks `arrays` as variables with zero-initialised buffers and grad_req `req`.
void Attach(std::vector<NDArray*> arrays, GradReq req = GradReq::kWrite) {
  MarkVariables(arrays, std::vector<NDArray>(arrays.size()), std::vector<GradReq>(arrays.size(), req));
}

// Records f on fresh variables made from `arguments`, runs Backward, and checks every variable's gradient
// against central differences of f.
void CheckFirstOrder(const std::function<NDArray(const std::vector<NDArray>&)>& f, std::vector<NDArray> arguments,
                     double tolerance = 1e-6) {
  std::vector<NDArray*> pointers;
  for (NDArray& argument : arguments) pointers.push_back(&argument);
  Attach(pointers);
  NDArray head;
  {
    RecordScope record;
    head = f(arguments);
  }
  Backward({head});
  for (size_t i = 0; i < arguments.size(); ++i) {
    const auto expected = FiniteDifference([&](const std::vector<NDArray>& a) { return Total(f(a)); },
                                           arguments, static_cast<int>(i));
    ExpectClose(ToVector(GradOf(arguments[i])), expected, tolerance, ("argument " + std::to_string(i)).c_str());
  }
}

// Expects `body` to throw a pmx::Error of `kind` whose message contains `fragment`.
template <typename Body>
void ExpectError(Body body, ErrorKind kind, const std::string& fragment) {
  try {
    body();
    ADD_FAILURE() << "expected an error containing '" << fragment << "'";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), kind) << error.message();
    EXPECT_NE(error.message().find(fragment), std::string::npos) << error.message();
  }
}

// Backward flags exactly the variables it wrote as fresh; grad() and a backward that misses a variable do not.
TEST(AutogradVariables, BackwardMarksWrittenGradientsFresh) {
  NDArray used = Array({1.0, 2.0}, Shape({2}));
  NDArray unused = Array({3.0, 4.0}, Shape({2}));
  Attach({&used, &unused});
  EXPECT_FALSE(GradIsFresh(used));
  NDArray head;
  {
    RecordScope record;
    head = Sum(Mul(used, used));
  }
  Grad({head}, {used}, {}, /*retain_graph=*/true);
  EXPECT_FALSE(GradIsFresh(used));
  Backward({head});
  EXPECT_TRUE(GradIsFresh(used));
  EXPECT_FALSE(GradIsFresh(unused));
  SetGradFresh(used, false);
  EXPECT_FALSE(GradIsFresh(used));
  EXPECT_FALSE(GradIsFresh(head));
  ExpectError([&] { SetGradFresh(Array({1.0}, Shape({1})), true); }, ErrorKind::kValueError, "expected a variable");
}

TEST(AutogradState, FlagsAndScopesRestore) {
  EXPECT_FALSE(IsRecording());
  EXPECT_FALSE(IsTraining());
  EXPECT_FALSE(SetRecording(true));
  EXPECT_TRUE(SetRecording(false));
  {
    RecordScope record;
    EXPECT_TRUE(IsRecording());
    EXPECT_TRUE(IsTraining());
    {
      PauseScope pause;
      EXPECT_FALSE(IsRecording());
      EXPECT_FALSE(IsTraining());
      RecordScope predict(/*train_mode=*/false);
      EXPECT_TRUE(IsRecording());
      EXPECT_FALSE(IsTraining());
    }
    EXPECT_TRUE(IsRecording());
    EXPECT_TRUE(IsTraining());
    PauseScope pause_training(/*train_mode=*/true);
    EXPECT_FALSE(IsRecording());
    EXPECT_TRUE(IsTraining());
  }
  EXPECT_FALSE(IsRecording());
  EXPECT_FALSE(IsTraining());
}

TEST(AutogradFirstOrder, CompositeElementwise) {
  // sum(tanh(x * y) + exp(x) / y)
  auto f = [](const std::vector<NDArray>& a) {
    const NDArray& x = a[0];
    const NDArray& y = a[1];
    return Sum(Add(Call("tanh", {Mul(x, y)}), Call("elemwise_div", {Call("exp", {x}), y})));
  };
  CheckFirstOrder(f, {Array(Values(12, -1, 1, 1), Shape({3, 4})), Array(Values(12, 0.5, 2, 2), Shape({3, 4}))});
}

TEST(AutogradFirstOrder, BroadcastOps) {
  // sum((x + b) * (x / b) - c), b broadcast along rows, c broadcast along columns.
  auto f = [](const std::vector<NDArray>& a) {
    const NDArray &x = a[0], &b = a[1], &c = a[2];
    const NDArray product = Call("broadcast_mul", {Call("broadcast_add", {x, b}), Call("broadcast_div", {x, b})});
    return Sum(Call("broadcast_sub", {product, c}));
  };
  CheckFirstOrder(f, {Array(Values(6, -1, 1, 3), Shape({2, 3})), Array(Values(3, 1, 2, 4), Shape({1, 3})),
                      Array(Values(2, -1, 1, 5), Shape({2, 1}))});
}

TEST(AutogradFirstOrder, DotAndFullyConnected) {
  // sum(tanh(dot(FullyConnected(a, w, bias), m)))
  auto f = [](const std::vector<NDArray>& v) {
    const NDArray hidden = Call("FullyConnected", {v[0], v[1], v[2]}, {{"num_hidden", "4"}});
    return Sum(Call("tanh", {Call("dot", {hidden, v[3]})}));
  };
  CheckFirstOrder(f, {Array(Values(6, -1, 1, 6), Shape({2, 3})), Array(Values(12, -0.5, 0.5, 7), Shape({4, 3})),
                      Array(Values(4, -0.5, 0.5, 8), Shape({4})), Array(Values(8, -1, 1, 9), Shape({4, 2}))});
}

TEST(AutogradFirstOrder, ReshapeAndTranspose) {
  const NDArray weights = Array(Values(24, -1, 1, 10), Shape({4, 6}));  // A constant: not in the graph.
  auto f = [&](const std::vector<NDArray>& a) {
    const NDArray reshaped = Call("Reshape", {a[0]}, {{"shape", "(6, 4)"}});
    const NDArray transposed = Call("transpose", {reshaped}, {{"axes", "(1, 0)"}});
    return Sum(Call("sin", {Mul(transposed, weights)}));
  };
  CheckFirstOrder(f, {Array(Values(24, -1, 1, 11), Shape({2, 3, 4}))});
}

TEST(AutogradFirstOrder, MultiOutputSplitWithUnusedOutputAndSharedUse) {
  // Parts 0 and 2 of a three-way split are used (part 0 twice); part 1 gets zero gradient.
  auto f = [](const std::vector<NDArray>& a) {
    const std::vector<NDArray> parts = autograd::Invoke("split", {a[0]}, {{"num_outputs", "3"}, {"axis", "1"}});
    EXPECT_EQ(parts.size(), 3u);
    return Add(Sum(Mul(parts[0], Call("exp", {parts[0]}))), Sum(Call("sin", {parts[2]})));
  };
  CheckFirstOrder(f, {Array(Values(12, -1, 1, 12), Shape({2, 6}))});
}

TEST(AutogradFirstOrder, SplitUnusedPartIsExactlyZero) {
  NDArray x = Array(Values(12, -1, 1, 13), Shape({2, 6}));
  Attach({&x});
  NDArray head;
  {
    RecordScope record;
    const std::vector<NDArray> parts = autograd::Invoke("split", {x}, {{"num_outputs", "3"}, {"axis", "1"}});
    head = Sum(parts[2]);
  }
  Backward({head});
  const std::vector<double> grad = ToVector(GradOf(x));
  for (int row = 0; row < 2; ++row) {
    for (int column = 0; column < 6; ++column) {
      EXPECT_EQ(grad[row * 6 + column], column >= 4 ? 1.0 : 0.0) << row << "," << column;
    }
  }
}

TEST(AutogradFirstOrder, HeadGradientsScaleTheResult) {
  NDArray x = Array({1, 2, 3}, Shape({3}));
  Attach({&x});
  NDArray y;
  {
    RecordScope record;
    y = Mul(x, x);
  }
  Backward({y}, {Array({1, 10, 100}, Shape({3}))});
  ExpectClose(ToVector(GradOf(x)), {2, 40, 600}, 1e-12, "2 x * head_grad");
}

TEST(AutogradGradReq, AddAccumulatesAndNullSkips) {
  NDArray x = Array({1, -2, 3}, Shape({3}));
  NDArray w = Array({0.5, 0.5, 0.5}, Shape({3}));
  NDArray frozen_grad = NDArray::Full(Shape({3}), 7.0, DType::kFloat64);
  MarkVariables({&x, &w}, {NDArray(), frozen_grad}, {GradReq::kAdd, GradReq::kNull});
  for (int pass = 0; pass < 2; ++pass) {
    NDArray head;
    {
      RecordScope record;
      head = Sum(Mul(Mul(x, x), w));
    }
    Backward({head});
  }
  // Two passes of d/dx sum(x^2 w) = 2 x w, accumulated.
  ExpectClose(ToVector(GradOf(x)), {2, -4, 6}, 1e-12, "accumulated");
  ExpectClose(ToVector(GradOf(w)), {7, 7, 7}, 0, "null request leaves the buffer alone");
  EXPECT_TRUE(GradOf(w).SharesChunkWith(frozen_grad));
}

TEST(AutogradGradReq, WriteOverwrites) {
  NDArray x = Array({1, 2}, Shape({2}));
  Attach({&x});
  const NDArray buffer = GradOf(x);
  for (int pass = 0; pass < 2; ++pass) {
    NDArray head;
    {
      RecordScope record;
      head = Sum(Mul(x, x));
    }
    Backward({head});
  }
  ExpectClose(ToVector(GradOf(x)), {2, 4}, 1e-12, "overwritten");
  EXPECT_TRUE(GradOf(x).SharesChunkWith(buffer)) << "backward writes into the attached buffer";
}

TEST(AutogradGraph, RetainGraphAllowsASecondBackwardAndFreeingForbidsIt) {
  NDArray x = Array({1, 2}, Shape({2}));
  Attach({&x}, GradReq::kAdd);
  NDArray hidden, head;
  {
    RecordScope record;
    hidden = Call("exp", {x});
    head = Sum(hidden);
  }
  Backward({head}, {}, /*retain_graph=*/true);
  Backward({head}, {}, /*retain_graph=*/false);
  ExpectClose(ToVector(GradOf(x)), {2 * std::exp(1.0), 2 * std::exp(2.0)}, 1e-12, "two passes accumulated");
  ExpectError([&] { Backward({head}); }, ErrorKind::kValueError, "retain_graph");
  EXPECT_FALSE(InGraph(head));
  EXPECT_FALSE(InGraph(hidden));
  EXPECT_TRUE(InGraph(x)) << "variables survive a backward";
  // A freed array counts as outside any graph: writing into it while recording is allowed again.
  RecordScope record;
  EXPECT_NO_THROW(autograd::Invoke("exp", {x}, {}, [&] {
    InvokeOptions options;
    options.outputs = {hidden};
    return options;
  }()));
}

TEST(AutogradGraph, SecondBackwardThroughAFreedSubgraphNamesIt) {
  NDArray x = Array({1, 2}, Shape({2}));
  Attach({&x});
  NDArray shared, first, second;
  {
    RecordScope record;
    shared = Call("exp", {x});
    first = Sum(shared);
    second = Sum(Mul(shared, shared));
  }
  Backward({first});
  ExpectError([&] { Backward({second}); }, ErrorKind::kValueError, "freed by an earlier backward");
}

TEST(AutogradGraph, AssigningToAnArrayInTheGraphWhileRecordingIsAnError) {
  NDArray x = Array({1, 2}, Shape({2}));
  Attach({&x});
  RecordScope record;
  NDArray y = Mul(x, x);
  InvokeOptions into_y;
  into_y.outputs = {y};
  ExpectError([&] { autograd::Invoke("_mul_scalar", {x}, {{"scalar", "2"}}, into_y); }, ErrorKind::kValueError,
              "already in a recorded graph");
  InvokeOptions into_x;
  into_x.outputs = {x};
  ExpectError([&] { autograd::Invoke("_plus_scalar", {x}, {{"scalar", "1"}}, into_x); }, ErrorKind::kValueError,
              "already in a recorded graph");
  // Writing into a fresh array records it as an output of the call.
  InvokeOptions into_fresh;
  into_fresh.outputs = {NDArray::Zeros(Shape({2}), DType::kFloat64)};
  NDArray fresh = autograd::Invoke("_mul_scalar", {x}, {{"scalar", "3"}}, into_fresh).at(0);
  EXPECT_TRUE(fresh.SharesChunkWith(into_fresh.outputs[0]));
  EXPECT_TRUE(InGraph(fresh));
  PauseScope pause;
  EXPECT_NO_THROW(autograd::Invoke("_mul_scalar", {x}, {{"scalar", "2"}}, into_y)) << "outside recording it is fine";
}

TEST(AutogradGraph, PauseScopeDoesNotRecord) {
  NDArray x = Array({1, 2}, Shape({2}));
  Attach({&x});
  RecordScope record;
  NDArray recorded = Mul(x, x);
  NDArray paused;
  {
    PauseScope pause;
    paused = Mul(x, x);
  }
  EXPECT_TRUE(InGraph(recorded));
  EXPECT_FALSE(InGraph(paused));
  ExpectError([&] { Backward({paused}); }, ErrorKind::kValueError, "not in a computational graph");
  // Arrays that were never marked are not recorded either.
  NDArray constant = Array({3, 4}, Shape({2}));
  EXPECT_FALSE(InGraph(Mul(constant, constant)));
}

TEST(AutogradGraph, DetachStopsTheGradient) {
  NDArray x = Array({1.5, -2}, Shape({2}));
  Attach({&x});
  NDArray head;
  {
    RecordScope record;
    head = Sum(Mul(x, Detach(x)));  // d/dx = detach(x)
  }
  Backward({head});
  ExpectClose(ToVector(GradOf(x)), {1.5, -2}, 1e-12, "only the recorded factor contributes");
}

TEST(AutogradGraph, TrainingFlagReachesDropout) {
  const NDArray x = NDArray::Ones(Shape({2000}), DType::kFloat64);
  auto zeros_in = [](const NDArray& y) {
    int zeros = 0;
    for (double value : ToVector(y)) {
      EXPECT_TRUE(value == 0.0 || value == 2.0 || value == 1.0) << value;
      zeros += value == 0.0;
    }
    return zeros;
  };
  NDArray trained, predicted, plain;
  {
    RecordScope record;  // train_mode = true
    trained = Call("Dropout", {x}, {{"p", "0.5"}});
  }
  {
    RecordScope record(/*train_mode=*/false);
    predicted = Call("Dropout", {x}, {{"p", "0.5"}});
  }
  plain = Call("Dropout", {x}, {{"p", "0.5"}});
  const int dropped = zeros_in(trained);
  EXPECT_GT(dropped, 800);
  EXPECT_LT(dropped, 1200);
  EXPECT_EQ(zeros_in(predicted), 0);
  EXPECT_EQ(zeros_in(plain), 0);
  ExpectClose(ToVector(predicted), ToVector(x), 0, "predict mode is the identity");
}

TEST(AutogradGraph, DropoutGradientIsItsMask) {
  NDArray x = Array(Values(500, 0.5, 1.5, 14), Shape({500}));
  Attach({&x});
  NDArray y;
  {
    RecordScope record;
    y = Call("Dropout", {x}, {{"p", "0.3"}});
  }
  Backward({y});
  const std::vector<double> grad = ToVector(GradOf(x)), out = ToVector(y), in = ToVector(x);
  for (size_t i = 0; i < grad.size(); ++i) EXPECT_NEAR(grad[i], out[i] / in[i], 1e-12) << i;
}

TEST(AutogradGrad, ReturnsGradientsAndLeavesBuffersAlone) {
  NDArray x = Array({1, 2, 3}, Shape({3}));
  NDArray buffer = NDArray::Full(Shape({3}), 5.0, DType::kFloat64);
  MarkVariables({&x}, {buffer}, {GradReq::kWrite});
  NDArray head;
  {
    RecordScope record;
    head = Sum(Mul(Mul(x, x), x));
  }
  const std::vector<NDArray> grads = Grad({head}, {x});
  ASSERT_EQ(grads.size(), 1u);
  ExpectClose(ToVector(grads[0]), {3, 12, 27}, 1e-12, "3 x^2");
  ExpectClose(ToVector(GradOf(x)), {5, 5, 5}, 0, "buffer untouched");
}

TEST(AutogradGrad, IntermediateVariablesAndUnreachedVariables) {
  NDArray x = Array({1, 2}, Shape({2}));
  NDArray unused = Array({4, 5, 6}, Shape({3}));
  Attach({&x, &unused});
  NDArray hidden, head;
  {
    RecordScope record;
    hidden = Mul(x, x);
    head = Sum(Call("exp", {hidden}));
  }
  const std::vector<NDArray> grads = Grad({head}, {hidden, unused, x}, {}, /*retain_graph=*/true);
  ExpectClose(ToVector(grads[0]), {std::exp(1.0), std::exp(4.0)}, 1e-12, "d head / d hidden");
  ExpectClose(ToVector(grads[1]), {0, 0, 0}, 0, "not reached: zeros");
  ExpectClose(ToVector(grads[2]), {2 * std::exp(1.0), 4 * std::exp(4.0)}, 1e-12, "d head / d x");
  ExpectError([&] { Grad({head}, {Array({1, 2}, Shape({2}))}); }, ErrorKind::kValueError,
              "not in a computational graph");
}

TEST(AutogradGrad, IdentityDoesNotHandBackTheCallersHeadGradient) {
  NDArray x = Array({1, 2}, Shape({2}));
  Attach({&x});
  NDArray y;
  {
    RecordScope record;
    y = Call("_copy", {x});
  }
  const NDArray head_grad = Array({3, 4}, Shape({2}));
  const NDArray grad = Grad({y}, {x}, {head_grad}).at(0);
  EXPECT_FALSE(grad.SharesChunkWith(head_grad));
  ExpectClose(ToVector(grad), {3, 4}, 0, "identity");
}

TEST(AutogradErrors, ClearMessages) {
  NDArray x = Array({1, 2}, Shape({2}));
  ExpectError([&] { Backward({x}); }, ErrorKind::kValueError, "not in a computational graph");
  NDArray frozen = x;
  Attach({&frozen}, GradReq::kNull);
  NDArray head;
  {
    RecordScope record;
    head = Sum(Mul(frozen, frozen));
  }
  ExpectError([&] { Backward({head}, {}, true); }, ErrorKind::kValueError, "no inputs in the computational graph");
  ExpectError([&] { Backward({head}, {Array({1, 2, 3}, Shape({3}))}, true); }, ErrorKind::kValueError,
              "head gradient 0");

  NDArray y = Array({1, 2}, Shape({2}));
  Attach({&y});
  {
    RecordScope record;
    head = Sum(Call("_autograd_test_opaque", {Mul(y, y)}));
  }
  ExpectError([&] { Backward({head}); }, ErrorKind::kValueError, "'_autograd_test_opaque'");
  ExpectError([&] { MarkVariables({&y}, {Array({1, 2, 3}, Shape({3}))}); }, ErrorKind::kValueError,
              "gradient 0 is (3,)");
}

TEST(AutogradCustom, RecordCustomNodeChainsLikeAnOp) {
  NDArray x = Array({1, -2, 0.5}, Shape({3}));
  Attach({&x});
  NDArray head;
  bool saw_recording = true, saw_training = false;
  {
    RecordScope record;
    NDArray tripled;
    {
      PauseScope pause;  // The forward ran elsewhere (a cached graph).
      tripled = Call("_mul_scalar", {x}, {{"scalar", "3"}});
    }
    const bool recorded = RecordCustom({x}, {&tripled}, [&](const std::vector<NDArray>& output_grads) {
      saw_recording = IsRecording();
      saw_training = IsTraining();
      return std::vector<NDArray>{Call("_mul_scalar", {output_grads.at(0)}, {{"scalar", "3"}})};
    }, "times_three");
    EXPECT_TRUE(recorded);
    EXPECT_TRUE(InGraph(tripled));
    head = Sum(Mul(tripled, tripled));  // d/dx sum((3x)^2) = 18 x
  }
  Backward({head});
  ExpectClose(ToVector(GradOf(x)), {18, -36, 9}, 1e-12, "18 x");
  EXPECT_FALSE(saw_recording);
  EXPECT_TRUE(saw_training);

  NDArray plain = Array({1}, Shape({1}));
  NDArray out = Array({2}, Shape({1}));
  EXPECT_FALSE(RecordCustom({plain}, {&out}, [](const std::vector<NDArray>& g) { return g; }))
      << "inputs outside any graph record nothing";
  EXPECT_FALSE(InGraph(out));
}

TEST(AutogradCustom, WrongGradientCountIsAnError) {
  NDArray x = Array({1}, Shape({1}));
  Attach({&x});
  NDArray y = Array({2}, Shape({1}));
  {
    RecordScope record;
    RecordCustom({x}, {&y}, [](const std::vector<NDArray>&) { return std::vector<NDArray>{}; }, "broken");
  }
  ExpectError([&] { Backward({y}); }, ErrorKind::kRuntimeError, "'broken' returned 0 gradient(s) for 1 input(s)");
}

TEST(AutogradGraph, LongChainsBackwardWithoutRecursion) {
  NDArray x = Array({1.0}, Shape({1}));
  Attach({&x});
  NDArray y;
  {
    RecordScope record;
    y = x;
    for (int i = 0; i < 5000; ++i) y = Call("_mul_scalar", {y}, {{"scalar", "1"}});
  }
  Backward({y});
  EXPECT_EQ(Scalar(GradOf(x)), 1.0);
}

TEST(AutogradGraph, NodesLiveExactlyAsLongAsTheirArrays) {
  NDArray x = Array({1, 2}, Shape({2}));
  Attach({&x});
  NDArray y;
  {
    RecordScope record;
    y = Mul(x, x);
  }
  std::weak_ptr<internal::AutogradNode> node = y.autograd_entry()->node;
  NDArray copy = y;
  y = NDArray();
  EXPECT_FALSE(node.expired()) << "a copy of the array keeps its graph";
  copy = NDArray();
  EXPECT_TRUE(node.expired()) << "no cycle keeps a graph alive after its last array";

  NDArray head;
  {
    RecordScope record;
    head = Sum(Mul(x, x));
  }
  std::shared_ptr<internal::AutogradNode> sum = head.autograd_entry()->node;
  std::weak_ptr<internal::AutogradNode> product = sum->inputs.at(0).node;
  Backward({head});
  EXPECT_TRUE(sum->freed);
  EXPECT_TRUE(sum->input_values.empty() && sum->output_values.empty()) << "saved arrays are released";
  EXPECT_TRUE(product.expired()) << "a freed node drops its inputs";
}

TEST(AutogradGraph, DroppingAMillionNodeChainDoesNotRecurse) {
  // Built directly (no kernels run): recursive destruction would need far more than a thread's stack.
  auto tail = std::make_shared<internal::AutogradNode>();
  for (int i = 0; i < 1000000; ++i) {
    auto node = std::make_shared<internal::AutogradNode>();
    node->inputs.push_back(internal::AutogradEntry{std::move(tail), 0});
    tail = std::move(node);
  }
  tail.reset();
  SUCCEED();
}

}  // namespace
}  // namespace autograd
}  // namespace pmx
