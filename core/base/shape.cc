#include "core/base/shape.h"

#include "absl/strings/str_join.h"
#include "core/base/error.h"

namespace pmx {

Shape::Shape(std::initializer_list<int64_t> dims) : Shape(absl::MakeConstSpan(dims.begin(), dims.size())) {}

Shape::Shape(absl::Span<const int64_t> dims) : dims_(dims.begin(), dims.end()) {
  for (size_t i = 0; i < dims_.size(); ++i) {
    PMX_CHECK(dims_[i] >= 0, kValueError, "shape dimension %d is %d: expected a non-negative size",
              static_cast<int>(i), dims_[i]);
  }
}

int64_t Shape::size() const {
  int64_t size = 1;
  for (int64_t dim : dims_) size *= dim;
  return size;
}

int64_t Shape::dim(int axis) const { return dims_[NormalizeAxis(axis, ndim(), "Shape::dim")]; }

std::vector<int64_t> Shape::Strides() const {
  std::vector<int64_t> strides(dims_.size());
  int64_t stride = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= dims_[i];
  }
  return strides;
}

std::string Shape::ToString() const {
  if (dims_.size() == 1) return absl::StrFormat("(%d,)", dims_[0]);
  return "(" + absl::StrJoin(dims_, ", ") + ")";
}

int NormalizeAxis(int axis, int ndim, const char* op) {
  const int limit = ndim == 0 ? 1 : ndim;
  PMX_CHECK(axis >= -limit && axis < limit, kIndexError,
            "[%s] axis %d is out of range: expected -%d <= axis < %d", op, axis, limit, limit);
  return axis < 0 ? axis + limit : axis;
}

}  // namespace pmx
