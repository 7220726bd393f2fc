// The symbol group of the C ABI, through polymix.h only: composition, listing, attributes, inference, JSON,
// files and the error path.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/c_api/polymix.h"

namespace {

std::vector<std::string> Strings(int count, const char* const* names) {
  return std::vector<std::string>(names, names + count);
}

// Owns a handle for the length of a test.
struct Owned {
  PmxSymbolHandle handle = nullptr;
  ~Owned() { pmx_symbol_free(handle); }
};

std::string LastError() { return pmx_last_error_message(); }

// data -> FullyConnected(fc1, 8) -> BatchNorm(bn1) -> SoftmaxOutput(softmax) through the C ABI.
struct Net {
  Owned data, fc1, bn1, softmax;
  Net() {
    const char* attr_key[] = {"__shape__"};
    const char* attr_value[] = {"(4, 5)"};
    EXPECT_EQ(pmx_symbol_create_variable("data", 1, attr_key, attr_value, &data.handle), 0) << LastError();
    const char* fc_keys[] = {"num_hidden"};
    const char* fc_values[] = {"8"};
    const char* lr_key[] = {"lr_mult"};
    const char* lr_value[] = {"2"};
    EXPECT_EQ(pmx_symbol_create_op("FullyConnected", 1, &data.handle, 0, nullptr, nullptr, 1, fc_keys, fc_values,
                                   "fc1", 1, lr_key, lr_value, &fc1.handle),
              0)
        << LastError();
    EXPECT_EQ(pmx_symbol_create_op("BatchNorm", 1, &fc1.handle, 0, nullptr, nullptr, 0, nullptr, nullptr, "bn1", 0,
                                   nullptr, nullptr, &bn1.handle),
              0)
        << LastError();
    EXPECT_EQ(pmx_symbol_create_op("SoftmaxOutput", 1, &bn1.handle, 0, nullptr, nullptr, 0, nullptr, nullptr,
                                   "softmax", 0, nullptr, nullptr, &softmax.handle),
              0)
        << LastError();
  }
};

TEST(CApiSymbolTest, ComposeAndList) {
  Net net;
  int count = 0;
  const char* const* names = nullptr;
  ASSERT_EQ(pmx_symbol_list_arguments(net.softmax.handle, &count, &names), 0) << LastError();
  EXPECT_EQ(Strings(count, names),
            (std::vector<std::string>{"data", "fc1_weight", "fc1_bias", "bn1_gamma", "bn1_beta", "softmax_label"}));
  ASSERT_EQ(pmx_symbol_list_auxiliary_states(net.softmax.handle, &count, &names), 0);
  EXPECT_EQ(Strings(count, names), (std::vector<std::string>{"bn1_moving_mean", "bn1_moving_var"}));
  ASSERT_EQ(pmx_symbol_list_outputs(net.softmax.handle, &count, &names), 0);
  EXPECT_EQ(Strings(count, names), (std::vector<std::string>{"softmax_output"}));
  ASSERT_EQ(pmx_symbol_list_inputs(net.softmax.handle, &count, &names), 0);
  EXPECT_EQ(count, 8);

  Owned internals, fc1_output, children, group, first, copy;
  ASSERT_EQ(pmx_symbol_get_internals(net.softmax.handle, &internals.handle), 0);
  ASSERT_EQ(pmx_symbol_get_output_by_name(internals.handle, "fc1_output", &fc1_output.handle), 0) << LastError();
  ASSERT_EQ(pmx_symbol_get_children(fc1_output.handle, &children.handle), 0);
  ASSERT_EQ(pmx_symbol_list_outputs(children.handle, &count, &names), 0);
  EXPECT_EQ(Strings(count, names), (std::vector<std::string>{"data", "fc1_weight", "fc1_bias"}));
  PmxSymbolHandle members[] = {net.fc1.handle, net.data.handle};
  ASSERT_EQ(pmx_symbol_group(2, members, &group.handle), 0);
  ASSERT_EQ(pmx_symbol_num_outputs(group.handle, &count), 0);
  EXPECT_EQ(count, 2);
  ASSERT_EQ(pmx_symbol_get_output(group.handle, 1, &first.handle), 0);
  ASSERT_EQ(pmx_symbol_list_outputs(first.handle, &count, &names), 0);
  EXPECT_EQ(Strings(count, names), (std::vector<std::string>{"data"}));
  ASSERT_EQ(pmx_symbol_copy(net.softmax.handle, &copy.handle), 0);
  ASSERT_EQ(pmx_symbol_list_arguments(copy.handle, &count, &names), 0);
  EXPECT_EQ(count, 6);
}

TEST(CApiSymbolTest, NamedInputsAndVariadicOps) {
  Owned x, y, shared, fc, concat;
  ASSERT_EQ(pmx_symbol_create_variable("x", 0, nullptr, nullptr, &x.handle), 0);
  ASSERT_EQ(pmx_symbol_create_variable("y", 0, nullptr, nullptr, &y.handle), 0);
  ASSERT_EQ(pmx_symbol_create_variable("shared_w", 0, nullptr, nullptr, &shared.handle), 0);
  const char* named_keys[] = {"weight"};
  const char* keys[] = {"num_hidden", "no_bias"};
  const char* values[] = {"3", "True"};
  ASSERT_EQ(pmx_symbol_create_op("FullyConnected", 1, &x.handle, 1, named_keys, &shared.handle, 2, keys, values,
                                 "fc", 0, nullptr, nullptr, &fc.handle),
            0)
      << LastError();
  int count = 0;
  const char* const* names = nullptr;
  ASSERT_EQ(pmx_symbol_list_arguments(fc.handle, &count, &names), 0);
  EXPECT_EQ(Strings(count, names), (std::vector<std::string>{"x", "shared_w"}));
  PmxSymbolHandle inputs[] = {x.handle, y.handle};
  ASSERT_EQ(pmx_symbol_create_op("Concat", 2, inputs, 0, nullptr, nullptr, 0, nullptr, nullptr, nullptr, 0, nullptr,
                                 nullptr, &concat.handle),
            0)
      << LastError();
  const char* num_args = nullptr;
  int found = 0;
  ASSERT_EQ(pmx_symbol_get_attr(concat.handle, "num_args", &num_args, &found), 0);
  EXPECT_EQ(found, 1);
  EXPECT_STREQ(num_args, "2");
}

TEST(CApiSymbolTest, Attributes) {
  Net net;
  const char* value = nullptr;
  int found = 0;
  ASSERT_EQ(pmx_symbol_get_name(net.fc1.handle, &value, &found), 0);
  EXPECT_EQ(found, 1);
  EXPECT_STREQ(value, "fc1");
  ASSERT_EQ(pmx_symbol_get_attr(net.fc1.handle, "lr_mult", &value, &found), 0);
  EXPECT_EQ(found, 1);
  EXPECT_STREQ(value, "2");
  ASSERT_EQ(pmx_symbol_get_attr(net.fc1.handle, "nope", &value, &found), 0);
  EXPECT_EQ(found, 0);
  EXPECT_EQ(value, nullptr);
  ASSERT_EQ(pmx_symbol_set_attr(net.data.handle, "__init__", "zeros"), 0);
  ASSERT_EQ(pmx_symbol_get_attr(net.data.handle, "__init__", &value, &found), 0);
  EXPECT_STREQ(value, "zeros");
  int count = 0;
  const char* const* triples = nullptr;
  ASSERT_EQ(pmx_symbol_list_attr(net.fc1.handle, &count, &triples), 0);
  bool saw_weight_lr = false;
  for (int i = 0; i < count; ++i) {
    saw_weight_lr |= std::string(triples[3 * i]) == "fc1_weight" && std::string(triples[3 * i + 1]) == "__lr_mult__" &&
                     std::string(triples[3 * i + 2]) == "2";
  }
  EXPECT_TRUE(saw_weight_lr);
  // A parameter with a bad value is refused with a ValueError.
  EXPECT_NE(pmx_symbol_set_attr(net.fc1.handle, "num_hidden", "many"), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
}

TEST(CApiSymbolTest, InferShapeAndType) {
  Net net;
  int counts[3] = {0, 0, 0};
  const int* ndims = nullptr;
  const int64_t* dims = nullptr;
  int complete = 0;
  // data's shape comes from its __shape__ attribute (4, 5).
  ASSERT_EQ(pmx_symbol_infer_shape(net.softmax.handle, 0, nullptr, nullptr, nullptr, 0, counts, &ndims, &dims,
                                   &complete),
            0)
      << LastError();
  EXPECT_EQ(complete, 1);
  ASSERT_EQ(counts[0], 6);
  ASSERT_EQ(counts[1], 1);
  ASSERT_EQ(counts[2], 2);
  // data (4, 5), fc1_weight (8, 5), fc1_bias (8,), bn1_gamma (8,), bn1_beta (8,), softmax_label (4,),
  // output (4, 8), moving_mean (8,), moving_var (8,).
  EXPECT_EQ(std::vector<int>(ndims, ndims + 9), (std::vector<int>{2, 2, 1, 1, 1, 1, 2, 1, 1}));
  EXPECT_EQ(std::vector<int64_t>(dims, dims + 12), (std::vector<int64_t>{4, 5, 8, 5, 8, 8, 8, 4, 4, 8, 8, 8}));

  // A known shape that conflicts with __shape__ through the graph: fc1_weight (8, 7) vs data (4, 5).
  const char* names[] = {"fc1_weight"};
  const int known_ndims[] = {2};
  const int64_t known_dims[] = {8, 7};
  EXPECT_NE(pmx_symbol_infer_shape(net.softmax.handle, 1, names, known_ndims, known_dims, 0, counts, &ndims, &dims,
                                   &complete),
            0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(LastError().find("fc1"), std::string::npos) << LastError();

  // Partial inference on a graph without any shape.
  Owned x, relu;
  ASSERT_EQ(pmx_symbol_create_variable("x", 0, nullptr, nullptr, &x.handle), 0);
  ASSERT_EQ(pmx_symbol_create_op("relu", 1, &x.handle, 0, nullptr, nullptr, 0, nullptr, nullptr, "r", 0, nullptr,
                                 nullptr, &relu.handle),
            0);
  ASSERT_EQ(pmx_symbol_infer_shape(relu.handle, 0, nullptr, nullptr, nullptr, 1, counts, &ndims, &dims, &complete), 0);
  EXPECT_EQ(complete, 0);
  EXPECT_EQ(ndims[0], -1);
  EXPECT_NE(pmx_symbol_infer_shape(relu.handle, 0, nullptr, nullptr, nullptr, 0, counts, &ndims, &dims, &complete), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);

  const char* type_names[] = {"data"};
  const int types[] = {PMX_DTYPE_FLOAT64};
  const int* flags = nullptr;
  ASSERT_EQ(pmx_symbol_infer_type(net.softmax.handle, 1, type_names, types, 0, counts, &flags, &complete), 0)
      << LastError();
  EXPECT_EQ(complete, 1);
  for (int i = 0; i < counts[0] + counts[1] + counts[2]; ++i) EXPECT_EQ(flags[i], PMX_DTYPE_FLOAT64) << i;
}

TEST(CApiSymbolTest, JsonAndFiles) {
  Net net;
  const char* json = nullptr;
  ASSERT_EQ(pmx_symbol_to_json(net.softmax.handle, &json), 0);
  const std::string text = json;
  EXPECT_NE(text.find(R"("mxnet_version": ["int", 10901])"), std::string::npos);
  Owned loaded, from_file;
  ASSERT_EQ(pmx_symbol_from_json(text.c_str(), &loaded.handle), 0) << LastError();
  ASSERT_EQ(pmx_symbol_to_json(loaded.handle, &json), 0);
  EXPECT_EQ(text, json);
  const char* folder = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(folder ? folder : "/tmp") + "/c-api-symbol.json";
  ASSERT_EQ(pmx_symbol_save(net.softmax.handle, path.c_str()), 0) << LastError();
  ASSERT_EQ(pmx_symbol_load(path.c_str(), &from_file.handle), 0) << LastError();
  ASSERT_EQ(pmx_symbol_to_json(from_file.handle, &json), 0);
  EXPECT_EQ(text, json);
  Owned bad;
  EXPECT_NE(pmx_symbol_from_json(R"({"nodes": [{"op": "Nope", "name": "n", "inputs": []}], "heads": []})",
                                 &bad.handle),
            0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(LastError().find("'n'"), std::string::npos) << LastError();
  EXPECT_EQ(bad.handle, nullptr);
}

TEST(CApiSymbolTest, ErrorPaths) {
  Owned out;
  EXPECT_NE(pmx_symbol_create_variable(nullptr, 0, nullptr, nullptr, &out.handle), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(pmx_symbol_create_op("NoSuchOp", 0, nullptr, 0, nullptr, nullptr, 0, nullptr, nullptr, "x", 0, nullptr,
                                 nullptr, &out.handle),
            0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  int count = 0;
  const char* const* names = nullptr;
  EXPECT_NE(pmx_symbol_list_arguments(nullptr, &count, &names), 0);
  Net net;
  EXPECT_NE(pmx_symbol_get_output(net.fc1.handle, 3, &out.handle), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_INDEX);
  EXPECT_EQ(pmx_symbol_free(nullptr), 0);
}

}  // namespace
