// The C ABI's autograd group, used as a binding uses it: only polymix.h functions, ops through pmx_op_invoke.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/c_api/polymix.h"
#include "gtest/gtest.h"

namespace {

// Fails the test with the last error when a C call returns non-zero.
#define PMX_OK_CALL(call) ASSERT_EQ((call), 0) << #call << ": " << pmx_last_error_message()

PmxNDArrayHandle FromValues(const std::vector<double>& values) {
  const int64_t shape[1] = {static_cast<int64_t>(values.size())};
  PmxNDArrayHandle out = nullptr;
  EXPECT_EQ(pmx_ndarray_create_from_data(values.data(), values.size() * sizeof(double), shape, 1, PMX_DTYPE_FLOAT64,
                                         PMX_DEVICE_CPU, 0, &out),
            0);
  return out;
}

std::vector<double> ValuesOf(PmxNDArrayHandle array) {
  int64_t size = 0;
  EXPECT_EQ(pmx_ndarray_get_size(array, &size), 0);
  std::vector<double> values(size);
  EXPECT_EQ(pmx_ndarray_copy_to_host(array, values.data(), values.size() * sizeof(double)), 0)
      << pmx_last_error_message();
  return values;
}

// Runs a one-output op through pmx_op_invoke; returns a handle the caller frees, or NULL on failure.
PmxNDArrayHandle Op(const char* op, std::vector<PmxNDArrayHandle> inputs, const char* key = nullptr,
                    const char* value = nullptr, PmxNDArrayHandle into = nullptr) {
  int count = 0;
  PmxNDArrayHandle* outputs = nullptr;
  const int status = pmx_op_invoke(op, static_cast<int>(inputs.size()), inputs.data(), key ? 1 : 0, &key, &value,
                                   into ? 1 : 0, &into, &count, &outputs);
  if (status != 0) return nullptr;
  return outputs[0];
}

TEST(AutogradCApi, FlagsRoundTrip) {
  int flag = -1, previous = -1;
  PMX_OK_CALL(pmx_autograd_is_recording(&flag));
  EXPECT_EQ(flag, 0);
  PMX_OK_CALL(pmx_autograd_set_recording(1, &previous));
  EXPECT_EQ(previous, 0);
  PMX_OK_CALL(pmx_autograd_is_recording(&flag));
  EXPECT_EQ(flag, 1);
  PMX_OK_CALL(pmx_autograd_set_recording(0, nullptr));
  PMX_OK_CALL(pmx_autograd_set_training(1, &previous));
  EXPECT_EQ(previous, 0);
  PMX_OK_CALL(pmx_autograd_is_training(&flag));
  EXPECT_EQ(flag, 1);
  PMX_OK_CALL(pmx_autograd_set_training(0, &previous));
  EXPECT_EQ(previous, 1);
  EXPECT_NE(pmx_autograd_is_training(nullptr), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
}

TEST(AutogradCApi, BackwardGradAndBuffers) {
  PmxNDArrayHandle x = FromValues({1, -2, 3});
  PmxNDArrayHandle buffer = FromValues({9, 9, 9});
  const int reqs[1] = {PMX_GRAD_REQ_WRITE};
  PMX_OK_CALL(pmx_autograd_mark_variables(1, &x, &buffer, reqs));

  PMX_OK_CALL(pmx_autograd_set_recording(1, nullptr));
  PmxNDArrayHandle square = Op("elemwise_mul", {x, x});
  PmxNDArrayHandle cube = Op("elemwise_mul", {square, x});
  PmxNDArrayHandle head = Op("sum", {cube});
  PMX_OK_CALL(pmx_autograd_set_recording(0, nullptr));
  ASSERT_NE(head, nullptr) << pmx_last_error_message();

  // grad: 3 x^2, buffers untouched, graph kept for the backward below.
  int count = 0;
  PmxNDArrayHandle* grads = nullptr;
  PMX_OK_CALL(pmx_autograd_grad(1, &head, nullptr, 1, &x, 1, 0, 1, &count, &grads));
  ASSERT_EQ(count, 1);
  PmxNDArrayHandle grad = grads[0];
  EXPECT_EQ(ValuesOf(grad), (std::vector<double>{3, 12, 27}));
  EXPECT_EQ(ValuesOf(buffer), (std::vector<double>{9, 9, 9}));

  // backward with a head gradient of 2 writes 6 x^2 into the buffer the caller attached, and flags it fresh.
  int fresh = -1;
  PMX_OK_CALL(pmx_autograd_get_fresh_grad(x, &fresh));
  EXPECT_EQ(fresh, 0);
  PmxNDArrayHandle two = FromValues({2});
  PMX_OK_CALL(pmx_autograd_backward(1, &head, &two, 0, 0, 1));
  EXPECT_EQ(ValuesOf(buffer), (std::vector<double>{6, 24, 54}));
  PMX_OK_CALL(pmx_autograd_get_fresh_grad(x, &fresh));
  EXPECT_EQ(fresh, 1);
  PMX_OK_CALL(pmx_autograd_set_fresh_grad(x, 0));
  PMX_OK_CALL(pmx_autograd_get_fresh_grad(x, &fresh));
  EXPECT_EQ(fresh, 0);
  EXPECT_NE(pmx_autograd_set_fresh_grad(two, 1), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  PmxNDArrayHandle attached = nullptr;
  PMX_OK_CALL(pmx_autograd_get_grad(x, &attached));
  ASSERT_NE(attached, nullptr);
  EXPECT_EQ(ValuesOf(attached), (std::vector<double>{6, 24, 54}));

  // The graph was freed: a second backward fails clearly.
  EXPECT_NE(pmx_autograd_backward(1, &head, nullptr, 0, 0, 1), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(std::string(pmx_last_error_message()).find("retain_graph"), std::string::npos);

  // Not a variable: no gradient buffer.
  PmxNDArrayHandle none = reinterpret_cast<PmxNDArrayHandle>(1);
  PMX_OK_CALL(pmx_autograd_get_grad(two, &none));
  EXPECT_EQ(none, nullptr);

  for (PmxNDArrayHandle h : {x, buffer, square, cube, head, grad, two, attached}) pmx_ndarray_free(h);
}

TEST(AutogradCApi, GivenOutputsJoinTheGraphAndInPlaceWritesAreRejected) {
  PmxNDArrayHandle x = FromValues({1, 2});
  PMX_OK_CALL(pmx_autograd_mark_variables(1, &x, nullptr, nullptr));
  PmxNDArrayHandle target = FromValues({0, 0});
  PMX_OK_CALL(pmx_autograd_set_recording(1, nullptr));
  PmxNDArrayHandle same = Op("elemwise_mul", {x, x}, nullptr, nullptr, target);
  ASSERT_NE(same, nullptr) << pmx_last_error_message();
  // Writing into x (a variable) while recording is rejected.
  EXPECT_EQ(Op("_plus_scalar", {x}, "scalar", "1", x), nullptr);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(std::string(pmx_last_error_message()).find("already in a recorded graph"), std::string::npos);
  PmxNDArrayHandle head = Op("sum", {target});  // The caller's handle, not the returned one.
  PMX_OK_CALL(pmx_autograd_set_recording(0, nullptr));
  ASSERT_NE(head, nullptr);
  PMX_OK_CALL(pmx_autograd_backward(1, &head, nullptr, 0, 0, 1));
  PmxNDArrayHandle grad = nullptr;
  PMX_OK_CALL(pmx_autograd_get_grad(x, &grad));
  EXPECT_EQ(ValuesOf(grad), (std::vector<double>{2, 4}));
  for (PmxNDArrayHandle h : {x, target, same, head, grad}) pmx_ndarray_free(h);
}

TEST(AutogradCApi, TrainingModeReachesOpsAndDetachStopsRecording) {
  std::vector<double> ones(1000, 1.0);
  PmxNDArrayHandle x = FromValues(ones);
  PmxNDArrayHandle predicted = Op("Dropout", {x}, "p", "0.5");
  PMX_OK_CALL(pmx_autograd_set_training(1, nullptr));
  PmxNDArrayHandle trained = Op("Dropout", {x}, "p", "0.5");
  PMX_OK_CALL(pmx_autograd_set_training(0, nullptr));
  int zeros_predicted = 0, zeros_trained = 0;
  for (double v : ValuesOf(predicted)) zeros_predicted += v == 0;
  for (double v : ValuesOf(trained)) zeros_trained += v == 0;
  EXPECT_EQ(zeros_predicted, 0);
  EXPECT_GT(zeros_trained, 350);
  EXPECT_LT(zeros_trained, 650);

  PMX_OK_CALL(pmx_autograd_mark_variables(1, &x, nullptr, nullptr));
  PmxNDArrayHandle detached = nullptr;
  PMX_OK_CALL(pmx_autograd_detach(x, &detached));
  PMX_OK_CALL(pmx_autograd_set_recording(1, nullptr));
  PmxNDArrayHandle head = Op("sum", {detached});
  PMX_OK_CALL(pmx_autograd_set_recording(0, nullptr));
  EXPECT_NE(pmx_autograd_backward(1, &head, nullptr, 0, 0, 1), 0);
  EXPECT_NE(std::string(pmx_last_error_message()).find("not in a computational graph"), std::string::npos)
      << pmx_last_error_message();
  for (PmxNDArrayHandle h : {x, predicted, trained, detached, head}) pmx_ndarray_free(h);
}

TEST(AutogradCApi, SecondOrderThroughTheCApi) {
  PmxNDArrayHandle x = FromValues({0.5, 2});
  PMX_OK_CALL(pmx_autograd_mark_variables(1, &x, nullptr, nullptr));
  PMX_OK_CALL(pmx_autograd_set_recording(1, nullptr));
  PmxNDArrayHandle y = Op("sin", {x});
  PmxNDArrayHandle head = Op("sum", {y});
  int count = 0;
  PmxNDArrayHandle* grads = nullptr;
  PMX_OK_CALL(pmx_autograd_grad(1, &head, nullptr, 1, &x, 1, 1, 1, &count, &grads));
  PmxNDArrayHandle first = grads[0];  // cos x, in the graph
  PmxNDArrayHandle first_sum = Op("sum", {first});
  PMX_OK_CALL(pmx_autograd_set_recording(0, nullptr));
  PMX_OK_CALL(pmx_autograd_backward(1, &first_sum, nullptr, 0, 0, 1));
  PmxNDArrayHandle second = nullptr;
  PMX_OK_CALL(pmx_autograd_get_grad(x, &second));
  const std::vector<double> values = ValuesOf(second);
  EXPECT_NEAR(values[0], -std::sin(0.5), 1e-12);
  EXPECT_NEAR(values[1], -std::sin(2.0), 1e-12);
  for (PmxNDArrayHandle h : {x, y, head, first, first_sum, second}) pmx_ndarray_free(h);
}

TEST(AutogradCApi, BadArgumentsFailWithoutMarking) {
  PmxNDArrayHandle x = FromValues({1, 2});
  PmxNDArrayHandle wrong = FromValues({1, 2, 3});
  EXPECT_NE(pmx_autograd_mark_variables(1, &x, &wrong, nullptr), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  const int bad_req[1] = {2};
  EXPECT_NE(pmx_autograd_mark_variables(1, &x, nullptr, bad_req), 0);
  PmxNDArrayHandle grad = reinterpret_cast<PmxNDArrayHandle>(1);
  PMX_OK_CALL(pmx_autograd_get_grad(x, &grad));
  EXPECT_EQ(grad, nullptr) << "a failed mark changes nothing";
  EXPECT_NE(pmx_autograd_backward(1, nullptr, nullptr, 0, 0, 1), 0);
  EXPECT_NE(pmx_autograd_grad(1, &x, nullptr, 1, &x, 0, 0, 1, nullptr, nullptr), 0);
  pmx_ndarray_free(x);
  pmx_ndarray_free(wrong);
}

}  // namespace
