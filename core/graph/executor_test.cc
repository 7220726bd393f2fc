// Executor (bind / simple_bind): forward and backward of an MLP against imperative calls, imperative autograd
// and finite differences; grad_req add / null; loss layers without head gradients; BatchNorm statistics;
// copy_params_from; reshape; memory planning against an unplanned run.
#include <map>
#include <string>
#include <vector>

#include "core/autograd/autograd.h"
#include "core/graph/executor.h"
#include "core/graph/internal/exec_test_util.h"
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

// data (4, 5) -> FullyConnected(8) -> tanh -> FullyConnected(3): arguments data, fc1_weight, fc1_bias,
// fc2_weight, fc2_bias.
Symbol Mlp() {
  const Symbol fc1 = Call("FullyConnected", {Var("data")}, {{"num_hidden", "8"}}, "fc1");
  const Symbol act = Call("Activation", {fc1}, {{"act_type", "tanh"}}, "act1");
  return Call("FullyConnected", {act}, {{"num_hidden", "3"}}, "fc2");
}

std::map<std::string, NDArray> MlpValues(DType dtype = DType::kFloat32) {
  return {{"data", RandomArray(Shape({4, 5}), 11, -1, 1, dtype)},
          {"fc1_weight", RandomArray(Shape({8, 5}), 12, -0.5, 0.5, dtype)},
          {"fc1_bias", RandomArray(Shape({8}), 13, -0.5, 0.5, dtype)},
          {"fc2_weight", RandomArray(Shape({3, 8}), 14, -0.5, 0.5, dtype)},
          {"fc2_bias", RandomArray(Shape({3}), 15, -0.5, 0.5, dtype)}};
}

// Binds `symbol` to copies of `values` with a gradient array for every argument.
std::unique_ptr<Executor> BindAll(const Symbol& symbol, const std::map<std::string, NDArray>& values,
                                  const ExecutorOptions& options = {}, GradReq req = GradReq::kWrite,
                                  std::vector<NDArray> aux = {}) {
  std::vector<NDArray> args, grads;
  for (const std::string& name : symbol.ListArguments()) {
    const NDArray& value = values.at(name);
    args.push_back(value.CopyTo(value.device()));
    grads.push_back(NDArray::Zeros(value.shape(), value.dtype()));
  }
  return Executor::Bind(symbol, DefaultDevice(), args, grads, std::vector<GradReq>(args.size(), req), aux,
                        options);
}

TEST(ExecutorTest, MlpForwardBackwardMatchesImperativeAutogradAndFiniteDifferences) {
  const Symbol net = Mlp();
  EXPECT_EQ(net.ListArguments(), (std::vector<std::string>{"data", "fc1_weight", "fc1_bias", "fc2_weight",
                                                           "fc2_bias"}));
  const auto values = MlpValues();
  auto executor = BindAll(net, values);
  executor->Forward(/*is_train=*/true);
  const NDArray expected = EvaluateImperatively(net, values, PlainInvoke(true))[0];
  ExpectClose(executor->outputs()[0], expected, 1e-6, 1e-7, "forward");
  EXPECT_EQ(executor->output_names(), std::vector<std::string>{"fc2_output"});

  const NDArray head = RandomArray(Shape({4, 3}), 16);
  executor->Backward({head});

  // Imperative autograd on the same values.
  std::map<std::string, NDArray> leaves;
  std::vector<NDArray*> pointers;
  for (const auto& [name, value] : values) leaves[name] = value.CopyTo(value.device());
  for (auto& [name, value] : leaves) pointers.push_back(&value);
  autograd::MarkVariables(pointers, std::vector<NDArray>(pointers.size()));
  std::vector<NDArray> recorded;
  {
    autograd::RecordScope scope;
    recorded = EvaluateImperatively(net, leaves, [](const OpDef& op, const std::vector<NDArray>& inputs,
                                                    const OpParams& params) {
      return autograd::Invoke(op, inputs, params);
    });
  }
  autograd::Backward(recorded, {head});
  for (const auto& [name, grad] : executor->grad_dict()) {
    ExpectClose(grad, autograd::GradOf(leaves[name]), 1e-6, 1e-6, "gradient of " + name + " vs autograd");
  }

  // In float64, against central finite differences.
  const auto values64 = MlpValues(DType::kFloat64);
  auto executor64 = BindAll(net, values64);
  executor64->Forward(true);
  const NDArray head64 = head.AsType(DType::kFloat64);
  executor64->Backward({head64});
  for (const auto& [name, grad] : executor64->grad_dict()) {
    const std::vector<double> numeric = NumericGradient(net, values64, head64, name);
    ExpectClose(grad, FromVector(numeric, grad.shape(), DType::kFloat64), 1e-6, 1e-8,
                "gradient of " + name + " vs finite differences");
  }
}

// MXNet lets backward run again after one forward: the forward values it reads must not have been reused by
// the first backward's buffers (tanh's gradient reads its output, FullyConnected's its inputs).
TEST(ExecutorTest, BackwardTwiceAfterOneForwardGivesTheSameGradients) {
  const Symbol net = Mlp();
  const auto values = MlpValues(DType::kFloat64);
  const NDArray head = RandomArray(Shape({4, 3}), 17, -1, 1, DType::kFloat64);
  // Every gradient, written: the second backward writes what the first did.
  auto executor = BindAll(net, values);
  executor->Forward(true);
  executor->Backward({head});
  std::map<std::string, NDArray> first;
  for (const auto& [name, grad] : executor->grad_dict()) first[name] = grad.CopyTo(grad.device());
  executor->Backward({head});
  for (const auto& [name, grad] : executor->grad_dict()) {
    ExpectClose(grad, first[name], 0, 0, "second backward's gradient of " + name);
  }
  // Only fc1_weight, accumulated: twice the one gradient. (With few gradients the backward pass frees forward
  // values early, which is where a plan that reused them went wrong.)
  std::vector<NDArray> args, grads;
  std::vector<GradReq> reqs;
  for (const std::string& name : net.ListArguments()) {
    args.push_back(values.at(name).CopyTo(Device::cpu()));
    grads.push_back(name == "fc1_weight" ? NDArray::Zeros(values.at(name).shape(), DType::kFloat64) : NDArray());
    reqs.push_back(name == "fc1_weight" ? GradReq::kAdd : GradReq::kNull);
  }
  auto accumulating = Executor::Bind(net, DefaultDevice(), args, grads, reqs, {});
  accumulating->Forward(true);
  accumulating->Backward({head});
  accumulating->Backward({head});
  const NDArray twice = Invoke1("_mul_scalar", {first.at("fc1_weight")}, {{"scalar", "2"}});
  ExpectClose(accumulating->grad_dict().at("fc1_weight"), twice, 1e-12, 1e-12, "fc1_weight after two backwards");
}

TEST(ExecutorTest, SimpleBindAllocatesAndGradReqAddAccumulates) {
  const Symbol net = Mlp();
  auto executor = Executor::SimpleBind(net, DefaultDevice(), {{"data", Shape({4, 5})}}, {},
                                       {{"data", GradReq::kNull}, {"fc2_bias", GradReq::kAdd}});
  ASSERT_EQ(executor->arg_arrays().size(), 5u);
  EXPECT_EQ(executor->arg_dict().at("fc1_weight").shape(), Shape({8, 5}));
  EXPECT_EQ(executor->outputs()[0].shape(), Shape({4, 3}));
  EXPECT_TRUE(executor->grad_arrays()[0].is_none());  // data: grad_req null.
  EXPECT_EQ(executor->grad_dict().count("data"), 0u);
  executor->CopyParamsFrom(MlpValues());
  const NDArray head = NDArray::Ones(Shape({4, 3}));
  executor->Forward(true);
  executor->Backward({head});
  const std::vector<double> once = ToVector(executor->grad_dict().at("fc2_bias"));
  const std::vector<double> weight_once = ToVector(executor->grad_dict().at("fc2_weight"));
  EXPECT_EQ(once, std::vector<double>(3, 4.0));  // d sum / d bias = batch size.
  executor->Forward(true);
  executor->Backward({head});
  EXPECT_EQ(ToVector(executor->grad_dict().at("fc2_bias")), std::vector<double>(3, 8.0));  // 'add' accumulates.
  EXPECT_EQ(ToVector(executor->grad_dict().at("fc2_weight")), weight_once);                 // 'write' overwrites.

  // Parameters named wrongly are errors unless allowed.
  EXPECT_THROW(executor->CopyParamsFrom({{"nope", NDArray::Ones(Shape({1}))}}), Error);
  executor->CopyParamsFrom({{"nope", NDArray::Ones(Shape({1}))}}, {}, /*allow_extra_params=*/true);
  // Forward with inputs copies them into the arguments.
  const NDArray data = RandomArray(Shape({4, 5}), 17);
  executor->Forward(false, {{"data", data}});
  ExpectClose(executor->arg_dict().at("data"), data, 0, 0, "data copied in");
}

TEST(ExecutorTest, LossLayersNeedNoHeadGradientOthersDo) {
  const Symbol label = Var("label");
  const Symbol loss = Call("SoftmaxOutput", {Mlp(), label}, {}, "softmax");
  std::map<std::string, NDArray> values = MlpValues();
  values["label"] = FromVector({0, 2, 1, 2}, Shape({4}));
  std::vector<NDArray> args, grads;
  for (const std::string& name : loss.ListArguments()) {
    args.push_back(values.at(name));
    grads.push_back(name == "label" ? NDArray() : NDArray::Zeros(values.at(name).shape()));
  }
  auto executor = Executor::Bind(loss, DefaultDevice(), args, grads, {}, {});
  executor->Forward(true);
  executor->Backward();  // SoftmaxOutput's gradient ignores the head gradient.
  // d loss / d fc2_bias = sum over the batch of softmax - one_hot(label).
  const std::vector<double> probabilities = ToVector(executor->outputs()[0]);
  const std::vector<double> labels = {0, 2, 1, 2};
  std::vector<double> expected(3, 0.0);
  for (int row = 0; row < 4; ++row) {
    for (int k = 0; k < 3; ++k) expected[k] += probabilities[row * 3 + k] - (labels[row] == k ? 1 : 0);
  }
  ExpectClose(executor->grad_dict().at("fc2_bias"), FromVector(expected, Shape({3})), 1e-5, 1e-6, "softmax grad");

  auto plain = BindAll(Mlp(), MlpValues());
  plain->Forward(true);
  try {
    plain->Backward();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("make_loss"), std::string::npos) << error.message();
  }
  // Bound without gradients: no backward.
  auto inference = Executor::Bind(Mlp(), DefaultDevice(), plain->arg_arrays(), {}, {}, {});
  inference->Forward();
  EXPECT_THROW(inference->Backward({NDArray::Ones(Shape({4, 3}))}), Error);
}

TEST(ExecutorTest, BatchNormTrainingUpdatesAuxiliaryStatesLikeImperative) {
  const Symbol net = Call("BatchNorm", {Var("data")}, {{"fix_gamma", "False"}, {"momentum", "0.8"}}, "bn");
  EXPECT_EQ(net.ListAuxiliaryStates(), (std::vector<std::string>{"bn_moving_mean", "bn_moving_var"}));
  std::map<std::string, NDArray> values = {{"data", RandomArray(Shape({6, 3, 2, 2}), 21, 0, 4)},
                                           {"bn_gamma", RandomArray(Shape({3}), 22, 0.5, 1.5)},
                                           {"bn_beta", RandomArray(Shape({3}), 23)},
                                           {"bn_moving_mean", RandomArray(Shape({3}), 24)},
                                           {"bn_moving_var", RandomArray(Shape({3}), 25, 0.5, 2)}};
  std::vector<NDArray> aux = {values["bn_moving_mean"].CopyTo(DefaultDevice()),
                              values["bn_moving_var"].CopyTo(DefaultDevice())};
  auto executor = BindAll(net, values, {}, GradReq::kWrite, aux);
  executor->Forward(true);
  // The imperative call updates its own copies of the statistics in place.
  std::map<std::string, NDArray> imperative = values;
  imperative["bn_moving_mean"] = values["bn_moving_mean"].CopyTo(DefaultDevice());
  imperative["bn_moving_var"] = values["bn_moving_var"].CopyTo(DefaultDevice());
  const NDArray expected = EvaluateImperatively(net, imperative, PlainInvoke(true))[0];
  ExpectClose(executor->outputs()[0], expected, 1e-6, 1e-6, "BatchNorm output");
  ExpectClose(executor->aux_dict().at("bn_moving_mean"), imperative["bn_moving_mean"], 1e-6, 1e-7, "moving_mean");
  ExpectClose(executor->aux_dict().at("bn_moving_var"), imperative["bn_moving_var"], 1e-6, 1e-7, "moving_var");
  EXPECT_NE(ToVector(executor->aux_arrays()[0]), ToVector(values["bn_moving_mean"]));  // It did change.
  // Predict mode leaves them alone.
  const std::vector<double> before = ToVector(executor->aux_arrays()[0]);
  executor->Forward(false);
  EXPECT_EQ(ToVector(executor->aux_arrays()[0]), before);
}

TEST(ExecutorTest, ReshapeSharesParametersAndChecksSizes) {
  const Symbol net = Mlp();
  auto executor = Executor::SimpleBind(net, DefaultDevice(), {{"data", Shape({8, 5})}});
  std::map<std::string, NDArray> params = MlpValues();
  params.erase("data");
  executor->CopyParamsFrom(params);
  auto smaller = executor->Reshape({{"data", Shape({2, 5})}});
  EXPECT_EQ(smaller->outputs()[0].shape(), Shape({2, 3}));
  EXPECT_TRUE(smaller->arg_dict().at("fc1_weight").SharesChunkWith(executor->arg_dict().at("fc1_weight")));
  EXPECT_TRUE(smaller->arg_dict().at("data").SharesChunkWith(executor->arg_dict().at("data")));
  EXPECT_THROW(executor->Reshape({{"data", Shape({16, 5})}}), Error);  // Larger without allow_up_sizing.
  auto larger = executor->Reshape({{"data", Shape({16, 5})}}, false, /*allow_up_sizing=*/true);
  const NDArray data = RandomArray(Shape({16, 5}), 31);
  larger->Forward(false, {{"data", data}});
  std::map<std::string, NDArray> values = MlpValues();
  values["data"] = data;
  ExpectClose(larger->outputs()[0], EvaluateImperatively(net, values, PlainInvoke(false))[0], 1e-6, 1e-7,
              "reshaped forward");
  // A weight whose shape would change without being named needs partial_shaping.
  const Symbol changes = Call("FullyConnected", {Var("data")}, {{"num_hidden", "4"}, {"flatten", "False"}}, "fc");
  auto flat = Executor::SimpleBind(changes, DefaultDevice(), {{"data", Shape({2, 5})}});
  EXPECT_THROW(flat->Reshape({{"data", Shape({2, 6})}}, false, true), Error);
  EXPECT_EQ(flat->Reshape({{"data", Shape({2, 6})}}, true, true)->arg_dict().at("fc_weight").shape(), Shape({4, 6}));
}

// A small CNN with BatchNorm and pooling, and a skip connection.
Symbol SmallCnn() {
  const Symbol data = Var("data");
  const Symbol conv1 = Call("Convolution", {data}, {{"kernel", "(3, 3)"}, {"num_filter", "4"}, {"pad", "(1, 1)"}},
                            "conv1");
  const Symbol bn1 = Call("BatchNorm", {conv1}, {}, "bn1");
  const Symbol relu1 = Call("Activation", {bn1}, {{"act_type", "relu"}}, "relu1");
  const Symbol conv2 = Call("Convolution", {relu1}, {{"kernel", "(3, 3)"}, {"num_filter", "4"}, {"pad", "(1, 1)"}},
                            "conv2");
  const Symbol sum = Call("elemwise_add", {conv2, relu1}, {}, "skip");
  const Symbol pool = Call("Pooling", {sum}, {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "max"}},
                           "pool");
  return Call("FullyConnected", {Call("Activation", {pool}, {{"act_type", "sigmoid"}})}, {{"num_hidden", "5"}}, "fc");
}

TEST(ExecutorTest, MemoryPlanningAndFusionNeverChangeValues) {
  for (const Symbol& net : {Mlp(), SmallCnn()}) {
    const bool cnn = net.ListArguments().size() > 5;
    auto reference = Executor::SimpleBind(net, DefaultDevice(), {{"data", cnn ? Shape({3, 2, 6, 6}) : Shape({4, 5})}});
    std::map<std::string, NDArray> params;
    uint32_t seed = 40;
    for (const auto& [name, array] : reference->arg_dict()) params[name] = RandomArray(array.shape(), ++seed);
    std::map<std::string, NDArray> aux;
    for (const auto& [name, array] : reference->aux_dict()) {
      aux[name] = RandomArray(array.shape(), ++seed, name.find("var") != std::string::npos ? 0.5 : -0.5, 1);
    }
    const NDArray head = RandomArray(reference->outputs()[0].shape(), 99);
    auto run = [&](const ExecutorOptions& options) {
      auto executor = Executor::SimpleBind(net, DefaultDevice(), {{"data", params["data"].shape()}}, {}, {},
                                           GradReq::kWrite, options);
      executor->CopyParamsFrom(params, aux);
      executor->Forward(true);
      executor->Backward({head});
      std::vector<NDArray> results = executor->outputs();
      for (const NDArray& grad : executor->grad_arrays()) results.push_back(grad);
      for (const NDArray& state : executor->aux_arrays()) results.push_back(state);
      EXPECT_LE(executor->planned_bytes(), executor->unplanned_bytes());
      return results;
    };
    ExecutorOptions unplanned;
    unplanned.inplace = unplanned.share_memory = unplanned.fuse = unplanned.cse = false;
    unplanned.bulk_size = 1;  // One engine operation per node.
    const std::vector<NDArray> expected = run(unplanned);
    ExecutorOptions planned;  // Everything on, one engine operation per pass.
    ExecutorOptions bulk;
    bulk.bulk_size = 3;
    for (const ExecutorOptions& options : {planned, bulk}) {
      const std::vector<NDArray> actual = run(options);
      ASSERT_EQ(actual.size(), expected.size());
      for (size_t i = 0; i < actual.size(); ++i) {
        ExpectClose(actual[i], expected[i], 1e-6, 1e-7, "result " + std::to_string(i) + (cnn ? " (cnn)" : " (mlp)"));
      }
    }
  }
}

TEST(ExecutorTest, PlannedMemoryIsSmallerThanUnplanned) {
  auto executor = Executor::SimpleBind(SmallCnn(), DefaultDevice(), {{"data", Shape({8, 2, 16, 16})}});
  EXPECT_GT(executor->unplanned_bytes(), 0u);
  EXPECT_LT(executor->planned_bytes(), executor->unplanned_bytes() * 3 / 4)
      << executor->planned_bytes() << " of " << executor->unplanned_bytes();
}

TEST(ExecutorTest, AccumulatedGradientThatIsTheHeadGradientItself) {
  // d(x + 1)/dx passes the head gradient through unchanged: the gradient entry is the head-gradient variable,
  // which grad_req 'add' must accumulate through a copy.
  const Symbol net = Call("_plus_scalar", {Var("x")}, {{"scalar", "1"}});
  const NDArray grad = NDArray::Full(Shape({3}), 10.0);
  auto executor = Executor::Bind(net, DefaultDevice(), {testing::FromVector({1, 2, 3}, Shape({3}))}, {grad},
                                 {GradReq::kAdd}, {});
  executor->Forward(true);
  executor->Backward({testing::FromVector({1, 2, 3}, Shape({3}))});
  executor->Backward({testing::FromVector({1, 2, 3}, Shape({3}))});
  EXPECT_EQ(ToVector(grad), (std::vector<double>{12, 14, 16}));
  EXPECT_EQ(ToVector(executor->outputs()[0]), (std::vector<double>{2, 3, 4}));
}

TEST(ExecutorTest, BindErrorsNameTheArgument) {
  const Symbol net = Mlp();
  auto values = MlpValues();
  std::vector<NDArray> args;
  for (const std::string& name : net.ListArguments()) args.push_back(values.at(name));
  EXPECT_THROW(Executor::Bind(net, DefaultDevice(), {args[0]}, {}, {}, {}), Error);
  args[1] = NDArray::Zeros(Shape({7, 5}));  // fc1_weight should be (8, 5).
  try {
    Executor::Bind(net, DefaultDevice(), args, {}, {}, {});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kValueError);
    EXPECT_NE(error.message().find("fc1"), std::string::npos) << error.message();
  }
  EXPECT_THROW(ParseGradReq("sometimes"), Error);
  EXPECT_EQ(ParseGradReq("inplace"), GradReq::kWrite);
}

}  // namespace
}  // namespace graph
}  // namespace pmx
