#include "core/ops/internal/elementwise.h"

#include <algorithm>

namespace pmx {
namespace ops {

bool Accepts(DTypes allowed, DType dtype) {
  switch (allowed) {
    case DTypes::kFloat: return IsFloatingPoint(dtype);
    case DTypes::kNumeric: return dtype != DType::kBool;
    case DTypes::kAll: return true;
  }
  return false;
}

void CheckDType(const char* op, DTypes allowed, DType dtype) {
  static const char* const kExpected[] = {"a floating-point dtype (float16, bfloat16, float32, float64)",
                                          "a numeric dtype (not bool)", "any dtype"};
  PMX_CHECK(Accepts(allowed, dtype), kTypeError, "[%s] dtype %s is not supported: expected %s", op,
            DTypeName(dtype), kExpected[static_cast<int>(allowed)]);
}

BroadcastIndexer::BroadcastIndexer(const Shape& a, const Shape& b, const Shape& out) {
  const int ndim = out.ndim();
  out_dims_.assign(out.dims().begin(), out.dims().end());
  a_strides_.assign(ndim, 0);
  b_strides_.assign(ndim, 0);
  auto fill = [&](const Shape& in, std::vector<int64_t>* strides) {
    int64_t stride = 1;
    for (int d = in.ndim() - 1; d >= 0; --d) {
      const int out_d = d + ndim - in.ndim();
      (*strides)[out_d] = in[d] == 1 ? 0 : stride;
      stride *= in[d];
    }
  };
  fill(a, &a_strides_);
  fill(b, &b_strides_);
}

bool InferSameShape(const char* op, std::vector<MaybeShape>* inputs, std::vector<MaybeShape>* outputs) {
  MaybeShape known;
  for (auto* list : {inputs, outputs}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const MaybeShape& shape = (*list)[i];
      if (!shape) continue;
      if (!known) {
        known = shape;
      } else {
        PMX_CHECK(*shape == *known, kValueError,
                  "[%s] shapes must be equal: %s %d has shape %s, expected %s", op,
                  list == inputs ? "input" : "output", static_cast<int>(i), shape->ToString(), known->ToString());
      }
    }
  }
  if (!known) return false;
  for (auto& shape : *inputs) shape = known;
  for (auto& shape : *outputs) shape = known;
  return true;
}

Shape BroadcastShapes(const char* op, const Shape& a, const Shape& b) {
  const int ndim = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> dims(ndim);
  for (int d = 0; d < ndim; ++d) {
    const int da = d - (ndim - a.ndim()), db = d - (ndim - b.ndim());
    const int64_t x = da >= 0 ? a[da] : 1, y = db >= 0 ? b[db] : 1;
    PMX_CHECK(x == y || x == 1 || y == 1, kValueError,
              "[%s] shapes %s and %s cannot be broadcast together (axis %d: %d vs %d)", op, a.ToString(),
              b.ToString(), d, x, y);
    dims[d] = x == 1 ? y : x;
  }
  return Shape(dims);
}

bool InferBroadcastShape(const char* op, std::vector<MaybeShape>* inputs, std::vector<MaybeShape>* outputs) {
  if (!(*inputs)[0] || !(*inputs)[1]) return false;
  const Shape out = BroadcastShapes(op, *(*inputs)[0], *(*inputs)[1]);
  if ((*outputs)[0]) {
    PMX_CHECK(*(*outputs)[0] == out, kValueError, "[%s] output has shape %s, expected %s", op,
              (*outputs)[0]->ToString(), out.ToString());
  }
  (*outputs)[0] = out;
  return true;
}

bool InferSameDType(const char* op, DTypes allowed, std::vector<MaybeDType>* inputs,
                    std::vector<MaybeDType>* outputs) {
  MaybeDType known;
  for (auto* list : {inputs, outputs}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const MaybeDType& dtype = (*list)[i];
      if (!dtype) continue;
      if (!known) {
        known = dtype;
      } else {
        PMX_CHECK(*dtype == *known, kTypeError, "[%s] %s %d has dtype %s, expected %s (all operands alike)",
                  op, list == inputs ? "input" : "output", static_cast<int>(i), DTypeName(*dtype),
                  DTypeName(*known));
      }
    }
  }
  if (!known) return false;
  CheckDType(op, allowed, *known);
  for (auto& dtype : *inputs) dtype = known;
  for (auto& dtype : *outputs) dtype = known;
  return true;
}

}  // namespace ops
}  // namespace pmx
