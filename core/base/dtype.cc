#include "core/base/dtype.h"

#include "core/base/error.h"

namespace pmx {
namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
  bool floating;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kFloat32, "float32", 4, true}, {DType::kFloat64, "float64", 8, true},
    {DType::kFloat16, "float16", 2, true}, {DType::kBfloat16, "bfloat16", 2, true},
    {DType::kUint8, "uint8", 1, false},    {DType::kInt8, "int8", 1, false},
    {DType::kInt32, "int32", 4, false},    {DType::kInt64, "int64", 8, false},
    {DType::kBool, "bool", 1, false},
};

const DTypeInfo& Info(DType dtype) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.dtype == dtype) return info;
  }
  Throw(ErrorKind::kTypeError, "unsupported dtype flag %d", static_cast<int>(dtype));
}

}  // namespace

size_t DTypeSize(DType dtype) { return Info(dtype).size; }

const char* DTypeName(DType dtype) { return Info(dtype).name; }

bool IsFloatingPoint(DType dtype) { return Info(dtype).floating; }

bool IsValidDTypeFlag(int32_t flag) {
  for (const DTypeInfo& info : kDTypes) {
    if (static_cast<int32_t>(info.dtype) == flag) return true;
  }
  return false;
}

DType DTypeFromFlag(int32_t flag) {
  PMX_CHECK(IsValidDTypeFlag(flag), kTypeError,
            "unsupported dtype flag %d: expected one of 0-7 or 12 (MXNet type flags)", flag);
  return static_cast<DType>(flag);
}

DType DTypeFromName(std::string_view name) {
  for (const DTypeInfo& info : kDTypes) {
    if (name == info.name) return info.dtype;
  }
  // NumPy's spellings: "float" and "double" are binary64, "int" is int64 on LP64 systems.
  if (name == "float" || name == "float_" || name == "double") return DType::kFloat64;
  if (name == "half") return DType::kFloat16;
  if (name == "int" || name == "long") return DType::kInt64;
  if (name == "bool_") return DType::kBool;
  Throw(ErrorKind::kTypeError,
        "unknown dtype '%s': expected float16, bfloat16, float32, float64, uint8, int8, int32, int64 or bool",
        std::string(name));
}

}  // namespace pmx
