// MXNet symbol JSON: writing exactly what MXNet 1.9.1 writes, reading MXNet 1.x and pre-1.0 files, round trips,
// and clear errors for bad files. testdata/ holds files in MXNet's layout, hand-written from MXNet's rules:
//   mlp-mxnet1.9-symbol.json     the MLP below, as MXNet 1.9.1's tojson() prints it;
//   lenet-mxnet1.9-symbol.json   LeNet with BatchNorm (Convolution, BatchNorm, Activation, Pooling, Flatten,
//                                FullyConnected, SoftmaxOutput), as MXNet 1.9.1 prints it;
//   mlp-bn-legacy-0.8-symbol.json  an MXNet 0.8 file: "param"/"attr" keys, [node, index] entries, no
//                                node_row_ptr, BatchNorm without its auxiliary states, plain hidden keys.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/base/error.h"
#include "core/graph/symbol.h"

namespace pmx {
namespace graph {
namespace {

using Names = std::vector<std::string>;

std::string ReadTestdata(const std::string& name) {
  std::ifstream file("core/graph/testdata/" + name, std::ios::binary);
  EXPECT_TRUE(file.is_open()) << name;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

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

Symbol Create(const std::string& op, const std::vector<Symbol>& inputs, const ParamMap& params,
              const std::string& name) {
  return Symbol::Create(op, inputs, {}, params, name);
}

Symbol Mlp() {
  Symbol fc1 = Create("FullyConnected", {Symbol::Variable("data")}, {{"num_hidden", "128"}}, "fc1");
  Symbol act1 = Create("Activation", {fc1}, {{"act_type", "relu"}}, "relu1");
  Symbol fc2 = Create("FullyConnected", {act1}, {{"num_hidden", "10"}}, "fc2");
  return Create("SoftmaxOutput", {fc2}, {}, "softmax");
}

// The network of lenet-mxnet1.9-symbol.json, composed with the Symbol API as the MXNet script would.
Symbol Lenet() {
  const ParamMap pool = {{"kernel", "(2, 2)"}, {"pool_type", "max"}, {"stride", "(2, 2)"}};
  Symbol conv1 =
      Create("Convolution", {Symbol::Variable("data")}, {{"kernel", "(5, 5)"}, {"num_filter", "20"}}, "conv1");
  Symbol bn1 = Create("BatchNorm", {conv1}, {{"fix_gamma", "False"}}, "bn1");
  Symbol tanh1 = Create("Activation", {bn1}, {{"act_type", "tanh"}}, "tanh1");
  Symbol pool1 = Create("Pooling", {tanh1}, pool, "pool1");
  Symbol conv2 = Create("Convolution", {pool1}, {{"kernel", "(5, 5)"}, {"num_filter", "50"}}, "conv2");
  Symbol tanh2 = Create("Activation", {conv2}, {{"act_type", "tanh"}}, "tanh2");
  Symbol pool2 = Create("Pooling", {tanh2}, pool, "pool2");
  Symbol flat = Create("Flatten", {pool2}, {}, "flatten");
  Symbol fc1 = Create("FullyConnected", {flat}, {{"num_hidden", "500"}}, "fc1");
  Symbol tanh3 = Create("Activation", {fc1}, {{"act_type", "tanh"}}, "tanh3");
  Symbol fc2 = Create("FullyConnected", {tanh3}, {{"num_hidden", "10"}}, "fc2");
  return Create("SoftmaxOutput", {fc2}, {}, "softmax");
}

// Shape inference results as {name: shape} over arguments, outputs and auxiliary states.
std::map<std::string, std::string> ShapesByName(const Symbol& symbol, const std::map<std::string, Shape>& known) {
  const auto result = symbol.InferShape(known);
  std::map<std::string, std::string> shapes;
  const Names args = symbol.ListArguments(), outs = symbol.ListOutputs(), aux = symbol.ListAuxiliaryStates();
  for (size_t i = 0; i < args.size(); ++i) shapes[args[i]] = result.arguments[i]->ToString();
  for (size_t i = 0; i < outs.size(); ++i) shapes[outs[i]] = result.outputs[i]->ToString();
  for (size_t i = 0; i < aux.size(); ++i) shapes[aux[i]] = result.auxiliary_states[i]->ToString();
  return shapes;
}

TEST(SymbolJsonTest, WritesWhatMxnetWrites) {
  EXPECT_EQ(Mlp().ToJson(), ReadTestdata("mlp-mxnet1.9-symbol.json"));
  // BatchNorm: multi-line attribute maps, mutated inputs at version 1, node_row_ptr counting MXNet's 3 outputs.
  EXPECT_EQ(Lenet().ToJson(), ReadTestdata("lenet-mxnet1.9-symbol.json"));
}

TEST(SymbolJsonTest, LoadsMxnet19LenetFile) {
  const std::string text = ReadTestdata("lenet-mxnet1.9-symbol.json");
  const Symbol lenet = Symbol::FromJson(text);
  EXPECT_EQ(lenet.ListArguments(),
            (Names{"data", "conv1_weight", "conv1_bias", "bn1_gamma", "bn1_beta", "conv2_weight", "conv2_bias",
                   "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias", "softmax_label"}));
  EXPECT_EQ(lenet.ListAuxiliaryStates(), (Names{"bn1_moving_mean", "bn1_moving_var"}));
  EXPECT_EQ(lenet.ListOutputs(), (Names{"softmax_output"}));
  // 28x28 -> conv 5x5 -> 24 -> pool 2 -> 12 -> conv 5x5 -> 8 -> pool 2 -> 4: 50*4*4 = 800 features.
  const std::map<std::string, std::string> expected = {
      {"data", "(64, 1, 28, 28)"}, {"conv1_weight", "(20, 1, 5, 5)"}, {"conv1_bias", "(20,)"},
      {"bn1_gamma", "(20,)"},      {"bn1_beta", "(20,)"},             {"conv2_weight", "(50, 20, 5, 5)"},
      {"conv2_bias", "(50,)"},     {"fc1_weight", "(500, 800)"},      {"fc1_bias", "(500,)"},
      {"fc2_weight", "(10, 500)"}, {"fc2_bias", "(10,)"},             {"softmax_label", "(64,)"},
      {"softmax_output", "(64, 10)"}, {"bn1_moving_mean", "(20,)"},   {"bn1_moving_var", "(20,)"}};
  EXPECT_EQ(ShapesByName(lenet, {{"data", Shape{64, 1, 28, 28}}}), expected);
  EXPECT_EQ(lenet.ToJson(), text);
  EXPECT_EQ(lenet.GetInternals()["bn1_moving_var"].GetAttr("__init__"), R"(["one", {}])");
}

TEST(SymbolJsonTest, LoadsAndUpgradesLegacyFile) {
  const Symbol mlp = Symbol::FromJson(ReadTestdata("mlp-bn-legacy-0.8-symbol.json"));
  // Before 0.9 BatchNorm's auxiliary states were not stored; loading adds them as MXNet does.
  EXPECT_EQ(mlp.ListArguments(), (Names{"data", "fc1_weight", "fc1_bias", "bn1_gamma", "bn1_beta", "fc2_weight",
                                        "fc2_bias", "softmax_label"}));
  EXPECT_EQ(mlp.ListAuxiliaryStates(), (Names{"bn1_moving_mean", "bn1_moving_var"}));
  EXPECT_EQ(mlp.ListOutputs(), (Names{"softmax_output"}));  // The old op name Softmax is SoftmaxOutput.
  const Symbol internals = mlp.GetInternals();
  // Plain hidden keys become double-underscore attributes; "weight_wd_mult" moves to the weight variable.
  EXPECT_EQ(internals["data"].GetAttr("__ctx_group__"), "stage1");
  EXPECT_EQ(internals["fc1_weight"].GetAttr("__lr_mult__"), "2.0");
  EXPECT_EQ(internals["fc1_weight"].GetAttr("__wd_mult__"), "0.5");
  EXPECT_EQ(internals["fc1_output"].GetAttr("__ctx_group__"), "stage1");
  EXPECT_EQ(internals["fc1_output"].GetAttr("weight_wd_mult"), std::nullopt);
  // Added auxiliary states carry the node's dictionary and BatchNorm's initializers (0.9.4 upgrade).
  EXPECT_EQ(internals["bn1_moving_mean"].GetAttr("__init__"), R"(["zero", {}])");
  EXPECT_EQ(internals["bn1_moving_var"].GetAttr("__init__"), R"(["one", {}])");
  EXPECT_EQ(internals["bn1_moving_var"].GetAttr("momentum"), "0.9");
  const std::map<std::string, std::string> expected = {
      {"data", "(8, 20)"},      {"fc1_weight", "(64, 20)"},   {"fc1_bias", "(64,)"},  {"bn1_gamma", "(64,)"},
      {"bn1_beta", "(64,)"},    {"fc2_weight", "(10, 64)"},   {"fc2_bias", "(10,)"},  {"softmax_label", "(8,)"},
      {"softmax_output", "(8, 10)"}, {"bn1_moving_mean", "(64,)"}, {"bn1_moving_var", "(64,)"}};
  EXPECT_EQ(ShapesByName(mlp, {{"data", Shape{8, 20}}}), expected);
  // Written back in the 1.x format, which reloads to the same file.
  const std::string upgraded = mlp.ToJson();
  EXPECT_TRUE(Contains(upgraded, R"("__lr_mult__": "2.0")")) << upgraded;
  EXPECT_TRUE(Contains(upgraded, R"("op": "SoftmaxOutput")")) << upgraded;
  EXPECT_FALSE(Contains(upgraded, "\"param\"")) << upgraded;
  EXPECT_EQ(Symbol::FromJson(upgraded).ToJson(), upgraded);
}

TEST(SymbolJsonTest, RoundTripsKeepJsonAndShapes) {
  Symbol x = Symbol::Variable("x");
  Symbol parts = Create("split", {x}, {{"num_outputs", "2"}, {"axis", "1"}}, "split0");
  Symbol joined = Symbol::Create("Concat", {parts[1], parts[0]}, {}, {{"dim", "1"}}, "cat");
  const std::vector<std::pair<Symbol, std::map<std::string, Shape>>> cases = {
      {Mlp(), {{"data", Shape{4, 30}}}},
      {Lenet(), {{"data", Shape{2, 1, 28, 28}}}},
      {Lenet().GetInternals(), {{"data", Shape{2, 1, 28, 28}}}},
      {Symbol::Group({parts, joined}), {{"x", Shape{3, 6}}}},
  };
  for (const auto& [symbol, known] : cases) {
    const std::string json = symbol.ToJson();
    const Symbol loaded = Symbol::FromJson(json);
    EXPECT_EQ(loaded.ToJson(), json);
    EXPECT_EQ(loaded.ListOutputs(), symbol.ListOutputs());
    EXPECT_EQ(ShapesByName(loaded, known), ShapesByName(symbol, known));
  }
}

TEST(SymbolJsonTest, AttributesSurviveRoundTrips) {
  Symbol data = Symbol::Variable("data", {{"__shape__", "(2, 5)"}, {"__dtype__", "1"}});
  Symbol weight = Symbol::Variable(
      "w", {{"__lr_mult__", "0.5"}, {"__wd_mult__", "0"}, {"__init__", R"(["normal", {"sigma": 0.02}])"}});
  Symbol fc = Symbol::Create("FullyConnected", {data}, {{"weight", weight}}, {{"num_hidden", "3"}}, "fc",
                             {{"__ctx_group__", "dev1"}});
  const Symbol loaded = Symbol::FromJson(fc.ToJson());
  const Symbol internals = loaded.GetInternals();
  EXPECT_EQ(internals["w"].GetAttr("__lr_mult__"), "0.5");
  EXPECT_EQ(internals["w"].GetAttr("__wd_mult__"), "0");
  EXPECT_EQ(internals["w"].GetAttr("__init__"), R"(["normal", {"sigma": 0.02}])");
  EXPECT_EQ(loaded.GetAttr("__ctx_group__"), "dev1");
  EXPECT_EQ(loaded.AttrDict(), fc.AttrDict());
  // __shape__ and __dtype__ still seed inference after the round trip.
  EXPECT_EQ(*loaded.InferShape({}).arguments[1], Shape({3, 5}));
  EXPECT_EQ(*loaded.InferType({}).outputs[0], DType::kFloat64);
}

TEST(SymbolJsonTest, EntriesMayReferToHiddenOutputs) {
  // An MXNet 1.x graph that uses BatchNorm's hidden outputs 1 (mean) and 2 (var) directly.
  const std::string json = R"({
    "nodes": [
      {"op": "null", "name": "data", "inputs": []},
      {"op": "null", "name": "bn_gamma", "inputs": []},
      {"op": "null", "name": "bn_beta", "inputs": []},
      {"op": "null", "name": "bn_moving_mean", "inputs": []},
      {"op": "null", "name": "bn_moving_var", "inputs": []},
      {"op": "BatchNorm", "name": "bn", "attrs": {"fix_gamma": "False"},
       "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 1], [4, 0, 1]]},
      {"op": "elemwise_add", "name": "sum", "inputs": [[5, 1, 0], [5, 2, 0]]}
    ],
    "arg_nodes": [0, 1, 2, 3, 4],
    "node_row_ptr": [0, 1, 2, 3, 4, 5, 8, 9],
    "heads": [[5, 1, 0], [6, 0, 0]],
    "attrs": {"mxnet_version": ["int", 10600]}
  })";
  const Symbol symbol = Symbol::FromJson(json);
  EXPECT_EQ(symbol.ListOutputs(), (Names{"bn_mean", "sum_output"}));
  const auto shapes = symbol.InferShape({{"data", Shape{2, 3, 4}}});
  EXPECT_EQ(*shapes.outputs[0], Shape({3}));
  EXPECT_EQ(*shapes.outputs[1], Shape({3}));
  EXPECT_EQ(Symbol::FromJson(symbol.ToJson()).ToJson(), symbol.ToJson());
}

TEST(SymbolJsonTest, VersionedUpgrades) {
  // Before 0.9.5, argmax's axis=-1 meant "no axis" (MXNet drops it); from then on it is the last axis.
  const std::string template_json = R"({
    "nodes": [{"op": "null", "name": "x", "inputs": []},
              {"op": "argmax", "name": "am", "attr": {"axis": "-1"}, "inputs": [[0, 0, 0]]}],
    "arg_nodes": [0], "heads": [[1, 0, 0]], "attrs": {"mxnet_version": ["int", VERSION]}})";
  auto with_version = [&](const std::string& version) {
    std::string json = template_json;
    return Symbol::FromJson(json.replace(json.find("VERSION"), 7, version));
  };
  EXPECT_EQ(with_version("904").GetAttr("axis"), std::nullopt);
  EXPECT_EQ(with_version("10901").GetAttr("axis"), "-1");
  EXPECT_EQ(*with_version("904").InferShape({{"x", Shape{2, 3}}}).outputs[0], Shape({1}));
  // From 0.9.0 BatchNorm's auxiliary states are in the file; a missing one is an error naming the node.
  const Error missing = ErrorOf([] {
    Symbol::FromJson(R"({"nodes": [{"op": "null", "name": "x", "inputs": []},
      {"op": "BatchNorm", "name": "bn", "inputs": [[0, 0, 0]]}], "arg_nodes": [0], "heads": [[1, 0, 0]],
      "attrs": {"mxnet_version": ["int", 10000]}})");
  });
  EXPECT_EQ(missing.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(missing.message(), "node 1 'bn'")) << missing.message();
}

TEST(SymbolJsonTest, ControlDependenciesRoundTrip) {
  const std::string json = R"({
    "nodes": [{"op": "null", "name": "a", "inputs": []},
              {"op": "relu", "name": "first", "inputs": [[0, 0, 0]]},
              {"op": "sigmoid", "name": "second", "inputs": [[0, 0, 0]], "control_deps": [1]}],
    "arg_nodes": [0], "heads": [[2, 0, 0]]})";
  const Symbol symbol = Symbol::FromJson(json);
  const std::string written = symbol.ToJson();
  EXPECT_TRUE(Contains(written, R"("control_deps": [1])")) << written;
  EXPECT_EQ(Symbol::FromJson(written).ToJson(), written);
  EXPECT_EQ(symbol.GetInternals().ListOutputs(), (Names{"a", "first_output", "second_output"}));
}

TEST(SymbolJsonTest, BadFilesAreValueErrorsNamingTheNode) {
  const std::string prefix = R"({"nodes": [{"op": "null", "name": "x", "inputs": []}, )";
  const std::string suffix = R"(], "arg_nodes": [0], "heads": [[1, 0, 0]]})";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {R"({"op": "NoSuchOp", "name": "mystery", "inputs": [[0, 0, 0]]})", {"node 1 'mystery'", "NoSuchOp"}},
      {R"({"op": "FullyConnected", "name": "fc", "attrs": {"num_hidden": "ten"}, "inputs": [[0, 0, 0]]})",
       {"node 1 'fc'", "num_hidden"}},
      {R"({"op": "FullyConnected", "name": "fc", "attrs": {"num_hidden": "2", "colour": "red"}, "inputs": [[0, 0]]})",
       {"node 1 'fc'", "colour"}},
      {R"({"op": "relu", "name": "r", "inputs": [[0, 3, 0]]})", {"node 1 'r'", "output 3"}},
      {R"({"op": "relu", "name": "r", "inputs": [[5, 0, 0]]})", {"node 1 'r'", "refers to node 5"}},
      {R"({"op": "relu", "name": "r", "inputs": [[0]]})", {"node 1 'r'", "[node, index]"}},
      {R"({"op": "relu", "name": "r", "inputs": [[-1, 0]]})", {"node 1 'r'", "non-negative"}},
      {R"({"op": "relu", "inputs": [[0, 0]]})", {"node 1", "\"name\""}},
      {R"({"op": "null", "name": "v", "inputs": [[0, 0]]})", {"node 1 'v'", "variable"}},
      {R"({"op": "relu", "name": "r", "inputs": [[0, 0]], "attrs": {"__x__": ["list"]}})", {"node 1 'r'", "__x__"}},
  };
  for (const auto& [node, parts] : cases) {
    const Error error = ErrorOf([&] { Symbol::FromJson(prefix + node + suffix); });
    EXPECT_EQ(error.kind(), ErrorKind::kValueError) << node;
    for (const std::string& part : parts) EXPECT_TRUE(Contains(error.message(), part)) << error.message();
  }
  const std::vector<std::pair<std::string, std::string>> documents = {
      {"not json", "not valid JSON"},
      {"[1, 2]", "not a JSON object"},
      {R"({"heads": []})", "\"nodes\""},
      {R"({"nodes": []})", "\"heads\""},
      {R"({"nodes": [{"op": "null", "name": "x", "inputs": []}], "heads": [[1, 0, 0]]})", "refers to node 1"},
      {R"({"nodes": [{"op": "null", "name": "x", "inputs": []}], "heads": [[0, 1, 0]]})", "output 1"},
      {R"({"nodes": [{"op": "null", "name": "x", "inputs": []}, {"op": "relu", "name": "r", "inputs": [[0, 0]]}],
           "arg_nodes": [1], "heads": [[1, 0]]})",
       "not a variable"},
      {R"({"nodes": [], "heads": [], "attrs": {"mxnet_version": 10901}})", "mxnet_version"},
  };
  for (const auto& [document, part] : documents) {
    const Error error = ErrorOf([&] { Symbol::FromJson(document); });
    EXPECT_EQ(error.kind(), ErrorKind::kValueError) << document;
    EXPECT_TRUE(Contains(error.message(), part)) << error.message();
  }
}

TEST(SymbolJsonTest, SaveAndLoadFiles) {
  const char* folder = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(folder ? folder : "/tmp") + "/mlp-symbol.json";
  const Symbol mlp = Mlp();
  mlp.Save(path);
  const Symbol loaded = Symbol::Load(path);
  EXPECT_EQ(loaded.ToJson(), mlp.ToJson());
  EXPECT_EQ(Symbol::Load("core/graph/testdata/lenet-mxnet1.9-symbol.json").ListAuxiliaryStates(),
            (Names{"bn1_moving_mean", "bn1_moving_var"}));
  const Error missing = ErrorOf([&] { Symbol::Load(path + ".missing"); });
  EXPECT_EQ(missing.kind(), ErrorKind::kValueError);
  EXPECT_TRUE(Contains(missing.message(), path + ".missing")) << missing.message();
  const Error unwritable = ErrorOf([&] { mlp.Save(path + "/no/such/folder.json"); });
  EXPECT_TRUE(Contains(unwritable.message(), "no/such/folder.json")) << unwritable.message();
  // A malformed file names both the node and the file.
  const std::string bad_path = std::string(folder ? folder : "/tmp") + "/bad-symbol.json";
  std::ofstream(bad_path) << R"({"nodes": [{"op": "Bogus", "name": "b", "inputs": []}], "heads": [[0, 0]]})";
  const Error bad = ErrorOf([&] { Symbol::Load(bad_path); });
  EXPECT_TRUE(Contains(bad.message(), "node 0 'b'") && Contains(bad.message(), bad_path)) << bad.message();
}

}  // namespace
}  // namespace graph
}  // namespace pmx
