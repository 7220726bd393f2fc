#include "core/ops/internal/strided.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/ops/internal/elementwise.h"

namespace pmx {
namespace ops {
namespace {

// Calls fn(row, base) for every row of `view` (all dimensions but the last), where `base` is the element
// offset of the row's first position; rows run on several threads when `parallel`.
template <typename Fn>
void ForEachRow(const StridedView& view, bool parallel, Fn&& fn) {
  const int ndim = static_cast<int>(view.dims.size());
  const int64_t inner = ndim == 0 ? 1 : view.dims[ndim - 1];
  const int64_t rows = inner == 0 ? 0 : view.size() / inner;
  const int outer = ndim == 0 ? 0 : ndim - 1;
  auto run = [&](int64_t begin, int64_t end) {
    std::vector<int64_t> index(outer, 0);
    int64_t remainder = begin, base = view.offset;
    for (int d = outer - 1; d >= 0; --d) {
      index[d] = remainder % view.dims[d];
      remainder /= view.dims[d];
      base += index[d] * view.strides[d];
    }
    for (int64_t row = begin; row < end; ++row) {
      fn(row, base);
      for (int d = outer - 1; d >= 0; --d) {  // Odometer increment over the outer dimensions.
        ++index[d];
        base += view.strides[d];
        if (index[d] < view.dims[d]) break;
        base -= view.strides[d] * view.dims[d];
        index[d] = 0;
      }
    }
  };
  if (!parallel) {
    run(0, rows);
    return;
  }
  cpu::ParallelFor(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(inner, 1)), run);
}

// Storage-only stand-ins by element size: moving bytes needs no arithmetic, so one instantiation per
// width serves every dtype.
template <typename Fn>
void DispatchWidth(DType dtype, Fn&& fn) {
  switch (DTypeSize(dtype)) {
    case 1: fn(uint8_t{}); return;
    case 2: fn(uint16_t{}); return;
    case 4: fn(uint32_t{}); return;
    case 8: fn(uint64_t{}); return;
  }
  Throw(ErrorKind::kTypeError, "dtype %s has an unsupported element size", DTypeName(dtype));
}

template <typename T>
T FromDouble(double value) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return T(static_cast<float>(value));
  } else {
    return static_cast<T>(value);
  }
}

}  // namespace

int64_t StridedView::size() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::vector<int64_t> StridesOf(const Shape& shape) { return shape.Strides(); }

std::vector<int64_t> DimsOf(const Shape& shape) { return {shape.dims().begin(), shape.dims().end()}; }

StridedView ContiguousView(const Shape& shape) {
  StridedView view;
  view.dims = DimsOf(shape);
  view.strides = StridesOf(shape);
  return view;
}

StridedView PermutedView(const Shape& shape, const std::vector<int>& axes) {
  const std::vector<int64_t> strides = StridesOf(shape);
  StridedView view;
  for (int axis : axes) {
    view.dims.push_back(shape[axis]);
    view.strides.push_back(strides[axis]);
  }
  return view;
}

StridedView Coalesce(const StridedView& view) {
  StridedView out;
  out.offset = view.offset;
  for (size_t d = 0; d < view.dims.size(); ++d) {
    if (view.dims[d] == 1) continue;
    if (!out.dims.empty() && out.strides.back() == view.strides[d] * view.dims[d]) {
      out.dims.back() *= view.dims[d];
      out.strides.back() = view.strides[d];
    } else {
      out.dims.push_back(view.dims[d]);
      out.strides.push_back(view.strides[d]);
    }
  }
  return out;
}

void GatherStrided(const char* op, const TensorRef& in, const StridedView& walk, const TensorRef& out, bool add) {
  const StridedView view = Coalesce(walk);
  if (view.size() == 0) return;
  const int64_t inner = view.dims.empty() ? 1 : view.dims.back();
  const int64_t step = view.dims.empty() ? 1 : view.strides.back();
  if (!add) {
    DispatchWidth(in.dtype, [&](auto tag) {
      using U = decltype(tag);
      const U* src = static_cast<const U*>(in.data);
      U* dst = static_cast<U*>(out.data);
      ForEachRow(view, true, [&](int64_t row, int64_t base) {
        U* o = dst + row * inner;
        const U* s = src + base;
        if (step == 1) {
          std::memcpy(o, s, inner * sizeof(U));
        } else {
          for (int64_t j = 0; j < inner; ++j) o[j] = s[j * step];
        }
      });
    });
    return;
  }
  DispatchAllowed<DTypes::kAll>(op, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* src = in.As<T>();
    T* dst = out.As<T>();
    ForEachRow(view, true, [&](int64_t row, int64_t base) {
      for (int64_t j = 0; j < inner; ++j) Store<T, C>(dst + row * inner + j, static_cast<C>(src[base + j * step]), true);
    });
  });
}

void ScatterStrided(const char* op, const TensorRef& in, const TensorRef& out, const StridedView& walk, bool add) {
  const StridedView view = Coalesce(walk);
  if (view.size() == 0) return;
  const int64_t inner = view.dims.empty() ? 1 : view.dims.back();
  const int64_t step = view.dims.empty() ? 1 : view.strides.back();
  if (!add) {
    DispatchWidth(in.dtype, [&](auto tag) {
      using U = decltype(tag);
      const U* src = static_cast<const U*>(in.data);
      U* dst = static_cast<U*>(out.data);
      ForEachRow(view, true, [&](int64_t row, int64_t base) {
        const U* s = src + row * inner;
        U* o = dst + base;
        if (step == 1) {
          std::memcpy(o, s, inner * sizeof(U));
        } else {
          for (int64_t j = 0; j < inner; ++j) o[j * step] = s[j];
        }
      });
    });
    return;
  }
  // A zero stride (a repeated position) makes several rows add into one element: stay on one thread.
  bool repeats = false;
  for (int64_t stride : view.strides) repeats = repeats || stride == 0;
  DispatchAllowed<DTypes::kAll>(op, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* src = in.As<T>();
    T* dst = out.As<T>();
    ForEachRow(view, !repeats, [&](int64_t row, int64_t base) {
      for (int64_t j = 0; j < inner; ++j) Store<T, C>(dst + base + j * step, static_cast<C>(src[row * inner + j]), true);
    });
  });
}

void CopyOrAdd(const char* op, const TensorRef& in, const TensorRef& out, WriteMode mode) {
  if (mode == WriteMode::kAdd) {
    GatherStrided(op, in, ContiguousView(Shape{in.size()}), out, true);
    return;
  }
  if (in.data == out.data || in.size() == 0) return;
  const size_t width = DTypeSize(in.dtype);
  cpu::ParallelFor(in.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
    std::memcpy(static_cast<char*>(out.data) + begin * width, static_cast<const char*>(in.data) + begin * width,
                (end - begin) * width);
  });
}

void Fill(const TensorRef& out, double value) {
  DispatchDType(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T filler = FromDouble<T>(value);
    T* data = out.As<T>();
    cpu::ParallelFor(out.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) data[i] = filler;
    });
  });
}

void ZeroUnlessAdd(const TensorRef& out, WriteMode mode) {
  if (mode != WriteMode::kAdd && out.size() > 0) std::memset(out.data, 0, out.size() * DTypeSize(out.dtype));
}

std::vector<int64_t> ReadIndices(const TensorRef& indices) {
  std::vector<int64_t> values(indices.size());
  DispatchDType(indices.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* data = indices.As<T>();
    for (int64_t i = 0; i < indices.size(); ++i) {
      if constexpr (kIsFloat<T>) {
        const double v = static_cast<double>(static_cast<ComputeType<T>>(data[i]));
        values[i] = (v > -9.2e18 && v < 9.2e18) ? static_cast<int64_t>(v) : std::numeric_limits<int64_t>::min();
      } else {
        values[i] = static_cast<int64_t>(data[i]);
      }
    }
  });
  return values;
}

void CheckIndexDType(const char* op, const char* what, DType dtype) {
  PMX_CHECK(dtype != DType::kBool, kTypeError,
            "[%s] %s has dtype bool: expected a numeric dtype holding indices (int32, int64 or float32 as MXNet "
            "stores them)", op, what);
}

}  // namespace ops
}  // namespace pmx
