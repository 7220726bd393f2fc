// The reduction engine of the reduce family: MXNet's axis rules, and threaded CPU kernels that collapse
// any set of axes, with a fast path for contiguous inner axes and accurate accumulation.
#ifndef POLYMIX_CORE_OPS_INTERNAL_REDUCE_KERNEL_H_
#define POLYMIX_CORE_OPS_INTERNAL_REDUCE_KERNEL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "core/backend/cpu/parallel.h"
#include "core/ops/internal/elementwise.h"

namespace pmx {
namespace ops {

// The axes a reduction collapses, resolved against one input shape.
struct ReduceAxes {
  std::vector<bool> reduced;  // One flag per input axis.
  Shape out_shape;            // The output shape as MXNet reports it ((1,) for a full reduction).
  Shape kept_shape;           // The input shape with every reduced axis set to 1 (the keepdims shape).
};

// Applies MXNet's `axis` (nullopt: None), `keepdims` and `exclude` to `in`. An empty or absent axis
// reduces everything. Throws IndexError naming `op` for an axis out of range, ValueError for one given
// twice.
ReduceAxes ResolveReduceAxes(const char* op, const Shape& in, const std::optional<std::vector<int64_t>>& axis,
                             bool keepdims, bool exclude);

// Reads MXNet's nullable tuple parameter `name` (None: nullopt).
std::optional<std::vector<int64_t>> OptionalAxes(const OpParams& params, const char* name);

// MXNet's ReduceAxesParam: axis (None), keepdims (False), exclude (False).
std::vector<ParamDef> ReduceAxesParams();

// ResolveReduceAxes with the parameters of ReduceAxesParams().
ReduceAxes ReduceAxesFromParams(const char* op, const OpParams& params, const Shape& in);

// Gradient helper (Note [Gradients of reductions] in reduce.cc): broadcasts `grad`, shaped like the output
// of a reduction of `like` with the forward parameters `forward` (axes in `axis_name`, keepdims, and
// exclude if declared), back to like's shape; divided by the reduced count when `normalize`.
GradientBuilder::Value BroadcastReduced(GradientBuilder& b, GradientBuilder::Value grad, GradientBuilder::Value like,
                                        const OpParams& forward, const char* axis_name, bool normalize);

// Note [Reduction loops]
// Adjacent axes of the same kind (reduced or kept) are merged and size-1 axes dropped, so every
// reduction becomes one of a few loop nests, each reading memory in order where it can:
//  - inner-reduced (the stride-1 group is reduced): each output combines contiguous segments. A segment
//    is reduced in leaves of kPairwiseBase elements with 128 bytes of independent lanes (vector
//    registers), and leaves are combined pairwise through a binary-counter stack (cascade summation:
//    error O(log n), not O(n)). When outputs sit between reduced groups ([..., R, K, R]), a tile of
//    neighbouring outputs is advanced together so that memory is read in order.
//  - inner-kept (the stride-1 group is kept): rows are added into a tile of accumulators, eight rows
//    per pass and vectorised across the tile, and the tile is folded into a second one every
//    kBlockRows rows (blocked summation). Narrow rows are folded m at a time into one tile of width*m.
// Outputs are split across threads; when there are fewer outputs than threads, the reduced range is
// split too and the partial results combined in a fixed order, so results do not depend on timing.
// Accumulation is in AccumulatorOf<T>: float for float16/bfloat16/float32, double for float64.

// The loop structure of a reduction (see Note [Reduction loops]).
struct ReduceGeometry {
  // Builds the geometry of reducing the axes flagged in `reduced` of a compact row-major `in`.
  ReduceGeometry(const Shape& in, const std::vector<bool>& reduced);
  std::vector<int64_t> kept_sizes, kept_strides;        // Kept groups, outermost first (input strides).
  std::vector<int64_t> reduced_sizes, reduced_strides;  // Reduced groups, outermost first.
  bool inner_reduced = false;                           // Whether the stride-1 group is reduced.
  int64_t out_size = 1;                                 // Number of outputs.
  int64_t reduce_size = 1;                              // Elements combined into each output.
};

// Walks the input offsets of a row-major multi-index over (sizes, strides), one step at a time.
class OffsetWalker {
 public:
  // Starts at flat index `start` of the index space.
  OffsetWalker(const int64_t* sizes, const int64_t* strides, int ndim, int64_t start)
      : sizes_(sizes), strides_(strides), ndim_(ndim), index_(ndim, 0) {
    for (int d = ndim - 1; d >= 0; --d) {
      index_[d] = start % sizes[d];
      start /= sizes[d];
      offset_ += index_[d] * strides[d];
    }
  }
  // The offset of the current index.
  int64_t offset() const { return offset_; }
  // Advances to the next index (row-major).
  void Next() {
    for (int d = ndim_ - 1; d >= 0; --d) {
      offset_ += strides_[d];
      if (++index_[d] < sizes_[d]) return;
      offset_ -= strides_[d] * sizes_[d];
      index_[d] = 0;
    }
  }

 private:
  const int64_t* sizes_;
  const int64_t* strides_;
  int ndim_;
  int64_t offset_ = 0;
  absl::InlinedVector<int64_t, 6> index_;
};

// Whether x is a NaN (false for integers).
template <typename C>
inline bool IsNan(C x) {
  if constexpr (std::is_floating_point_v<C>) {
    return std::isnan(x);
  } else {
    return false;
  }
}

// The type reductions accumulate in: float for the 16-bit floats and float32, double for float64,
// int64 for integers (so int8/uint8 sums wrap only when stored, as MXNet's do).
template <typename T>
using AccumulatorOf = std::conditional_t<kIsFloat<T>, std::conditional_t<std::is_same_v<T, double>, double, float>,
                                         int64_t>;

// Reducers: Identity, Map (element -> accumulator) and an associative Combine.
struct SumReducer {
  template <typename A> static A Identity() { return A(0); }
  template <typename A, typename C> static A Map(C x) { return static_cast<A>(x); }
  template <typename A> static A Combine(A a, A b) { return a + b; }
};
// Sum that treats NaN as zero.
struct NanSumReducer : SumReducer {
  template <typename A, typename C> static A Map(C x) { return IsNan(x) ? A(0) : static_cast<A>(x); }
};
// Sum of squares (norm 2, _square_sum, multi_sum_sq).
struct SumSquaresReducer : SumReducer {
  template <typename A, typename C> static A Map(C x) { return static_cast<A>(x) * static_cast<A>(x); }
};
// Sum of absolute values (norm 1).
struct SumAbsReducer : SumReducer {
  template <typename A, typename C> static A Map(C x) { return static_cast<A>(x < C(0) ? -x : x); }
};
// Product. Integer products wrap modulo 2^64 (unsigned arithmetic: signed overflow is undefined), so the
// stored result wraps like MXNet's.
struct ProdReducer {
  template <typename A> static A Identity() { return A(1); }
  template <typename A, typename C> static A Map(C x) { return static_cast<A>(x); }
  template <typename A> static A Combine(A a, A b) {
    if constexpr (std::is_integral_v<A>) {
      return static_cast<A>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
    } else {
      return a * b;
    }
  }
};
// Product that treats NaN as one.
struct NanProdReducer : ProdReducer {
  template <typename A, typename C> static A Map(C x) { return IsNan(x) ? A(1) : static_cast<A>(x); }
};
// Maximum; NaN wins (as NumPy's max). Written as a select on (b > a || b is NaN) so that loops vectorise.
struct MaxReducer {
  template <typename A> static A Identity() {
    return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity()
                                                : std::numeric_limits<A>::lowest();
  }
  template <typename A, typename C> static A Map(C x) { return static_cast<A>(x); }
  template <typename A> static A Combine(A a, A b) {
    const A larger = a < b ? b : a;
    return b != b ? b : larger;  // b != b: NaN.
  }
};
// Minimum; NaN wins.
struct MinReducer {
  template <typename A> static A Identity() {
    return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity() : std::numeric_limits<A>::max();
  }
  template <typename A, typename C> static A Map(C x) { return static_cast<A>(x); }
  template <typename A> static A Combine(A a, A b) {
    const A smaller = b < a ? b : a;
    return b != b ? b : smaller;
  }
};

namespace reduce_internal {

// Total elements below which a reduction runs on one thread.
constexpr int64_t kReduceGrain = 1 << 15;
// Rows combined into a block accumulator before it is folded into the running one.
constexpr int64_t kBlockRows = 128;
// Independent accumulators of the contiguous loop: 128 bytes (8 SSE registers), enough to hide the add
// latency while leaving registers for the loads.
template <typename A>
constexpr int kLanes = 128 / sizeof(A);
// Length below which the contiguous loop stops halving (pairwise summation above it).
constexpr int64_t kPairwiseBase = 1024;
// Width of the accumulator tile of the inner-kept loop (elements).
constexpr int64_t kTile = 2048;
// Kept runs at most this wide take the narrow inner-kept loop, which folds several rows into one tile.
constexpr int64_t kNarrowWidth = kTile / 2;

inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Max/min over float32/float64 data: GCC does not vectorise their NaN-propagating select in scalar
// code, so the leaf spells it on explicit 16-byte vectors (GCC vector extensions, portable across ISAs).
template <typename R, typename A, typename T>
constexpr bool kExplicitVectors = std::is_same_v<T, A> && std::is_floating_point_v<A> &&
                                  (std::is_same_v<R, MaxReducer> || std::is_same_v<R, MinReducer>);

// Reduces n <= kPairwiseBase contiguous elements in kLanes independent lanes.
template <typename R, typename A, typename T>
A ReduceLeaf(const T* x, int64_t n) {
  using C = ComputeType<T>;
  constexpr int kL = kLanes<A>;
  if constexpr (kExplicitVectors<R, A, T>) {
    typedef A Vector __attribute__((vector_size(16)));
    constexpr int kWidth = 16 / sizeof(A), kVectors = kL / kWidth;
    Vector lanes[kVectors];
    for (Vector& lane : lanes) lane = Vector{} + R::template Identity<A>();
    int64_t i = 0;
    for (; i + kL <= n; i += kL) {
#pragma GCC unroll 8
      for (int k = 0; k < kVectors; ++k) {
        Vector v;
        std::memcpy(&v, x + i + k * kWidth, sizeof(v));
        lanes[k] = R::Combine(lanes[k], v);
      }
    }
    for (int k = 1; k < kVectors; ++k) lanes[0] = R::Combine(lanes[0], lanes[k]);
    A result = R::template Identity<A>();
    for (int k = 0; k < kWidth; ++k) result = R::Combine(result, static_cast<A>(lanes[0][k]));
    for (; i < n; ++i) result = R::Combine(result, x[i]);
    return result;
  }
  // Fully unrolled, so the lanes live in vector registers rather than in memory.
  A lane[kL];
#pragma GCC unroll 32
  for (int k = 0; k < kL; ++k) lane[k] = R::template Identity<A>();
  int64_t i = 0;
  for (; i + kL <= n; i += kL) {
#pragma GCC unroll 32
    for (int k = 0; k < kL; ++k) lane[k] = R::Combine(lane[k], R::template Map<A>(static_cast<C>(x[i + k])));
  }
  A rest = R::template Identity<A>();
  for (; i < n; ++i) rest = R::Combine(rest, R::template Map<A>(static_cast<C>(x[i])));
#pragma GCC unroll 16
  for (int k = 0; k < kL / 2; ++k) lane[k] = R::Combine(lane[k], lane[k + kL / 2]);
#pragma GCC unroll 8
  for (int k = 0; k < kL / 4; ++k) lane[k] = R::Combine(lane[k], lane[k + kL / 4]);
#pragma GCC unroll 4
  for (int k = 0; k < kL / 8; ++k) lane[k] = R::Combine(lane[k], lane[k + kL / 8]);
#pragma GCC unroll 4
  for (int k = 1; k < kL / 8; ++k) lane[0] = R::Combine(lane[0], lane[k]);
  return R::Combine(lane[0], rest);
}

// Reduces n contiguous elements: leaves of kPairwiseBase combined pairwise through a binary-counter stack
// (cascade summation: error O(log n) like recursive halving, without recursion, which GCC compiles
// poorly here). See Note [Reduction loops].
template <typename R, typename A, typename T>
A ReduceContiguous(const T* x, int64_t n) {
  if (n <= kPairwiseBase) return ReduceLeaf<R, A>(x, n);
  A stack[64];
  int top = 0;
  int64_t leaves = 0;
  for (int64_t i = 0; i < n; i += kPairwiseBase, ++leaves) {
    A value = ReduceLeaf<R, A>(x + i, std::min(kPairwiseBase, n - i));
    for (int64_t merged = leaves; merged & 1; merged >>= 1) value = R::Combine(stack[--top], value);
    stack[top++] = value;
  }
  A result = stack[--top];
  while (top > 0) result = R::Combine(stack[--top], result);
  return result;
}

// Runs fn(begin, end) over [0, items), items costing `cost_per_item` elements each.
template <typename Fn>
void RunItems(int64_t items, int64_t cost_per_item, Fn&& fn) {
  if (items * std::max<int64_t>(cost_per_item, 1) < kReduceGrain) {
    fn(int64_t{0}, items);
    return;
  }
  cpu::ParallelFor(items, std::max<int64_t>(1, kReduceGrain / std::max<int64_t>(cost_per_item, 1)), fn);
}

// How many pieces to split each task's reduced range into, so that all threads get work.
inline int64_t SplitCount(int64_t tasks, int64_t work_per_task) {
  const int64_t threads = cpu::KernelThreads();
  if (tasks >= threads || tasks * work_per_task < 2 * kReduceGrain) return 1;
  return std::max<int64_t>(1, std::min(CeilDiv(threads, tasks), work_per_task / kReduceGrain));
}

// Offset of kept index `o` over the first `ndim` kept groups.
inline int64_t KeptOffset(const ReduceGeometry& g, int ndim, int64_t o) {
  int64_t offset = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    offset += (o % g.kept_sizes[d]) * g.kept_strides[d];
    o /= g.kept_sizes[d];
  }
  return offset;
}

// Combines partial results: partials[t * pieces + p][0, w) for task t, in piece order.
template <typename R, typename A, typename Emit>
void CombinePieces(const std::vector<A>& partials, int64_t tasks, int64_t pieces, int64_t stride, Emit&& emit) {
  for (int64_t t = 0; t < tasks; ++t) {
    emit(t, [&](int64_t i) {
      A acc = partials[t * pieces * stride + i];
      for (int64_t p = 1; p < pieces; ++p) acc = R::Combine(acc, partials[(t * pieces + p) * stride + i]);
      return acc;
    });
  }
}

// Reduces a contiguous segment; short ones with a plain loop (the lane set-up would dominate).
template <typename R, typename A, typename T>
inline A ReduceSegment(const T* x, int64_t n) {
  if (n >= kLanes<A>) return ReduceContiguous<R, A>(x, n);
  A acc = R::template Identity<A>();
  for (int64_t j = 0; j < n; ++j) acc = R::Combine(acc, R::template Map<A>(static_cast<ComputeType<T>>(x[j])));
  return acc;
}

// Inner-reduced loop: each output combines contiguous segments of the stride-1 reduced group.
template <typename R, typename A, typename T, typename StoreFn>
void InnerReduce(const ReduceGeometry& g, const T* x, StoreFn&& store) {
  const int64_t length = g.reduced_sizes.back();
  const int outer_ndim = static_cast<int>(g.reduced_sizes.size()) - 1;
  const int kept_ndim = static_cast<int>(g.kept_sizes.size());
  // Reduces the flat reduced range [r_begin, r_end) of the output at input offset `base`.
  auto reduce_range = [&](int64_t base, int64_t r_begin, int64_t r_end) {
    if (outer_ndim == 0) return ReduceSegment<R, A>(x + base + r_begin, r_end - r_begin);
    OffsetWalker segments(g.reduced_sizes.data(), g.reduced_strides.data(), outer_ndim, r_begin / length);
    A acc = R::template Identity<A>(), block = R::template Identity<A>();
    int64_t pos = r_begin % length, in_block = 0;
    for (int64_t r = r_begin; r < r_end;) {
      const int64_t n = std::min(length - pos, r_end - r);
      block = R::Combine(block, ReduceSegment<R, A>(x + base + segments.offset() + pos, n));
      if (++in_block == kBlockRows) {
        acc = R::Combine(acc, block);
        block = R::template Identity<A>();
        in_block = 0;
      }
      r += n;
      pos = 0;
      segments.Next();
    }
    return R::Combine(acc, block);
  };
  const int64_t pieces = SplitCount(g.out_size, g.reduce_size);
  if (pieces == 1 && outer_ndim > 0 && kept_ndim > 0 && g.kept_strides.back() == length) {
    // [..., reduced, kept, reduced]: the segments of neighbouring outputs are adjacent, so walk a tile of
    // outputs per segment position; memory is then read in order instead of with a large stride.
    constexpr int64_t kOutputs = 64;
    const int64_t run = g.kept_sizes.back(), tiles = CeilDiv(run, kOutputs);
    const int64_t segments_count = g.reduce_size / length;
    RunItems(g.out_size / run * tiles, kOutputs * g.reduce_size, [&](int64_t begin, int64_t end) {
      A acc[kOutputs], block[kOutputs];
      for (int64_t task = begin; task < end; ++task) {
        const int64_t row = task / tiles, t0 = (task % tiles) * kOutputs, w = std::min(kOutputs, run - t0);
        const T* base = x + KeptOffset(g, kept_ndim - 1, row) + t0 * length;
        std::fill(acc, acc + w, R::template Identity<A>());
        std::fill(block, block + w, R::template Identity<A>());
        OffsetWalker segments(g.reduced_sizes.data(), g.reduced_strides.data(), outer_ndim, 0);
        for (int64_t s = 0; s < segments_count; ++s, segments.Next()) {
          const T* src = base + segments.offset();
          for (int64_t t = 0; t < w; ++t) {
            block[t] = R::Combine(block[t], ReduceSegment<R, A>(src + t * length, length));
          }
          if ((s + 1) % kBlockRows == 0) {
            for (int64_t t = 0; t < w; ++t) {
              acc[t] = R::Combine(acc[t], block[t]);
              block[t] = R::template Identity<A>();
            }
          }
        }
        for (int64_t t = 0; t < w; ++t) store(row * run + t0 + t, R::Combine(acc[t], block[t]));
      }
    });
    return;
  }
  if (pieces == 1) {
    RunItems(g.out_size, g.reduce_size, [&](int64_t begin, int64_t end) {
      OffsetWalker kept(g.kept_sizes.data(), g.kept_strides.data(), kept_ndim, begin);
      for (int64_t o = begin; o < end; ++o, kept.Next()) store(o, reduce_range(kept.offset(), 0, g.reduce_size));
    });
    return;
  }
  const int64_t chunk = CeilDiv(g.reduce_size, pieces);
  std::vector<A> partials(g.out_size * pieces);
  RunItems(g.out_size * pieces, chunk, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t o = item / pieces, piece = item % pieces;
      const int64_t r_begin = piece * chunk;
      partials[item] = reduce_range(KeptOffset(g, kept_ndim, o), r_begin, std::min(g.reduce_size, r_begin + chunk));
    }
  });
  CombinePieces<R, A>(partials, g.out_size, pieces, 1, [&](int64_t o, auto&& value) { store(o, value(0)); });
}

// Combines `rows` rows of `tile` elements, `stride` apart, into `block`, eight rows per pass (one load
// and store of `block` per eight rows), folding `block` into `acc` about every kBlockRows rows.
template <typename R, typename A, typename T>
void AddRows(const T* src, int64_t rows, int64_t stride, int64_t tile, A* acc, A* block, int64_t* in_block) {
  using C = ComputeType<T>;
  auto map = [](const T* p, int64_t i) { return R::template Map<A>(static_cast<C>(p[i])); };
  int64_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    const T* p = src + r * stride;
    for (int64_t i = 0; i < tile; ++i) {
      const A a = R::Combine(R::Combine(map(p, i), map(p + stride, i)),
                             R::Combine(map(p + 2 * stride, i), map(p + 3 * stride, i)));
      const A b = R::Combine(R::Combine(map(p + 4 * stride, i), map(p + 5 * stride, i)),
                             R::Combine(map(p + 6 * stride, i), map(p + 7 * stride, i)));
      block[i] = R::Combine(block[i], R::Combine(a, b));
    }
    if ((*in_block += 8) >= kBlockRows) {
      for (int64_t i = 0; i < tile; ++i) {
        acc[i] = R::Combine(acc[i], block[i]);
        block[i] = R::template Identity<A>();
      }
      *in_block = 0;
    }
  }
  for (; r < rows; ++r) {
    const T* row = src + r * stride;
    for (int64_t i = 0; i < tile; ++i) block[i] = R::Combine(block[i], map(row, i));
    ++*in_block;
  }
}

// Adds `count` rows of `width` elements (`row_stride` apart) into the tile `block` of `tile` = width * m
// elements: contiguous rows are read as one run, `tile` elements at a time (element j lands in column
// j % width, since tile is a multiple of width).
template <typename R, typename A, typename T>
void AccumulateRows(const T* src, int64_t count, int64_t width, int64_t row_stride, int64_t tile, A* acc, A* block,
                    int64_t* in_block) {
  using C = ComputeType<T>;
  if (row_stride == width && tile > width) {
    const int64_t length = count * width, full = length / tile;
    AddRows<R, A>(src, full, tile, tile, acc, block, in_block);
    for (int64_t j = full * tile, i = 0; j < length; ++j, ++i) {
      block[i] = R::Combine(block[i], R::template Map<A>(static_cast<C>(src[j])));
    }
    return;
  }
  AddRows<R, A>(src, count, row_stride, tile, acc, block, in_block);
}

// Inner-kept loop: rows of the stride-1 kept group are combined into tiles of accumulators. Narrow kept
// runs (width <= kNarrowWidth) fold m consecutive rows into one tile of width * m, so short rows still
// vectorise; the tile is folded back to `width` at the end.
template <typename R, typename A, typename T, typename StoreFn>
void OuterReduce(const ReduceGeometry& g, const T* x, StoreFn&& store) {
  const int64_t width = g.kept_sizes.empty() ? 1 : g.kept_sizes.back();
  const int outer_kept_ndim = std::max(0, static_cast<int>(g.kept_sizes.size()) - 1);
  const int64_t rows_out = g.out_size / width;
  // The reduced group just above the kept run; its stride is `width` unless nothing is reduced.
  const bool has_reduced = !g.reduced_sizes.empty();
  const int64_t run = has_reduced ? g.reduced_sizes.back() : 1;
  const int64_t run_stride = has_reduced ? g.reduced_strides.back() : width;
  const int outer_reduced_ndim = has_reduced ? static_cast<int>(g.reduced_sizes.size()) - 1 : 0;
  const bool narrow = width <= kNarrowWidth;
  const int64_t fold = narrow ? std::max<int64_t>(1, std::min(run, kTile / width)) : 1;
  const int64_t tile = narrow ? width * fold : std::min(width, kTile);
  const int64_t tiles = narrow ? 1 : CeilDiv(width, kTile);
  const int64_t tasks = rows_out * tiles;
  const int64_t pieces = SplitCount(tasks, g.reduce_size * std::min(width, kTile));
  const int64_t chunk = CeilDiv(g.reduce_size, pieces);  // Rows per piece.
  const int64_t out_width = narrow ? width : kTile;      // Results per task.
  std::vector<A> partials(pieces > 1 ? tasks * pieces * out_width : 0);
  RunItems(tasks * pieces, chunk * std::min(width, kTile), [&](int64_t begin, int64_t end) {
    std::vector<A> acc(tile), block(tile), result(out_width);
    for (int64_t item = begin; item < end; ++item) {
      const int64_t task = item / pieces, piece = item % pieces;
      const int64_t row = task / tiles, i0 = (task % tiles) * kTile;
      const int64_t w = narrow ? width : std::min(kTile, width - i0);
      const T* base = x + KeptOffset(g, outer_kept_ndim, row) + (narrow ? 0 : i0);
      const int64_t r_begin = piece * chunk, r_end = std::min(g.reduce_size, r_begin + chunk);
      std::fill(acc.begin(), acc.end(), R::template Identity<A>());
      std::fill(block.begin(), block.end(), R::template Identity<A>());
      int64_t in_block = 0;
      OffsetWalker runs(g.reduced_sizes.data(), g.reduced_strides.data(), outer_reduced_ndim, r_begin / run);
      for (int64_t r = r_begin; r < r_end;) {
        const int64_t within = r % run, count = std::min(run - within, r_end - r);
        AccumulateRows<R, A>(base + runs.offset() + within * run_stride, count, narrow ? width : w, run_stride,
                             narrow ? tile : w, acc.data(), block.data(), &in_block);
        r += count;
        runs.Next();
      }
      for (int64_t i = 0; i < tile; ++i) acc[i] = R::Combine(acc[i], block[i]);
      for (int64_t i = 0; i < w; ++i) {
        A value = acc[i];
        for (int64_t f = 1; f < fold; ++f) value = R::Combine(value, acc[f * width + i]);
        result[i] = value;
      }
      if (pieces == 1) {
        for (int64_t i = 0; i < w; ++i) store(row * width + (narrow ? 0 : i0) + i, result[i]);
      } else {
        std::copy(result.begin(), result.begin() + w, partials.begin() + item * out_width);
      }
    }
  });
  if (pieces == 1) return;
  CombinePieces<R, A>(partials, tasks, pieces, out_width, [&](int64_t task, auto&& value) {
    const int64_t row = task / tiles, i0 = narrow ? 0 : (task % tiles) * kTile;
    const int64_t w = narrow ? width : std::min(kTile, width - i0);
    for (int64_t i = 0; i < w; ++i) store(row * width + i0 + i, value(i));
  });
}

}  // namespace reduce_internal

// Reduces `x` as described by `g` with reducer R accumulating in A, and writes finalize(acc) to each
// output (added to it when `add`). Out may differ from T (norm's out_dtype).
template <typename R, typename A, typename T, typename Out, typename Finalize>
void ReduceKernel(const ReduceGeometry& g, const T* x, Out* y, bool add, Finalize finalize) {
  using CO = ComputeType<Out>;
  auto store = [&](int64_t o, A acc) { Store<Out, CO>(y + o, static_cast<CO>(finalize(acc)), add); };
  if (g.out_size == 0) return;
  if (g.reduce_size == 0) {
    for (int64_t o = 0; o < g.out_size; ++o) store(o, R::template Identity<A>());
    return;
  }
  if (g.inner_reduced) {
    reduce_internal::InnerReduce<R, A>(g, x, store);
  } else {
    reduce_internal::OuterReduce<R, A>(g, x, store);
  }
}

// The same with the identity finalisation.
template <typename R, typename A, typename T, typename Out>
void ReduceKernel(const ReduceGeometry& g, const T* x, Out* y, bool add) {
  ReduceKernel<R, A>(g, x, y, add, [](A acc) { return acc; });
}

}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_INTERNAL_REDUCE_KERNEL_H_
