// Building blocks for elementwise operator families: dtype dispatch with a compute type, threaded
// unary/binary/broadcast kernels, and the matching shape and dtype inference.
#ifndef POLYMIX_CORE_OPS_INTERNAL_ELEMENTWISE_H_
#define POLYMIX_CORE_OPS_INTERNAL_ELEMENTWISE_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/backend/cpu/parallel.h"
#include "core/base/dtype.h"
#include "core/base/error.h"
#include "core/base/half.h"
#include "core/ops/op.h"

namespace pmx {
namespace ops {

// The type arithmetic runs in: float for the 16-bit floats, the storage type otherwise.
template <typename T>
struct ComputeTypeOf { using type = T; };
template <>
struct ComputeTypeOf<Float16> { using type = float; };
template <>
struct ComputeTypeOf<BFloat16> { using type = float; };
// Shorthand for ComputeTypeOf<T>::type.
template <typename T>
using ComputeType = typename ComputeTypeOf<T>::type;

// Whether T is one of the floating-point storage types.
template <typename T>
constexpr bool kIsFloat = std::is_floating_point_v<T> || std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// Which dtypes an elementwise op accepts.
enum class DTypes {
  kFloat,        // float16, bfloat16, float32, float64.
  kNumeric,      // The floats plus uint8, int8, int32, int64.
  kAll,          // Numeric plus bool.
};

// Whether `dtype` belongs to `allowed`.
bool Accepts(DTypes allowed, DType dtype);

// Throws TypeError naming `op` unless `dtype` is in `allowed`.
void CheckDType(const char* op, DTypes allowed, DType dtype);

// Elements per thread below which a loop stays on one thread.
constexpr int64_t kElementwiseGrain = 1 << 15;

// Calls fn(T{}) for the storage type T of `dtype` when `allowed` admits it, else throws TypeError.
template <DTypes kAllowed, typename Fn>
void DispatchAllowed(const char* op, DType dtype, Fn&& fn) {
  DispatchDType(dtype, [&](auto tag) {
    using T = decltype(tag);
    constexpr bool kOk = kAllowed == DTypes::kAll || (kAllowed == DTypes::kFloat && kIsFloat<T>) ||
                         (kAllowed == DTypes::kNumeric && !std::is_same_v<T, bool>);
    if constexpr (kOk) {
      fn(tag);
    } else {
      Throw(ErrorKind::kTypeError, "[%s] dtype %s is not supported", op, DTypeName(dtype));
    }
  });
}

// Writes `value` to `*out` honouring the output's write mode.
template <typename T, typename C>
inline void Store(T* out, C value, bool add) {
  if (add) value = static_cast<C>(static_cast<C>(*out) + value);
  *out = static_cast<T>(value);
}

// A kernel computing out = f(x) elementwise, f called on ComputeType<T> values.
template <DTypes kAllowed, typename F>
Kernel UnaryKernel(std::string op, F f) {
  return [op, f](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
    DispatchAllowed<kAllowed>(op.c_str(), in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      const bool add = context.modes[0] == WriteMode::kAdd;
      cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(f(static_cast<C>(x[i]))), add);
      });
    });
  };
}

// Iterates the broadcast of two shapes: for every output element the offsets into both inputs.
class BroadcastIndexer {
 public:
  // Prepares iteration of `out` = broadcast(`a`, `b`); the shapes must be compatible.
  BroadcastIndexer(const Shape& a, const Shape& b, const Shape& out);
  // Calls fn(out_index, a_index, b_index) for every output element in [begin, end).
  template <typename Fn>
  void ForRange(int64_t begin, int64_t end, Fn&& fn) const;

 private:
  std::vector<int64_t> out_dims_, a_strides_, b_strides_;
};

// A kernel computing out = f(a, b) with NumPy broadcasting (same shapes take a flat loop).
template <DTypes kAllowed, typename F>
Kernel BinaryKernel(std::string op, F f) {
  return [op, f](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
    PMX_CHECK(in[0].dtype == in[1].dtype, kTypeError, "[%s] inputs have dtypes %s and %s: expected the same",
              op.c_str(), DTypeName(in[0].dtype), DTypeName(in[1].dtype));
    DispatchAllowed<kAllowed>(op.c_str(), in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* a = in[0].As<T>();
      const T* b = in[1].As<T>();
      T* y = out[0].As<T>();
      const bool add = context.modes[0] == WriteMode::kAdd;
      const int64_t n = out[0].size();
      if (in[0].shape == out[0].shape && in[1].shape == out[0].shape) {
        cpu::ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            Store<T, C>(y + i, static_cast<C>(f(static_cast<C>(a[i]), static_cast<C>(b[i]))), add);
          }
        });
        return;
      }
      BroadcastIndexer indexer(in[0].shape, in[1].shape, out[0].shape);
      cpu::ParallelFor(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
        indexer.ForRange(begin, end, [&](int64_t i, int64_t ia, int64_t ib) {
          Store<T, C>(y + i, static_cast<C>(f(static_cast<C>(a[ia]), static_cast<C>(b[ib]))), add);
        });
      });
    });
  };
}

// Shape inference: every input and output has one shape (elemwise_* ops); fills unknowns from knowns.
bool InferSameShape(const char* op, std::vector<MaybeShape>* inputs, std::vector<MaybeShape>* outputs);

// The NumPy broadcast of two shapes; throws ValueError naming `op` when they are incompatible.
Shape BroadcastShapes(const char* op, const Shape& a, const Shape& b);

// Shape inference for broadcasting binary ops.
bool InferBroadcastShape(const char* op, std::vector<MaybeShape>* inputs, std::vector<MaybeShape>* outputs);

// Dtype inference: all inputs share one dtype from `allowed` (TypeError otherwise), outputs get it.
bool InferSameDType(const char* op, DTypes allowed, std::vector<MaybeDType>* inputs,
                    std::vector<MaybeDType>* outputs);

// Dtype inference for comparisons in MXNet's legacy style: outputs have the inputs' dtype (1 or 0).
// (Same as InferSameDType; named for the call sites.)
inline bool InferComparisonDType(const char* op, std::vector<MaybeDType>* inputs,
                                 std::vector<MaybeDType>* outputs) {
  return InferSameDType(op, DTypes::kAll, inputs, outputs);
}

template <typename Fn>
void BroadcastIndexer::ForRange(int64_t begin, int64_t end, Fn&& fn) const {
  const int ndim = static_cast<int>(out_dims_.size());
  std::vector<int64_t> index(ndim, 0);
  int64_t remainder = begin, ia = 0, ib = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    index[d] = remainder % out_dims_[d];
    remainder /= out_dims_[d];
    ia += index[d] * a_strides_[d];
    ib += index[d] * b_strides_[d];
  }
  for (int64_t i = begin; i < end; ++i) {
    fn(i, ia, ib);
    for (int d = ndim - 1; d >= 0; --d) {  // Odometer increment.
      ++index[d];
      ia += a_strides_[d];
      ib += b_strides_[d];
      if (index[d] < out_dims_[d]) break;
      ia -= a_strides_[d] * out_dims_[d];
      ib -= b_strides_[d] * out_dims_[d];
      index[d] = 0;
    }
  }
}

}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_ELEMENTWISE_H_
