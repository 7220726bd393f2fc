/* A plain C program that uses only core/c_api/polymix.h: creates arrays, copies them, saves and loads a
 * .params file, and checks that bad input gives a clear error (kind + message, non-zero status).
 * Prints one line per check and exits non-zero if any failed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/c_api/polymix.h"

static int failures = 0;
static int checks = 0;

/* Records one check with its description. */
static void check(int condition, const char* what) {
  ++checks;
  if (!condition) ++failures;
  printf("%s: %s\n", condition ? "ok" : "FAILED", what);
  if (!condition && pmx_last_error_kind() != PMX_OK) {
    printf("  last error: %s: %s\n", pmx_error_kind_name(pmx_last_error_kind()), pmx_last_error_message());
  }
}

/* Writes `bytes` to `path`; returns 0 on success. */
static int write_file(const char* path, const void* bytes, size_t size) {
  FILE* file = fopen(path, "wb");
  if (!file) return -1;
  size_t written = fwrite(bytes, 1, size, file);
  fclose(file);
  return written == size ? 0 : -1;
}

/* A path in the test's scratch folder (TEST_TMPDIR under Bazel). */
static void scratch_path(char* out, size_t size, const char* name) {
  const char* folder = getenv("TEST_TMPDIR");
  snprintf(out, size, "%s/%s", folder ? folder : "/tmp", name);
}

static void test_version_and_testing_group(void) {
  int64_t echoed = 0;
  double echoed_double = 0;
  const char* text = NULL;
  int64_t length = 0;
  check(pmx_abi_version() == PMX_ABI_VERSION, "ABI version matches the header");
  check(pmx_testing_echo_int64(-1234567890123LL, &echoed) == 0 && echoed == -1234567890123LL, "int64 echo");
  check(pmx_testing_echo_double(0.1, &echoed_double) == 0 && echoed_double == 0.1, "double echo");
  check(pmx_testing_echo_string("héllo", &text, &length) == 0 && length == 6 && strcmp(text, "héllo") == 0,
        "string echo");
  check(pmx_testing_raise(PMX_ERROR_INDEX, "custom index error") != 0 &&
            pmx_last_error_kind() == PMX_ERROR_INDEX &&
            strcmp(pmx_last_error_message(), "custom index error") == 0,
        "testing_raise sets kind and message");
  check(strcmp(pmx_error_kind_name(PMX_ERROR_VALUE), "ValueError") == 0, "kind names");
}

static void test_create_copy_and_views(void) {
  const int64_t shape[2] = {2, 3};
  const float values[6] = {1, 2, 3, 4, 5, 6};
  float back[6] = {0};
  PmxNDArrayHandle a = NULL, b = NULL, row = NULL, as_int = NULL, reshaped = NULL;
  int ndim = 0, dtype = -1, device_type = 0, device_id = -1;
  const int64_t* dims = NULL;
  int32_t ints[6] = {0};

  check(pmx_ndarray_create_from_data(values, sizeof(values), shape, 2, PMX_DTYPE_FLOAT32, PMX_DEVICE_CPU, 0,
                                     &a) == 0,
        "create from host data");
  check(pmx_ndarray_get_shape(a, &ndim, &dims) == 0 && ndim == 2 && dims[0] == 2 && dims[1] == 3, "shape");
  check(pmx_ndarray_get_dtype(a, &dtype) == 0 && dtype == PMX_DTYPE_FLOAT32, "dtype");
  check(pmx_ndarray_get_device(a, &device_type, &device_id) == 0 && device_type == PMX_DEVICE_CPU &&
            device_id == 0,
        "device");
  check(pmx_ndarray_copy_to_device(a, PMX_DEVICE_CPU, 0, &b) == 0, "copy to a new array");
  check(pmx_ndarray_copy_to_host(b, back, sizeof(back)) == 0 && memcmp(back, values, sizeof(values)) == 0,
        "copied values");
  check(pmx_ndarray_at(a, 1, &row) == 0 && pmx_ndarray_copy_to_host(row, back, 3 * sizeof(float)) == 0 &&
            back[0] == 4 && back[2] == 6,
        "row view");
  check(pmx_ndarray_astype(a, PMX_DTYPE_INT32, &as_int) == 0 &&
            pmx_ndarray_copy_to_host(as_int, ints, sizeof(ints)) == 0 && ints[5] == 6,
        "astype int32");
  {
    const int64_t flat[1] = {6};
    const float nine = 9;
    check(pmx_ndarray_reshape(a, flat, 1, &reshaped) == 0 &&
              pmx_ndarray_copy_from_host(row, &nine, sizeof(nine)) != 0,
          "writing 4 bytes into a 12-byte row is refused");
    check(pmx_last_error_kind() == PMX_ERROR_VALUE, "... as a ValueError");
  }
  pmx_ndarray_free(a);
  pmx_ndarray_free(b);
  pmx_ndarray_free(row);
  pmx_ndarray_free(as_int);
  pmx_ndarray_free(reshaped);
  check(pmx_engine_wait_all() == 0, "engine drains");
}

static void test_save_and_load(void) {
  char path[512];
  const int64_t shape[1] = {4};
  const double values[4] = {0.5, -1.5, 2.25, 1e300};
  double back[4] = {0};
  PmxNDArrayHandle arrays[2] = {NULL, NULL};
  const char* names[2] = {"arg:weight", "aux:running_mean"};
  PmxNDArrayListHandle list = NULL;
  PmxNDArrayHandle loaded = NULL;
  const char* name = NULL;
  int count = 0;

  scratch_path(path, sizeof(path), "c_api_test.params");
  check(pmx_ndarray_create_from_data(values, sizeof(values), shape, 1, PMX_DTYPE_FLOAT64, PMX_DEVICE_CPU, 0,
                                     &arrays[0]) == 0 &&
            pmx_ndarray_create_full(shape, 1, PMX_DTYPE_FLOAT32, PMX_DEVICE_CPU, 0, 3.0, &arrays[1]) == 0,
        "create arrays to save");
  check(pmx_ndarray_save(path, 2, arrays, names) == 0, "save named list");
  check(pmx_ndarray_load(path, &list) == 0 && pmx_ndarray_list_size(list, &count) == 0 && count == 2,
        "load named list");
  check(pmx_ndarray_list_get_name(list, 1, &name) == 0 && name && strcmp(name, "aux:running_mean") == 0,
        "names survive");
  check(pmx_ndarray_list_get(list, 0, &loaded) == 0 &&
            pmx_ndarray_copy_to_host(loaded, back, sizeof(back)) == 0 && memcmp(back, values, sizeof(values)) == 0,
        "values survive");
  pmx_ndarray_free(loaded);
  pmx_ndarray_list_free(list);
  pmx_ndarray_free(arrays[0]);
  pmx_ndarray_free(arrays[1]);
}

static void test_errors(void) {
  char path[512];
  const unsigned char corrupt[12] = {0x12, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* magic, truncated */
  const unsigned char wrong_magic[16] = {0xde, 0xad, 0xbe, 0xef};
  PmxNDArrayListHandle list = NULL;
  PmxNDArrayHandle a = NULL, b = NULL, out = NULL;
  const int64_t shape_a[2] = {2, 3}, shape_b[2] = {3, 2}, bad_shape[2] = {4, 4};
  const float four[4] = {1, 2, 3, 4};

  scratch_path(path, sizeof(path), "corrupt.params");
  check(write_file(path, corrupt, sizeof(corrupt)) == 0, "write a truncated .params file");
  check(pmx_ndarray_load(path, &list) != 0 && list == NULL, "loading a truncated file fails");
  check(pmx_last_error_kind() == PMX_ERROR_VALUE && strlen(pmx_last_error_message()) > 0,
        "... with a ValueError and a message");
  printf("  message: %s\n", pmx_last_error_message());
  check(write_file(path, wrong_magic, sizeof(wrong_magic)) == 0 && pmx_ndarray_load(path, &list) != 0 &&
            pmx_last_error_kind() == PMX_ERROR_VALUE,
        "a file with the wrong magic is a ValueError");
  check(pmx_ndarray_load("/nonexistent/polymix.params", &list) != 0 && pmx_last_error_kind() != PMX_OK,
        "a missing file fails");

  check(pmx_ndarray_create_full(shape_a, 2, PMX_DTYPE_FLOAT32, PMX_DEVICE_CPU, 0, 1.0, &a) == 0 &&
            pmx_ndarray_create_full(shape_b, 2, PMX_DTYPE_FLOAT32, PMX_DEVICE_CPU, 0, 2.0, &b) == 0,
        "create mismatched arrays");
  check(pmx_ndarray_copy_into(a, b) != 0 && pmx_last_error_kind() == PMX_ERROR_VALUE,
        "copy between shapes (2, 3) and (3, 2) is a ValueError");
  printf("  message: %s\n", pmx_last_error_message());
  check(pmx_ndarray_reshape(a, bad_shape, 2, &out) != 0 && pmx_last_error_kind() == PMX_ERROR_VALUE,
        "reshape (2, 3) to (4, 4) is a ValueError");
  check(pmx_ndarray_create_from_data(four, sizeof(four), shape_a, 2, PMX_DTYPE_FLOAT32, PMX_DEVICE_CPU, 0,
                                     &out) != 0 &&
            pmx_last_error_kind() == PMX_ERROR_VALUE,
        "16 bytes for a (2, 3) float32 array is a ValueError");
  check(pmx_ndarray_create_full(shape_a, 2, 42, PMX_DEVICE_CPU, 0, 0.0, &out) != 0 &&
            pmx_last_error_kind() == PMX_ERROR_TYPE,
        "dtype flag 42 is a TypeError");
  {
    int built_with_cuda = 0;
    pmx_built_with_cuda(&built_with_cuda);
    if (!built_with_cuda) {
      check(pmx_ndarray_create_full(shape_a, 2, PMX_DTYPE_FLOAT32, PMX_DEVICE_GPU, 0, 0.0, &out) != 0 &&
                pmx_last_error_kind() == PMX_ERROR_NOT_IMPLEMENTED,
            "a GPU array without CUDA is a NotImplementedError");
    }
  }
  check(pmx_ndarray_free(NULL) == 0, "freeing NULL is a no-op");
  pmx_ndarray_free(a);
  pmx_ndarray_free(b);
}

int main(void) {
  test_version_and_testing_group();
  test_create_copy_and_views();
  test_save_and_load();
  test_errors();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
