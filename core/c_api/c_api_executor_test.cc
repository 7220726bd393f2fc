// The executor group of the C ABI, through polymix.h only: simple_bind / bind, forward and backward with values
// worked out by hand, array groups by name, copy_params_from, reshape, cached ops with and without autograd
// recording, and the error path.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/c_api/polymix.h"

namespace {

std::string LastError() { return pmx_last_error_message(); }

PmxNDArrayHandle Array(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  PmxNDArrayHandle handle = nullptr;
  EXPECT_EQ(pmx_ndarray_create_from_data(values.data(), values.size() * sizeof(float), shape.data(),
                                         static_cast<int>(shape.size()), PMX_DTYPE_FLOAT32, PMX_DEVICE_CPU, 0, &handle),
            0)
      << LastError();
  return handle;
}

std::vector<float> Values(PmxNDArrayHandle array) {
  int64_t size = 0;
  EXPECT_EQ(pmx_ndarray_get_size(array, &size), 0);
  std::vector<float> values(size);
  EXPECT_EQ(pmx_ndarray_copy_to_host(array, values.data(), values.size() * sizeof(float)), 0) << LastError();
  return values;
}

// y = FullyConnected(data, num_hidden=2, no_bias) named "fc": arguments data, fc_weight.
PmxSymbolHandle Fc() {
  PmxSymbolHandle data = nullptr, fc = nullptr;
  EXPECT_EQ(pmx_symbol_create_variable("data", 0, nullptr, nullptr, &data), 0);
  const char* keys[] = {"num_hidden", "no_bias"};
  const char* values[] = {"2", "True"};
  EXPECT_EQ(pmx_symbol_create_op("FullyConnected", 1, &data, 0, nullptr, nullptr, 2, keys, values, "fc", 0, nullptr,
                                 nullptr, &fc),
            0)
      << LastError();
  pmx_symbol_free(data);
  return fc;
}

TEST(CApiExecutorTest, SimpleBindForwardBackwardByName) {
  PmxSymbolHandle fc = Fc();
  const char* shape_names[] = {"data"};
  const int ndims[] = {2};
  const int64_t dims[] = {3, 2};
  const char* req_names[] = {"data"};
  const int reqs[] = {PMX_GRAD_REQ_NULL};
  PmxExecutorHandle exec = nullptr;
  ASSERT_EQ(pmx_executor_simple_bind(fc, PMX_DEVICE_CPU, 0, 1, shape_names, ndims, dims, 0, nullptr, nullptr, 1,
                                     req_names, reqs, PMX_GRAD_REQ_WRITE, &exec),
            0)
      << LastError();
  int count = 0;
  const char* const* names = nullptr;
  ASSERT_EQ(pmx_executor_array_names(exec, PMX_EXECUTOR_ARGS, &count, &names), 0);
  ASSERT_EQ(count, 2);
  EXPECT_EQ(std::string(names[1]), "fc_weight");
  ASSERT_EQ(pmx_executor_array_names(exec, PMX_EXECUTOR_OUTPUTS, &count, &names), 0);
  EXPECT_EQ(std::string(names[0]), "fc_output");

  // data rows (1, 2), (3, 4), (5, 6); weight rows (1, 0), (1, -1): y = data @ weight.T.
  PmxNDArrayHandle data = Array({1, 2, 3, 4, 5, 6}, {3, 2}), weight = Array({1, 0, 1, -1}, {2, 2});
  const char* arg_names[] = {"data", "fc_weight"};
  PmxNDArrayHandle arg_values[] = {data, weight};
  ASSERT_EQ(pmx_executor_copy_params_from(exec, 2, arg_names, arg_values, 0, nullptr, nullptr, 0), 0) << LastError();
  ASSERT_EQ(pmx_executor_forward(exec, 1), 0) << LastError();
  PmxNDArrayHandle output = nullptr;
  ASSERT_EQ(pmx_executor_get_array(exec, PMX_EXECUTOR_OUTPUTS, "fc_output", &output), 0) << LastError();
  EXPECT_EQ(Values(output), (std::vector<float>{1, -1, 3, -1, 5, -1}));

  // Head gradient of ones: d weight[j] = sum of the data rows.
  PmxNDArrayHandle head = Array({1, 1, 1, 1, 1, 1}, {3, 2});
  ASSERT_EQ(pmx_executor_backward(exec, 1, &head, 1), 0) << LastError();
  PmxNDArrayHandle grad = nullptr, data_grad = nullptr;
  ASSERT_EQ(pmx_executor_get_array(exec, PMX_EXECUTOR_GRADS, "fc_weight", &grad), 0);
  EXPECT_EQ(Values(grad), (std::vector<float>{9, 12, 9, 12}));
  ASSERT_EQ(pmx_executor_get_array(exec, PMX_EXECUTOR_GRADS, "data", &data_grad), 0);
  EXPECT_EQ(data_grad, nullptr);  // grad_req null.
  PmxNDArrayHandle* arrays = nullptr;
  ASSERT_EQ(pmx_executor_arrays(exec, PMX_EXECUTOR_GRADS, &count, &arrays), 0);
  ASSERT_EQ(count, 2);
  EXPECT_EQ(arrays[0], nullptr);
  pmx_ndarray_free(arrays[1]);
  int64_t memory[2] = {-1, -1};
  ASSERT_EQ(pmx_executor_memory(exec, memory), 0);
  EXPECT_GE(memory[1], memory[0]);

  // Reshape to one row: the weight is shared.
  const int64_t one_row[] = {1, 2};
  PmxExecutorHandle small = nullptr;
  ASSERT_EQ(pmx_executor_reshape(exec, 1, shape_names, ndims, one_row, 0, 0, &small), 0) << LastError();
  PmxNDArrayHandle small_out = nullptr;
  ASSERT_EQ(pmx_executor_forward(small, 0), 0);
  ASSERT_EQ(pmx_executor_get_array(small, PMX_EXECUTOR_OUTPUTS, "fc_output", &small_out), 0);
  EXPECT_EQ(Values(small_out), (std::vector<float>{1, -1}));  // The first row of the old data, reused.

  // Errors: a missing head gradient, an unknown group, an unknown name.
  EXPECT_NE(pmx_executor_backward(exec, 0, nullptr, 1), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(LastError().find("head gradient"), std::string::npos) << LastError();
  EXPECT_NE(pmx_executor_arrays(exec, 7, &count, &arrays), 0);
  EXPECT_NE(pmx_executor_get_array(exec, PMX_EXECUTOR_ARGS, "nope", &grad), 0);
  EXPECT_EQ(pmx_executor_free(nullptr), 0);

  for (PmxNDArrayHandle h : {data, weight, output, head, grad, small_out}) pmx_ndarray_free(h);
  pmx_executor_free(small);
  pmx_executor_free(exec);
  pmx_symbol_free(fc);
}

TEST(CApiExecutorTest, BindUsesTheGivenArrays) {
  PmxSymbolHandle fc = Fc();
  PmxNDArrayHandle args[] = {Array({1, 2}, {1, 2}), Array({2, 0, 0, 3}, {2, 2})};
  PmxNDArrayHandle grads[] = {nullptr, Array({0, 0, 0, 0}, {2, 2})};
  const int reqs[] = {PMX_GRAD_REQ_NULL, PMX_GRAD_REQ_ADD};
  PmxExecutorHandle exec = nullptr;
  ASSERT_EQ(pmx_executor_bind(fc, PMX_DEVICE_CPU, 0, 2, args, grads, reqs, 0, nullptr, &exec), 0) << LastError();
  PmxNDArrayHandle head = Array({1, 1}, {1, 2});
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(pmx_executor_forward(exec, 1), 0);
    ASSERT_EQ(pmx_executor_backward(exec, 1, &head, 1), 0) << LastError();
  }
  EXPECT_EQ(Values(grads[1]), (std::vector<float>{2, 4, 2, 4}));  // grad_req add, twice, into our own array.
  const int bad_reqs[] = {PMX_GRAD_REQ_NULL, 2};
  PmxExecutorHandle bad = nullptr;
  EXPECT_NE(pmx_executor_bind(fc, PMX_DEVICE_CPU, 0, 2, args, grads, bad_reqs, 0, nullptr, &bad), 0);
  EXPECT_NE(pmx_executor_bind(fc, PMX_DEVICE_CPU, 0, 1, args, nullptr, nullptr, 0, nullptr, &bad), 0);
  EXPECT_NE(LastError().find("argument"), std::string::npos) << LastError();
  for (PmxNDArrayHandle h : {args[0], args[1], grads[1], head}) pmx_ndarray_free(h);
  pmx_executor_free(exec);
  pmx_symbol_free(fc);
}

TEST(CApiExecutorTest, CachedOpWithAndWithoutRecording) {
  PmxSymbolHandle fc = Fc();
  const char* keys[] = {"static_alloc", "static_shape"};
  const char* values[] = {"true", "true"};
  PmxCachedOpHandle op = nullptr;
  ASSERT_EQ(pmx_cached_op_create(fc, 2, keys, values, &op), 0) << LastError();
  int count = 0;
  const char* const* names = nullptr;
  ASSERT_EQ(pmx_cached_op_input_names(op, &count, &names), 0);
  ASSERT_EQ(count, 2);
  EXPECT_EQ(std::string(names[0]), "data");
  PmxNDArrayHandle inputs[] = {Array({1, 2, 3, 4}, {2, 2}), Array({1, 0, 1, -1}, {2, 2})};
  PmxNDArrayHandle* outputs = nullptr;
  ASSERT_EQ(pmx_cached_op_invoke(op, 2, inputs, &count, &outputs), 0) << LastError();
  ASSERT_EQ(count, 1);
  PmxNDArrayHandle first = outputs[0];
  EXPECT_EQ(Values(first), (std::vector<float>{1, -1, 3, -1}));

  // Recorded: the weight is a variable; the call is one node of the graph.
  ASSERT_EQ(pmx_autograd_mark_variables(1, &inputs[1], nullptr, nullptr), 0) << LastError();
  int previous = 0;
  ASSERT_EQ(pmx_autograd_set_recording(1, &previous), 0);
  ASSERT_EQ(pmx_cached_op_invoke(op, 2, inputs, &count, &outputs), 0) << LastError();
  PmxNDArrayHandle recorded = outputs[0];
  ASSERT_EQ(pmx_autograd_set_recording(0, &previous), 0);
  ASSERT_EQ(pmx_autograd_backward(1, &recorded, nullptr, 0, 0, 1), 0) << LastError();
  PmxNDArrayHandle grad = nullptr;
  ASSERT_EQ(pmx_autograd_get_grad(inputs[1], &grad), 0);
  EXPECT_EQ(Values(grad), (std::vector<float>{4, 6, 4, 6}));

  EXPECT_NE(pmx_cached_op_invoke(op, 1, inputs, &count, &outputs), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  const char* bad_keys[] = {"static_everything"};
  PmxCachedOpHandle bad = nullptr;
  EXPECT_NE(pmx_cached_op_create(fc, 1, bad_keys, values, &bad), 0);
  EXPECT_NE(LastError().find("static_everything"), std::string::npos) << LastError();
  for (PmxNDArrayHandle h : {inputs[0], inputs[1], first, recorded, grad}) pmx_ndarray_free(h);
  pmx_cached_op_free(op);
  pmx_symbol_free(fc);
}

}  // namespace
