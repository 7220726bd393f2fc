// Symbol: composition and MXNet's naming, listings as MXNet 1.9.1 prints them, attributes, shape and type
// inference. The expected lists are what MXNet 1.9.1 returns for the same Python code (quoted per test).
#include "core/graph/symbol.h"

#include <gtest/gtest.h>

#include "core/base/error.h"

namespace pmx {
namespace graph {
namespace {

using Names = std::vector<std::string>;

// Runs `body` and returns the Error it throws (failing the test when it throws none).
template <typename Body>
Error ErrorOf(Body&& body) {
  try {
    body();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "expected an error";
  return Error(ErrorKind::kRuntimeError, "");
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// data = mx.sym.var('data')
// fc1 = mx.sym.FullyConnected(data, num_hidden=128, name='fc1')
// act1 = mx.sym.Activation(fc1, act_type='relu', name='relu1')
// fc2 = mx.sym.FullyConnected(act1, num_hidden=10, name='fc2')
// mlp = mx.sym.SoftmaxOutput(fc2, name='softmax')
Symbol Mlp() {
  Symbol data = Symbol::Variable("data");
  Symbol fc1 = Symbol::Create("FullyConnected", {data}, {}, {{"num_hidden", "128"}}, "fc1");
  Symbol act1 = Symbol::Create("Activation", {fc1}, {}, {{"act_type", "relu"}}, "relu1");
  Symbol fc2 = Symbol::Create("FullyConnected", {act1}, {}, {{"num_hidden", "10"}}, "fc2");
  return Symbol::Create("SoftmaxOutput", {fc2}, {}, {}, "softmax");
}

// conv0 = mx.sym.Convolution(data, kernel=(3, 3), pad=(1, 1), num_filter=8, name='conv0')
// bn0 = mx.sym.BatchNorm(conv0, fix_gamma=False, name='bn0')
// act0 = mx.sym.Activation(bn0, act_type='relu', name='relu0')
// pool0 = mx.sym.Pooling(act0, kernel=(2, 2), stride=(2, 2), pool_type='max', name='pool0')
// flat = mx.sym.Flatten(pool0, name='flat0'); fc = mx.sym.FullyConnected(flat, num_hidden=10, name='fc')
// net = mx.sym.SoftmaxOutput(fc, name='softmax')
Symbol SmallCnn() {
  Symbol data = Symbol::Variable("data");
  Symbol conv = Symbol::Create("Convolution", {data}, {},
                               {{"kernel", "(3, 3)"}, {"pad", "(1, 1)"}, {"num_filter", "8"}}, "conv0");
  Symbol bn = Symbol::Create("BatchNorm", {conv}, {}, {{"fix_gamma", "False"}}, "bn0");
  Symbol act = Symbol::Create("Activation", {bn}, {}, {{"act_type", "relu"}}, "relu0");
  Symbol pool = Symbol::Create("Pooling", {act}, {},
                               {{"kernel", "(2, 2)"}, {"stride", "(2, 2)"}, {"pool_type", "max"}}, "pool0");
  Symbol flat = Symbol::Create("Flatten", {pool}, {}, {}, "flat0");
  Symbol fc = Symbol::Create("FullyConnected", {flat}, {}, {{"num_hidden", "10"}}, "fc");
  return Symbol::Create("SoftmaxOutput", {fc}, {}, {}, "softmax");
}

TEST(SymbolTest, MlpListsAsMxnet) {
  const Symbol mlp = Mlp();
  EXPECT_EQ(mlp.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias", "softmax_label"}));
  EXPECT_EQ(mlp.ListOutputs(), (Names{"softmax_output"}));
  EXPECT_EQ(mlp.ListAuxiliaryStates(), Names{});
  EXPECT_EQ(mlp.ListInputs(), mlp.ListArguments());
  EXPECT_EQ(mlp.name(), "softmax");
}

TEST(SymbolTest, AutoCreatedVariablesCopyTheCallsDictionary) {
  // MXNet's Compose gives variables it creates a copy of the node's parameters and attributes, which is why
  // MXNet's JSON files show "attrs": {"num_hidden": "128"} on fc1_weight.
  const Symbol internals = Mlp().GetInternals();
  EXPECT_EQ(internals["fc1_weight"].GetAttr("num_hidden"), "128");
  EXPECT_EQ(internals["fc2_bias"].GetAttr("num_hidden"), "10");
  EXPECT_EQ(internals["data"].GetAttr("num_hidden"), std::nullopt);
  EXPECT_EQ(internals["softmax_label"].AttrDict(), (std::map<std::string, std::map<std::string, std::string>>{}));
}

TEST(SymbolTest, NoBiasDropsTheBiasInput) {
  Symbol fc = Symbol::Create("FullyConnected", {Symbol::Variable("data")}, {},
                             {{"num_hidden", "10"}, {"no_bias", "True"}}, "fc1");
  EXPECT_EQ(fc.ListArguments(), (Names{"data", "fc1_weight"}));
}

TEST(SymbolTest, CnnWithBatchNormListsAsMxnet) {
  const Symbol net = SmallCnn();
  EXPECT_EQ(net.ListArguments(), (Names{"data", "conv0_weight", "conv0_bias", "bn0_gamma", "bn0_beta", "fc_weight",
                                        "fc_bias", "softmax_label"}));
  EXPECT_EQ(net.ListAuxiliaryStates(), (Names{"bn0_moving_mean", "bn0_moving_var"}));
  EXPECT_EQ(net.ListOutputs(), (Names{"softmax_output"}));
  EXPECT_EQ(net.ListInputs(), (Names{"data", "conv0_weight", "conv0_bias", "bn0_gamma", "bn0_beta", "bn0_moving_mean",
                                     "bn0_moving_var", "fc_weight", "fc_bias", "softmax_label"}));
  // BatchNorm sets MXNet's initializers on its running statistics when composed.
  const Symbol internals = net.GetInternals();
  EXPECT_EQ(internals["bn0_moving_mean"].GetAttr("__init__"), R"(["zero", {}])");
  EXPECT_EQ(internals["bn0_moving_var"].GetAttr("__init__"), R"(["one", {}])");
  EXPECT_EQ(internals["bn0_gamma"].GetAttr("__init__"), std::nullopt);
}

TEST(SymbolTest, InternalsListEveryVisibleOutput) {
  // mlp.get_internals().list_outputs() in MXNet 1.9.1.
  const Symbol internals = Mlp().GetInternals();
  EXPECT_EQ(internals.ListOutputs(),
            (Names{"data", "fc1_weight", "fc1_bias", "fc1_output", "relu1_output", "fc2_weight", "fc2_bias",
                   "fc2_output", "softmax_label", "softmax_output"}));
  const Symbol fc1 = internals["fc1_output"];
  EXPECT_EQ(fc1.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias"}));
  EXPECT_EQ(fc1.GetChildren().ListOutputs(), (Names{"data", "fc1_weight", "fc1_bias"}));
  EXPECT_EQ(Symbol::Variable("x").GetChildren().num_outputs(), 0);
  // BatchNorm's hidden outputs (mean, var) are not internals unless output_mean_var.
  const Names cnn = SmallCnn().GetInternals().ListOutputs();
  EXPECT_EQ(std::count(cnn.begin(), cnn.end(), "bn0_output"), 1);
  EXPECT_EQ(std::count(cnn.begin(), cnn.end(), "bn0_mean"), 0);
}

TEST(SymbolTest, MultiOutputNamesAndIndexing) {
  NameManager::Reset();
  // mx.sym.split(data, num_outputs=3) -> split0_output0..2.
  Symbol parts = Symbol::Create("split", {Symbol::Variable("data")}, {}, {{"num_outputs", "3"}});
  EXPECT_EQ(parts.ListOutputs(), (Names{"split0_output0", "split0_output1", "split0_output2"}));
  EXPECT_EQ(parts[1].ListOutputs(), (Names{"split0_output1"}));
  EXPECT_EQ(parts["split0_output2"].ListOutputs(), (Names{"split0_output2"}));
  EXPECT_EQ(ErrorOf([&] { parts[3]; }).kind(), ErrorKind::kIndexError);
  EXPECT_EQ(ErrorOf([&] { parts["nope"]; }).kind(), ErrorKind::kValueError);
  // BatchNorm(output_mean_var=True) shows its mean and var.
  Symbol bn = Symbol::Create("BatchNorm", {Symbol::Variable("x")}, {}, {{"output_mean_var", "True"}}, "bn");
  EXPECT_EQ(bn.ListOutputs(), (Names{"bn_output", "bn_mean", "bn_var"}));
  // Multi-output ops without names of their own in MXNet list "output<k>" (as MXNet 1.9.1 prints them).
  EXPECT_EQ(Symbol::Create("topk", {Symbol::Variable("x")}, {}, {{"ret_typ", "both"}}, "t").ListOutputs(),
            (Names{"t_output0", "t_output1"}));
  EXPECT_EQ(Symbol::Create("moments", {Symbol::Variable("x")}, {}, {{"axes", "(0,)"}}, "m").ListOutputs(),
            (Names{"m_output0", "m_output1"}));
  EXPECT_EQ(Symbol::Create("sort", {Symbol::Variable("x")}, {}, {}, "s").ListOutputs(), (Names{"s_output0"}));
  // A group of a variable and an op output.
  Symbol group = Symbol::Group({Symbol::Variable("v"), parts[0]});
  EXPECT_EQ(group.ListOutputs(), (Names{"v", "split0_output0"}));
  EXPECT_EQ(group.GetAttr("name"), std::nullopt);
  EXPECT_EQ(ErrorOf([&] { group.name(); }).kind(), ErrorKind::kValueError);
}

TEST(SymbolTest, NameManagerNamesUnnamedCalls) {
  NameManager::Reset();
  Symbol x = Symbol::Variable("x");
  Symbol first = Symbol::Create("FullyConnected", {x}, {}, {{"num_hidden", "2"}});
  Symbol second = Symbol::Create("FullyConnected", {first}, {}, {{"num_hidden", "2"}});
  EXPECT_EQ(first.name(), "fullyconnected0");
  EXPECT_EQ(second.ListArguments(), (Names{"x", "fullyconnected0_weight", "fullyconnected0_bias",
                                           "fullyconnected1_weight", "fullyconnected1_bias"}));
  EXPECT_EQ(NameManager::NewName("activation"), "activation0");
  NameManager::Reset();
  EXPECT_EQ(NameManager::NewName("fullyconnected"), "fullyconnected0");
}

TEST(SymbolTest, VariadicOpsTakePositionalInputsAndCountThem) {
  NameManager::Reset();
  Symbol a = Symbol::Variable("a"), b = Symbol::Variable("b"), c = Symbol::Variable("c");
  Symbol joined = Symbol::Create("Concat", {a, b, c}, {}, {{"dim", "0"}});
  EXPECT_EQ(joined.name(), "concat0");
  EXPECT_EQ(joined.GetAttr("num_args"), "3");  // Filled from the inputs, as MXNet's front end does.
  EXPECT_EQ(joined.ListArguments(), (Names{"a", "b", "c"}));
  EXPECT_EQ(joined.ListOutputs(), (Names{"concat0_output"}));
  Symbol sum = Symbol::Create("add_n", {a, b}, {}, {}, "total");
  EXPECT_EQ(sum.ListArguments(), (Names{"a", "b"}));
  // Fewer positional inputs than num_args: the rest are auto-created with MXNet's names (arg1, ...).
  Symbol partial = Symbol::Create("Concat", {a}, {}, {{"num_args", "2"}}, "cat");
  EXPECT_EQ(partial.ListArguments(), (Names{"a", "cat_arg1"}));
  // Inferred shapes flow through a variadic op.
  auto shapes = joined.InferShape({{"a", Shape{1, 4}}, {"b", Shape{2, 4}}, {"c", Shape{3, 4}}});
  EXPECT_EQ(*shapes.outputs[0], Shape({6, 4}));
}

TEST(SymbolTest, NamedInputsReplaceAutoCreatedVariables) {
  Symbol shared = Symbol::Variable("shared_weight");
  Symbol fc = Symbol::Create("FullyConnected", {Symbol::Variable("data")}, {{"weight", shared}},
                             {{"num_hidden", "4"}}, "fc");
  EXPECT_EQ(fc.ListArguments(), (Names{"data", "shared_weight", "fc_bias"}));
  Symbol by_name = Symbol::Create("FullyConnected", {}, {{"data", Symbol::Variable("x")}, {"bias", shared}},
                                  {{"num_hidden", "4"}}, "fc2");
  EXPECT_EQ(by_name.ListArguments(), (Names{"x", "fc2_weight", "shared_weight"}));
}

TEST(SymbolTest, CompositionErrors) {
  Symbol x = Symbol::Variable("x");
  Error unknown_input = ErrorOf([&] {
    Symbol::Create("FullyConnected", {x}, {{"wieght", x}}, {{"num_hidden", "4"}}, "fc");
  });
  EXPECT_EQ(unknown_input.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(unknown_input.message(), "'wieght'")) << unknown_input.message();
  EXPECT_TRUE(Contains(unknown_input.message(), "weight, bias")) << unknown_input.message();
  Error too_many = ErrorOf([&] { Symbol::Create("relu", {x, x}, {}, {}, "r"); });
  EXPECT_EQ(too_many.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(too_many.message(), "takes 1 inputs, given 2")) << too_many.message();
  Symbol parts = Symbol::Create("split", {x}, {}, {{"num_outputs", "2"}}, "s");
  Error grouped = ErrorOf([&] { Symbol::Create("relu", {parts}, {}, {}, "r"); });
  EXPECT_TRUE(Contains(grouped.message(), "has 2 outputs")) << grouped.message();
  EXPECT_EQ(ErrorOf([&] { Symbol::Create("NoSuchOp", {x}, {}, {}); }).kind(), ErrorKind::kValueError);
  Error bad_param = ErrorOf([&] { Symbol::Create("FullyConnected", {x}, {}, {{"num_hiden", "4"}}, "fc"); });
  EXPECT_TRUE(Contains(bad_param.message(), "num_hiden")) << bad_param.message();
  // MXNet's deprecated way of setting a variable's attribute through the op.
  Error deprecated = ErrorOf([&] {
    Symbol::Create("FullyConnected", {x}, {}, {{"num_hidden", "4"}, {"weight_lr_mult", "2"}}, "fc");
  });
  EXPECT_TRUE(Contains(deprecated.message(), "deprecated")) << deprecated.message();
}

TEST(SymbolTest, AttributesAsMxnet) {
  // mx.sym.var('w', lr_mult=2.0, init=...) stores __lr_mult__; attr('lr_mult') finds it too.
  Symbol w = Symbol::Variable("w", {{"lr_mult", "2.0"}, {"__init__", R"(["normal", {"sigma": 0.01}])"}});
  EXPECT_EQ(w.GetAttr("__lr_mult__"), "2.0");
  EXPECT_EQ(w.GetAttr("lr_mult"), "2.0");
  EXPECT_EQ(w.GetAttr("name"), "w");
  EXPECT_EQ(w.GetAttr("missing"), std::nullopt);
  // attr={'__wd_mult__': ...} on an op reaches the variables the call creates.
  Symbol fc = Symbol::Create("FullyConnected", {Symbol::Variable("data")}, {}, {{"num_hidden", "3"}}, "fc",
                             {{"__wd_mult__", "0"}, {"ctx_group", "dev1"}});
  EXPECT_EQ(fc.GetAttr("__wd_mult__"), "0");
  EXPECT_EQ(fc.GetAttr("__ctx_group__"), "dev1");
  EXPECT_EQ(fc.GetAttr("num_hidden"), "3");
  auto dict = fc.AttrDict();
  EXPECT_EQ(dict["fc_weight"]["__wd_mult__"], "0");
  EXPECT_EQ(dict["fc_weight"]["wd_mult"], "0");  // MXNet lists hidden keys under both spellings.
  EXPECT_EQ(dict["fc"]["num_hidden"], "3");
  EXPECT_EQ(dict.count("data"), 0u);
  // Setting a parameter re-parses it; a bad value or a change of the input count is refused.
  fc.SetAttr("num_hidden", "5");
  EXPECT_EQ(*fc.InferShape({{"data", Shape{2, 7}}}).arguments[1], Shape({5, 7}));
  EXPECT_EQ(ErrorOf([&] { fc.SetAttr("num_hidden", "five"); }).kind(), ErrorKind::kValueError);
  EXPECT_EQ(fc.GetAttr("num_hidden"), "5");
  EXPECT_EQ(ErrorOf([&] { fc.SetAttr("no_bias", "True"); }).kind(), ErrorKind::kValueError);
  EXPECT_EQ(ErrorOf([&] { fc.SetAttr("not_a_param", "1"); }).kind(), ErrorKind::kValueError);
  fc.SetAttr("__mirror_stage__", "True");
  EXPECT_EQ(fc.GetAttr("mirror_stage"), "True");
  fc.SetAttr("name", "renamed");
  EXPECT_EQ(fc.ListOutputs(), (Names{"renamed_output"}));
  Symbol group = Symbol::Group({w, fc});
  EXPECT_EQ(ErrorOf([&] { group.SetAttr("__lr_mult__", "1"); }).kind(), ErrorKind::kValueError);
}

TEST(SymbolTest, CopyIsDeep) {
  const Symbol mlp = Mlp();
  Symbol copy = mlp.Copy();
  EXPECT_EQ(copy.ListArguments(), mlp.ListArguments());
  EXPECT_EQ(copy.ToJson(), mlp.ToJson());
  copy.GetInternals()["fc1_output"].SetAttr("num_hidden", "64");
  EXPECT_EQ(mlp.GetInternals()["fc1_output"].GetAttr("num_hidden"), "128");
  EXPECT_EQ(copy.GetInternals()["fc1_output"].GetAttr("num_hidden"), "64");
  // Plain copies share nodes, as MXNet handles do.
  Symbol alias = mlp;
  alias.GetInternals()["fc2_output"].SetAttr("__lr_mult__", "3");
  EXPECT_EQ(mlp.GetInternals()["fc2_output"].GetAttr("__lr_mult__"), "3");
}

TEST(SymbolInferShapeTest, MlpWeightsFromData) {
  const auto result = Mlp().InferShape({{"data", Shape{32, 100}}});
  EXPECT_TRUE(result.complete);
  const std::vector<Shape> expected = {{32, 100}, {128, 100}, {128}, {10, 128}, {10}, {32}};
  ASSERT_EQ(result.arguments.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(*result.arguments[i], expected[i]) << i;
  ASSERT_EQ(result.outputs.size(), 1u);
  EXPECT_EQ(*result.outputs[0], Shape({32, 10}));
  EXPECT_TRUE(result.auxiliary_states.empty());
}

TEST(SymbolInferShapeTest, CnnArgumentsOutputsAndAuxiliaryStates) {
  // (2, 3, 8, 8) -> conv 3x3 pad 1 -> (2, 8, 8, 8) -> pool 2x2 -> (2, 8, 4, 4) -> flatten 128 -> fc 10.
  const auto result = SmallCnn().InferShape({{"data", Shape{2, 3, 8, 8}}});
  EXPECT_TRUE(result.complete);
  const std::vector<Shape> arguments = {{2, 3, 8, 8}, {8, 3, 3, 3}, {8}, {8}, {8}, {10, 128}, {10}, {2}};
  ASSERT_EQ(result.arguments.size(), arguments.size());
  for (size_t i = 0; i < arguments.size(); ++i) EXPECT_EQ(*result.arguments[i], arguments[i]) << i;
  EXPECT_EQ(*result.outputs[0], Shape({2, 10}));
  ASSERT_EQ(result.auxiliary_states.size(), 2u);
  EXPECT_EQ(*result.auxiliary_states[0], Shape({8}));
  EXPECT_EQ(*result.auxiliary_states[1], Shape({8}));
}

TEST(SymbolInferShapeTest, PartialAndIncomplete) {
  const Symbol mlp = Mlp();
  const auto partial = mlp.InferShape({}, /*partial=*/true);
  EXPECT_FALSE(partial.complete);
  EXPECT_FALSE(partial.arguments[0].has_value());
  EXPECT_FALSE(partial.outputs[0].has_value());
  // Knowing only the first layer's input width is not enough for the batch-dependent shapes.
  const Error error = ErrorOf([&] { mlp.InferShape({}); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error.message(), "data")) << error.message();
  EXPECT_TRUE(Contains(error.message(), "fc1_weight")) << error.message();
  // A shape from a variable's __shape__ attribute counts as known.
  Symbol data = Symbol::Variable("data", {{"__shape__", "(4, 6)"}});
  Symbol fc = Symbol::Create("FullyConnected", {data}, {}, {{"num_hidden", "3"}}, "fc");
  const auto from_attribute = fc.InferShape({});
  EXPECT_TRUE(from_attribute.complete);
  EXPECT_EQ(*from_attribute.arguments[1], Shape({3, 6}));
}

TEST(SymbolInferShapeTest, ConflictsAndUnknownNames) {
  const Symbol mlp = Mlp();
  const Error conflict = ErrorOf([&] { mlp.InferShape({{"data", Shape{32, 100}}, {"fc1_weight", Shape{128, 50}}}); });
  EXPECT_EQ(conflict.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(conflict.message(), "'fc1'")) << conflict.message();
  const Error unknown = ErrorOf([&] { mlp.InferShape({{"dat", Shape{1, 2}}}); });
  EXPECT_EQ(unknown.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(unknown.message(), "'dat'")) << unknown.message();
  EXPECT_TRUE(Contains(unknown.message(), "softmax_label")) << unknown.message();
  // Auxiliary states may be given by name too (MXNet matches every input).
  const auto with_aux = SmallCnn().InferShape({{"data", Shape{1, 3, 4, 4}}, {"bn0_moving_var", Shape{8}}});
  EXPECT_TRUE(with_aux.complete);
}

TEST(SymbolInferTypeTest, CompleteAndPartial) {
  const Symbol mlp = Mlp();
  const auto result = mlp.InferType({{"data", DType::kFloat64}});
  EXPECT_TRUE(result.complete);
  for (const auto& dtype : result.arguments) EXPECT_EQ(*dtype, DType::kFloat64);
  EXPECT_EQ(*result.outputs[0], DType::kFloat64);
  const auto cnn = SmallCnn().InferType({{"data", DType::kFloat32}});
  EXPECT_TRUE(cnn.complete);
  EXPECT_EQ(*cnn.auxiliary_states[0], DType::kFloat32);
  const auto partial = mlp.InferType({}, true);
  EXPECT_FALSE(partial.complete);
  EXPECT_FALSE(partial.arguments[1].has_value());
  const Error error = ErrorOf([&] { mlp.InferType({}); });
  EXPECT_EQ(error.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(error.message(), "fc1_weight")) << error.message();
  EXPECT_EQ(ErrorOf([&] { mlp.InferType({{"nope", DType::kFloat32}}); }).kind(), ErrorKind::kValueError);
  // __dtype__ (an MXNet type flag) on a variable seeds inference.
  Symbol x = Symbol::Variable("x", {{"__dtype__", "2"}});
  EXPECT_EQ(*Symbol::Create("relu", {x}, {}, {}, "r").InferType({}).outputs[0], DType::kFloat16);
}

}  // namespace
}  // namespace graph
}  // namespace pmx
