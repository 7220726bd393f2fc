// Shape: the dimensions of an array, int64 each, row-major.
#ifndef POLYMIX_CORE_BASE_SHAPE_H_
#define POLYMIX_CORE_BASE_SHAPE_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"

namespace pmx {

// The dimensions of an array. A Shape with no dimensions is a scalar (one element).
class Shape {
 public:
  // A scalar shape (ndim 0, size 1).
  Shape() = default;
  // A shape with the given dimensions; throws ValueError for a negative dimension.
  Shape(std::initializer_list<int64_t> dims);
  // A shape with the given dimensions; throws ValueError for a negative dimension.
  explicit Shape(absl::Span<const int64_t> dims);

  // Number of dimensions.
  int ndim() const { return static_cast<int>(dims_.size()); }
  // Number of elements: the product of the dimensions (1 for a scalar).
  int64_t size() const;
  // Dimension `axis`; negative axes count from the end. Throws IndexError when out of range.
  int64_t dim(int axis) const;
  // Dimension `axis` without a range check.
  int64_t operator[](int axis) const { return dims_[axis]; }
  // The dimensions as a span.
  absl::Span<const int64_t> dims() const { return dims_; }
  // Row-major strides in elements.
  std::vector<int64_t> Strides() const;
  // "(2, 3)" as NumPy prints it; "()" for a scalar, "(5,)" for one dimension.
  std::string ToString() const;

  // Whether two shapes have the same dimensions.
  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }
  // Whether two shapes differ.
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

 private:
  absl::InlinedVector<int64_t, 6> dims_;
};

// Normalises `axis` (negative counts from the end) against `ndim`; throws IndexError naming `op`.
int NormalizeAxis(int axis, int ndim, const char* op);

}  // namespace pmx

#endif  // POLYMIX_CORE_BASE_SHAPE_H_
