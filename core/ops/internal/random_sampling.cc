#include "core/ops/internal/random_sampling.h"

#include "absl/strings/str_join.h"
#include "core/base/error.h"

namespace pmx {
namespace ops {

ParamDef SampleDTypeParam() {
  return {"dtype", ParamType::kEnum, "None", false, false, {"None", "float16", "float32", "float64"},
          "DType of the output in case it can't be inferred; float32 when None."};
}

DType SampleOutputDType(const char* op, const std::string& dtype_param, MaybeDType inferred, DType default_dtype,
                        const std::vector<DType>& allowed) {
  DType dtype = inferred.value_or(default_dtype);
  if (dtype_param != "None") {
    const DType requested = DTypeFromName(dtype_param);
    PMX_CHECK(!inferred || *inferred == requested, kTypeError,
              "[%s] the output was inferred as %s but dtype=%s was requested", op, DTypeName(*inferred),
              dtype_param);
    dtype = requested;
  }
  for (DType candidate : allowed) {
    if (candidate == dtype) return dtype;
  }
  Throw(ErrorKind::kTypeError, "[%s] output dtype %s is not supported: expected one of %s", op, DTypeName(dtype),
        absl::StrJoin(allowed, ", ", [](std::string* out, DType d) { out->append(DTypeName(d)); }));
}

Shape SampleShapeParam(const char* op, const std::vector<int64_t>& dims) {
  for (int64_t dim : dims) {
    PMX_CHECK(dim >= 0, kValueError, "[%s] shape (%s) has a negative dimension", op, absl::StrJoin(dims, ", "));
  }
  return Shape(dims);
}

}  // namespace ops
}  // namespace pmx
