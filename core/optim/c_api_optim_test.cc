// The optim group of the C ABI, driven through polymix.h alone as a binding would.
#include <cmath>
#include <string>
#include <vector>

#include "core/c_api/polymix.h"
#include "gtest/gtest.h"

namespace {

// Asserts that a C ABI call succeeded, printing the last error otherwise.
#define ASSERT_OK(call) ASSERT_EQ((call), 0) << pmx_last_error_message()

// A float32 array of `shape` holding `values`.
PmxNDArrayHandle Array(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  PmxNDArrayHandle handle = nullptr;
  EXPECT_EQ(pmx_ndarray_create_from_data(values.data(), values.size() * sizeof(float), shape.data(),
                                         static_cast<int>(shape.size()), PMX_DTYPE_FLOAT32, PMX_DEVICE_CPU, 0, &handle),
            0)
      << pmx_last_error_message();
  return handle;
}

// The elements of a float32 array.
std::vector<float> Values(PmxNDArrayHandle array) {
  int64_t size = 0;
  EXPECT_EQ(pmx_ndarray_get_size(array, &size), 0);
  std::vector<float> values(size);
  EXPECT_EQ(pmx_ndarray_copy_to_host(array, values.data(), values.size() * sizeof(float)), 0)
      << pmx_last_error_message();
  return values;
}

TEST(CApiOptimTest, SgdWithMomentumAndSchedule) {
  const char* keys[] = {"learning_rate", "momentum", "wd"};
  const char* values[] = {"0.5", "0.9", "0"};
  PmxOptimizerHandle sgd = nullptr;
  ASSERT_OK(pmx_optimizer_create("SGD", 3, keys, values, &sgd));
  ASSERT_OK(pmx_optimizer_set_param(sgd, "rescale_grad", "0.5"));
  const char* rescale = nullptr;
  ASSERT_OK(pmx_optimizer_get_param(sgd, "rescale_grad", &rescale));
  EXPECT_STREQ(rescale, "0.5");

  const char* schedule_keys[] = {"step", "factor"};
  const char* schedule_values[] = {"1", "0.5"};
  PmxLRSchedulerHandle schedule = nullptr;
  ASSERT_OK(pmx_lr_scheduler_create("factor", 2, schedule_keys, schedule_values, &schedule));
  ASSERT_OK(pmx_optimizer_set_lr_scheduler(sgd, schedule));
  ASSERT_OK(pmx_lr_scheduler_free(schedule));  // The optimizer keeps it.

  PmxNDArrayHandle weight = Array({1, 2}, {2});
  PmxNDArrayHandle grad = Array({2, 4}, {2});
  PmxOptimizerStateHandle state = nullptr;
  ASSERT_OK(pmx_optimizer_create_state(sgd, 0, weight, &state));
  // Step 1 (lr 0.5): mom = -0.5 * 0.5 * g; step 2 (lr 0.25): mom = 0.9 * mom - 0.25 * 0.5 * g.
  ASSERT_OK(pmx_optimizer_update(sgd, 0, weight, grad, state));
  ASSERT_OK(pmx_optimizer_update(sgd, 0, weight, grad, state));
  const std::vector<float> w = Values(weight);
  for (int i = 0; i < 2; ++i) {
    const double g = i == 0 ? 2 : 4, m1 = -0.25 * g, m2 = 0.9 * m1 - 0.125 * g;
    EXPECT_NEAR(w[i], (i == 0 ? 1 : 2) + m1 + m2, 1e-6);
  }
  int64_t num_update = 0;
  ASSERT_OK(pmx_optimizer_get_num_update(sgd, &num_update));
  EXPECT_EQ(num_update, 2);
  double lr = 0;
  ASSERT_OK(pmx_optimizer_get_learning_rate(sgd, &lr));
  EXPECT_DOUBLE_EQ(lr, 0.25);

  int count = 0;
  PmxNDArrayHandle* arrays = nullptr;
  PmxNDArrayHandle weight32 = nullptr;
  ASSERT_OK(pmx_optimizer_state_get_arrays(state, &count, &arrays, &weight32));
  ASSERT_EQ(count, 1);
  EXPECT_EQ(weight32, nullptr);
  EXPECT_NEAR(Values(arrays[0])[0], 0.9 * -0.5 - 0.25, 1e-6);
  ASSERT_OK(pmx_ndarray_free(arrays[0]));

  // A learning rate cannot be set while a schedule decides it.
  EXPECT_NE(pmx_optimizer_set_param(sgd, "learning_rate", "0.1"), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);

  ASSERT_OK(pmx_optimizer_state_free(state));
  ASSERT_OK(pmx_optimizer_free(sgd));
  ASSERT_OK(pmx_ndarray_free(weight));
  ASSERT_OK(pmx_ndarray_free(grad));
}

TEST(CApiOptimTest, MultipliersAndParamNames) {
  PmxOptimizerHandle sgd = nullptr;
  const char* keys[] = {"learning_rate", "wd"};
  const char* values[] = {"1", "0.5"};
  ASSERT_OK(pmx_optimizer_create("sgd", 2, keys, values, &sgd));
  const int indices[] = {0, 1};
  const char* names[] = {"fc_weight", "fc_bias"};
  ASSERT_OK(pmx_optimizer_set_param_names(sgd, 2, indices, names));
  const char* lr_names[] = {"fc_weight"};
  const double lr_mults[] = {0.1};
  ASSERT_OK(pmx_optimizer_set_lr_mult(sgd, 1, lr_names, lr_mults, 0, nullptr, nullptr));
  // Index 0: lr 0.1, wd 0.5: w = (1 - 0.05) * 1 - 0.1 * 1. Index 1 (a bias): lr 1, no wd: w = 1 - 1.
  for (int index : {0, 1}) {
    PmxNDArrayHandle weight = Array({1}, {1}), grad = Array({1}, {1});
    PmxOptimizerStateHandle state = nullptr;
    ASSERT_OK(pmx_optimizer_create_state(sgd, index, weight, &state));
    ASSERT_OK(pmx_optimizer_update(sgd, index, weight, grad, state));
    EXPECT_NEAR(Values(weight)[0], index == 0 ? 0.85 : 0.0, 1e-6);
    pmx_optimizer_state_free(state);
    pmx_ndarray_free(weight);
    pmx_ndarray_free(grad);
  }
  pmx_optimizer_free(sgd);
}

TEST(CApiOptimTest, InitializerJsonAndApply) {
  PmxInitializerHandle xavier = nullptr;
  ASSERT_OK(pmx_initializer_create("[\"xavier\", {\"magnitude\": 2.34}]", 0, nullptr, nullptr, &xavier));
  const char* json = nullptr;
  ASSERT_OK(pmx_initializer_dumps(xavier, &json));
  EXPECT_STREQ(json, "[\"xavier\", {\"rnd_type\": \"uniform\", \"factor_type\": \"avg\", \"magnitude\": 2.34}]");

  ASSERT_OK(pmx_random_seed(7));
  PmxNDArrayHandle weight = Array(std::vector<float>(12, 0), {3, 4});
  ASSERT_OK(pmx_initializer_apply(xavier, "fc_weight", nullptr, weight));
  const double bound = std::sqrt(2.34 / 3.5);
  for (float value : Values(weight)) EXPECT_TRUE(value >= -bound && value < bound && value != 0) << value;
  // Same seed, same draws.
  ASSERT_OK(pmx_random_seed(7));
  PmxNDArrayHandle again = Array(std::vector<float>(12, 0), {3, 4});
  ASSERT_OK(pmx_initializer_apply(xavier, "fc_weight", "", again));
  EXPECT_EQ(Values(again), Values(weight));
  // The __init__ attribute decides; a bias gets zeros; an unknown name fails.
  ASSERT_OK(pmx_initializer_apply(xavier, "fc_weight", "[\"one\", {}]", again));
  EXPECT_EQ(Values(again), std::vector<float>(12, 1));
  ASSERT_OK(pmx_initializer_apply(xavier, "fc_bias", nullptr, again));
  EXPECT_EQ(Values(again), std::vector<float>(12, 0));
  EXPECT_NE(pmx_initializer_apply(xavier, "fc_scale", nullptr, again), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);

  PmxInitializerHandle constant = nullptr;
  const char* keys[] = {"value"};
  const char* values[] = {"3"};
  ASSERT_OK(pmx_initializer_create("constant", 1, keys, values, &constant));
  const char* patterns[] = {"fc", ".*"};
  PmxInitializerHandle parts[] = {constant, xavier};
  PmxInitializerHandle mixed = nullptr;
  ASSERT_OK(pmx_initializer_create_mixed(2, patterns, parts, &mixed));
  ASSERT_OK(pmx_initializer_free(constant));  // The mixed initializer keeps it.
  ASSERT_OK(pmx_initializer_apply(mixed, "fc_weight", nullptr, again));
  EXPECT_EQ(Values(again), std::vector<float>(12, 3));
  EXPECT_NE(pmx_initializer_dumps(mixed, &json), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_NOT_IMPLEMENTED);

  pmx_initializer_free(mixed);
  pmx_initializer_free(xavier);
  pmx_ndarray_free(weight);
  pmx_ndarray_free(again);
}

TEST(CApiOptimTest, MetricsAccumulateAndReset) {
  PmxMetricHandle composite = nullptr, accuracy = nullptr, ce = nullptr;
  ASSERT_OK(pmx_metric_create("composite", 0, nullptr, nullptr, &composite));
  ASSERT_OK(pmx_metric_create("acc", 0, nullptr, nullptr, &accuracy));
  const char* keys[] = {"eps"};
  const char* values[] = {"0"};
  ASSERT_OK(pmx_metric_create("ce", 1, keys, values, &ce));
  ASSERT_OK(pmx_metric_composite_add(composite, accuracy));
  ASSERT_OK(pmx_metric_composite_add(composite, ce));
  EXPECT_NE(pmx_metric_composite_add(accuracy, ce), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_TYPE);

  PmxNDArrayHandle labels = Array({0, 1}, {2}), preds = Array({0.8f, 0.2f, 0.6f, 0.4f}, {2, 2});
  ASSERT_OK(pmx_metric_update(composite, 1, &labels, 1, &preds));
  int count = 0;
  const char* const* names = nullptr;
  const double* results = nullptr;
  ASSERT_OK(pmx_metric_get(composite, &count, &names, &results));
  ASSERT_EQ(count, 2);
  EXPECT_STREQ(names[0], "accuracy");
  EXPECT_STREQ(names[1], "cross-entropy");
  EXPECT_DOUBLE_EQ(results[0], 0.5);
  EXPECT_NEAR(results[1], -(std::log(0.8) + std::log(0.4)) / 2, 1e-6);
  // The child's own handle sees the composite's updates.
  ASSERT_OK(pmx_metric_get(accuracy, &count, &names, &results));
  EXPECT_DOUBLE_EQ(results[0], 0.5);
  ASSERT_OK(pmx_metric_reset(composite));
  ASSERT_OK(pmx_metric_get(accuracy, &count, &names, &results));
  EXPECT_TRUE(std::isnan(results[0]));
  EXPECT_NE(pmx_metric_update(accuracy, 1, &labels, 0, nullptr), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);

  pmx_metric_free(ce);
  pmx_metric_free(accuracy);
  pmx_metric_free(composite);
  pmx_ndarray_free(labels);
  pmx_ndarray_free(preds);
}

TEST(CApiOptimTest, ErrorsNameTheProblem) {
  PmxOptimizerHandle optimizer = nullptr;
  EXPECT_NE(pmx_optimizer_create("sgdd", 0, nullptr, nullptr, &optimizer), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(std::string(pmx_last_error_message()).find("cannot find optimizer 'sgdd'"), std::string::npos);
  const char* keys[] = {"lr"};
  const char* values[] = {"0.1"};
  EXPECT_NE(pmx_optimizer_create("adam", 1, keys, values, &optimizer), 0);
  EXPECT_NE(std::string(pmx_last_error_message()).find("unknown parameter 'lr'"), std::string::npos);
  PmxLRSchedulerHandle schedule = nullptr;
  EXPECT_NE(pmx_lr_scheduler_create("poly", 0, nullptr, nullptr, &schedule), 0);
  EXPECT_NE(std::string(pmx_last_error_message()).find("max_update"), std::string::npos);
  PmxMetricHandle metric = nullptr;
  EXPECT_NE(pmx_metric_create("auc", 0, nullptr, nullptr, &metric), 0);
  EXPECT_EQ(pmx_last_error_kind(), PMX_ERROR_VALUE);
  EXPECT_NE(pmx_optimizer_update(nullptr, 0, nullptr, nullptr, nullptr), 0);
  EXPECT_EQ(pmx_optimizer_free(nullptr), 0);
  EXPECT_EQ(pmx_metric_free(nullptr), 0);
}

}  // namespace
