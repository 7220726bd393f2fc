// Reductions over axes (sum, mean, prod, nansum, nanprod, max, min, _sum_to_like) on the merged
// geometry of launch.h's ReduceGeometry.
//
// Note [GPU reduction loops]
// Two kernels, chosen by whether the stride-1 group of the input is reduced:
//  - inner-reduced: a group of threads (a warp, or a whole block for long reductions) combines the
//    elements of one output, reading consecutive addresses, then a shuffle/shared-memory tree;
//  - inner-kept: one thread per output walks the reduced range; neighbouring threads own neighbouring
//    outputs, so each step reads consecutive addresses.
// When there are too few outputs to fill the GPU, the reduced range is split into `pieces` whose
// partial results go to a workspace and are combined in piece order by a third kernel: the results
// are deterministic (the same plan for the same shapes), though summed in another order than the
// CPU's, so float sums agree with it to rounding. Accumulators are as on the CPU: float for
// float16/bfloat16/float32, double for float64, int64 for integers.
#include <algorithm>

#include "core/backend/cuda/ops/elementwise.cuh"

namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

// The accumulator type of storage type T (core/ops/internal/reduce_kernel.h's AccumulatorOf).
template <typename T>
using Accumulator = std::conditional_t<std::is_same_v<T, double>, double,
                                       std::conditional_t<kAccepts<kFloat, T>, float, int64_t>>;

template <typename C>
__device__ __forceinline__ bool IsNan(C x) {
  if constexpr (kIsFloating<C>) return isnan(x); else return false;
}

// The reducers of core/ops/internal/reduce_kernel.h: Identity, Map (element -> accumulator), Combine.
struct SumOp {
  template <typename A> __device__ static A Identity() { return A(0); }
  template <typename A, typename C> __device__ static A Map(C x) { return static_cast<A>(x); }
  template <typename A> __device__ static A Combine(A a, A b) { return a + b; }
};
struct NanSumOp : SumOp {
  template <typename A, typename C> __device__ static A Map(C x) { return IsNan(x) ? A(0) : static_cast<A>(x); }
};
struct ProdOp {
  template <typename A> __device__ static A Identity() { return A(1); }
  template <typename A, typename C> __device__ static A Map(C x) { return static_cast<A>(x); }
  template <typename A> __device__ static A Combine(A a, A b) {
    if constexpr (std::is_integral_v<A>) {  // Wraps modulo 2^64 without signed overflow.
      return static_cast<A>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
    } else {
      return a * b;
    }
  }
};
struct NanProdOp : ProdOp {
  template <typename A, typename C> __device__ static A Map(C x) { return IsNan(x) ? A(1) : static_cast<A>(x); }
};
struct MaxOp {
  template <typename A> __device__ static A Identity() {
    if constexpr (kIsFloating<A>) return -static_cast<A>(INFINITY); else return static_cast<A>(INT64_MIN);
  }
  template <typename A, typename C> __device__ static A Map(C x) { return static_cast<A>(x); }
  template <typename A> __device__ static A Combine(A a, A b) {
    const A larger = a < b ? b : a;
    return b != b ? b : larger;  // NaN wins.
  }
};
struct MinOp {
  template <typename A> __device__ static A Identity() {
    if constexpr (kIsFloating<A>) return static_cast<A>(INFINITY); else return static_cast<A>(INT64_MAX);
  }
  template <typename A, typename C> __device__ static A Map(C x) { return static_cast<A>(x); }
  template <typename A> __device__ static A Combine(A a, A b) {
    const A smaller = b < a ? b : a;
    return b != b ? b : smaller;
  }
};

// How a reduction is split (Note [GPU reduction loops]).
struct Plan {
  bool inner = false;  // Inner-reduced kernel (else inner-kept).
  int group = 1;       // Threads per output in the inner-reduced kernel: 32 or kThreads.
  int64_t pieces = 1;  // Parts of each output's reduced range.
  int64_t chunk = 0;   // Reduced elements per piece.
};

// Threads the plan aims to keep busy: an H200 holds 132 x 2048.
constexpr int64_t kTargetThreads = int64_t{1} << 18;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

Plan MakePlan(const ReduceGeometry& g) {
  Plan plan;
  plan.inner = g.inner_reduced != 0;
  int64_t wanted, min_chunk;
  if (plan.inner) {
    plan.group = g.reduce_size >= 4096 ? kThreads : 32;
    wanted = kTargetThreads / plan.group;  // Groups.
    min_chunk = int64_t{plan.group} * 16;  // At least 16 elements per thread.
  } else {
    wanted = kTargetThreads;  // Threads.
    min_chunk = 64;
  }
  if (g.out_size < wanted && g.reduce_size > min_chunk) {
    plan.pieces = std::min(CeilDiv(wanted, g.out_size), CeilDiv(g.reduce_size, min_chunk));
  }
  plan.chunk = std::max<int64_t>(1, CeilDiv(g.reduce_size, plan.pieces));
  plan.pieces = std::max<int64_t>(1, CeilDiv(g.reduce_size, plan.chunk));  // No empty pieces.
  return plan;
}

// Input offset of kept index `o`.
__device__ __forceinline__ int64_t KeptOffset(const ReduceGeometry& g, int64_t o) {
  int64_t offset = 0;
  for (int d = g.kept_ndim - 1; d >= 0; --d) {
    offset += (o % g.kept_sizes[d]) * g.kept_strides[d];
    o /= g.kept_sizes[d];
  }
  return offset;
}

// Input offset of reduced index `r` (relative to its output's kept offset).
__device__ __forceinline__ int64_t ReducedOffset(const ReduceGeometry& g, int64_t r) {
  if (g.reduced_ndim == 1) return r * g.reduced_strides[0];
  int64_t offset = 0;
  for (int d = g.reduced_ndim - 1; d >= 0; --d) {
    offset += (r % g.reduced_sizes[d]) * g.reduced_strides[d];
    r /= g.reduced_sizes[d];
  }
  return offset;
}

// Writes the finished accumulator of output `o`: divided by the count for mean (integers truncate
// and count an empty reduction as 1), converted through the compute type, added when `add`.
template <typename T, typename A>
__device__ __forceinline__ void Emit(T* y, int64_t o, A acc, bool mean, int64_t count, bool add) {
  if (mean) {
    if constexpr (std::is_integral_v<A>) {
      acc = acc / (count > 1 ? static_cast<A>(count) : A(1));
    } else {
      acc = acc / static_cast<A>(count);
    }
  }
  using C = Compute<T>;
  Store(y + o, static_cast<C>(acc), add);
}

// Combines `value` across the kGroup threads of a group (a warp or the whole block); the result is
// valid in the group's first thread. Every thread of the group must call it.
template <typename R, int kGroup, typename A>
__device__ __forceinline__ A GroupCombine(A value) {
  for (int offset = 16; offset > 0; offset /= 2) value = R::Combine(value, __shfl_down_sync(0xffffffffu, value, offset));
  if constexpr (kGroup == 32) {
    return value;
  } else {
    __shared__ A warp_results[kGroup / 32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) warp_results[warp] = value;
    __syncthreads();
    if (warp == 0) {
      value = lane < kGroup / 32 ? warp_results[lane] : R::template Identity<A>();
      for (int offset = 16; offset > 0; offset /= 2) {
        value = R::Combine(value, __shfl_down_sync(0xffffffffu, value, offset));
      }
    }
    __syncthreads();  // warp_results is reused by the next item.
    return value;
  }
}

// Inner-reduced: groups of kGroup threads, one (output, piece) item per group at a time.
template <typename R, int kGroup, typename T, typename A>
__global__ void InnerReduceKernel(const T* x, ReduceGeometry g, int64_t pieces, int64_t chunk, T* y, A* partials,
                                  bool mean, bool add) {
  using C = Compute<T>;
  constexpr int kGroupsPerBlock = kThreads / kGroup;
  const int lane = threadIdx.x % kGroup;
  const int64_t items = g.out_size * pieces;
  for (int64_t item = static_cast<int64_t>(blockIdx.x) * kGroupsPerBlock + threadIdx.x / kGroup; item < items;
       item += static_cast<int64_t>(gridDim.x) * kGroupsPerBlock) {
    const int64_t o = item / pieces, piece = item % pieces;
    const T* base = x + KeptOffset(g, o);
    const int64_t r_end = min(g.reduce_size, (piece + 1) * chunk);
    A acc = R::template Identity<A>();
    for (int64_t r = piece * chunk + lane; r < r_end; r += kGroup) {
      acc = R::Combine(acc, R::template Map<A>(static_cast<C>(base[ReducedOffset(g, r)])));
    }
    acc = GroupCombine<R, kGroup>(acc);
    if (lane == 0) {
      if (pieces == 1) {
        Emit(y, o, acc, mean, g.reduce_size, add);
      } else {
        partials[item] = acc;
      }
    }
  }
}

// Inner-kept: one thread per (output, piece); neighbouring threads take neighbouring outputs.
template <typename R, typename T, typename A>
__global__ void OuterReduceKernel(const T* x, ReduceGeometry g, int64_t pieces, int64_t chunk, T* y, A* partials,
                                  bool mean, bool add) {
  using C = Compute<T>;
  const int64_t items = g.out_size * pieces;
  for (int64_t item = GridStart(); item < items; item += GridStride()) {
    const int64_t o = item % g.out_size, piece = item / g.out_size;
    const T* base = x + KeptOffset(g, o);
    const int64_t r_end = min(g.reduce_size, (piece + 1) * chunk);
    A acc = R::template Identity<A>();
    for (int64_t r = piece * chunk; r < r_end; ++r) {
      acc = R::Combine(acc, R::template Map<A>(static_cast<C>(base[ReducedOffset(g, r)])));
    }
    if (pieces == 1) {
      Emit(y, o, acc, mean, g.reduce_size, add);
    } else {
      partials[o * pieces + piece] = acc;
    }
  }
}

// Combines each output's pieces in order and writes it.
template <typename R, typename T, typename A>
__global__ void CombinePiecesKernel(const A* partials, int64_t pieces, int64_t out_size, int64_t count, T* y,
                                    bool mean, bool add) {
  for (int64_t o = GridStart(); o < out_size; o += GridStride()) {
    A acc = partials[o * pieces];
    for (int64_t p = 1; p < pieces; ++p) acc = R::Combine(acc, partials[o * pieces + p]);
    Emit(y, o, acc, mean, count, add);
  }
}

// Outputs of an empty reduction: the reducer's identity, finished as any other result.
template <typename R, typename T, typename A>
__global__ void IdentityKernel(int64_t out_size, T* y, bool mean, bool add) {
  for (int64_t o = GridStart(); o < out_size; o += GridStride()) {
    Emit(y, o, R::template Identity<A>(), mean, int64_t{0}, add);
  }
}

template <typename R, typename T>
void LaunchReduceOf(const ReduceGeometry& g, const T* x, T* y, bool mean, void* workspace, bool add,
                    cudaStream_t stream) {
  using A = Accumulator<T>;
  if (g.out_size <= 0) return;
  if (g.reduce_size <= 0) {
    IdentityKernel<R, T, A><<<BlocksFor(g.out_size), kThreads, 0, stream>>>(g.out_size, y, mean, add);
    return;
  }
  const Plan plan = MakePlan(g);
  A* partials = static_cast<A*>(workspace);
  const int64_t items = g.out_size * plan.pieces;
  if (plan.inner) {
    const int64_t groups_per_block = kThreads / plan.group;
    const unsigned int blocks =
        static_cast<unsigned int>(std::min<int64_t>(CeilDiv(items, groups_per_block), kMaxBlocks));
    if (plan.group == 32) {
      InnerReduceKernel<R, 32, T, A><<<blocks, kThreads, 0, stream>>>(x, g, plan.pieces, plan.chunk, y, partials,
                                                                       mean, add);
    } else {
      InnerReduceKernel<R, kThreads, T, A><<<blocks, kThreads, 0, stream>>>(x, g, plan.pieces, plan.chunk, y,
                                                                             partials, mean, add);
    }
  } else {
    OuterReduceKernel<R, T, A><<<BlocksFor(items), kThreads, 0, stream>>>(x, g, plan.pieces, plan.chunk, y, partials,
                                                                          mean, add);
  }
  if (plan.pieces > 1) {
    CombinePiecesKernel<R, T, A><<<BlocksFor(g.out_size), kThreads, 0, stream>>>(partials, plan.pieces, g.out_size,
                                                                                 g.reduce_size, y, mean, add);
  }
}

// The reducer that runs for R on storage type T: the NaN-skipping ones are the plain ones on integers
// (which have no NaN), so that no kernels are compiled twice.
template <typename R, typename T>
using EffectiveReducer =
    std::conditional_t<kAccepts<kFloat, T>, R,
                       std::conditional_t<std::is_same_v<R, NanSumOp>, SumOp,
                                          std::conditional_t<std::is_same_v<R, NanProdOp>, ProdOp, R>>>;

// Calls fn(R{}) for reducer code `reducer`; false for an unknown code.
template <typename Fn>
bool DispatchReducer(int reducer, Fn&& fn) {
  switch (reducer) {
    case kSumReducer: fn(SumOp{}); return true;
    case kNanSumReducer: fn(NanSumOp{}); return true;
    case kProdReducer: fn(ProdOp{}); return true;
    case kNanProdReducer: fn(NanProdOp{}); return true;
    case kMaxReducer: fn(MaxOp{}); return true;
    case kMinReducer: fn(MinOp{}); return true;
  }
  return false;
}

}  // namespace

int64_t ReduceWorkspaceBytes(int reducer, int type, const ReduceGeometry& geometry) {
  int64_t bytes = 0;
  DispatchType<kNumeric>(type, [&](auto tag) {
    using T = decltype(tag);
    if (geometry.out_size <= 0 || geometry.reduce_size <= 0) return;
    const Plan plan = MakePlan(geometry);
    if (plan.pieces > 1) bytes = geometry.out_size * plan.pieces * static_cast<int64_t>(sizeof(Accumulator<T>));
  });
  return bytes;
}

int LaunchReduce(int reducer, int type, const ReduceGeometry& geometry, const void* x, void* y, int mean,
                 void* workspace, int add, void* stream) {
  ClearStaleError();
  cudaStream_t cuda_stream = static_cast<cudaStream_t>(stream);
  bool type_known = false;
  const bool reducer_known = DispatchReducer(reducer, [&](auto reducer_tag) {
    using R = decltype(reducer_tag);
    type_known = DispatchType<kNumeric>(type, [&](auto tag) {
      using T = decltype(tag);
      LaunchReduceOf<EffectiveReducer<R, T>, T>(geometry, static_cast<const T*>(x), static_cast<T*>(y), mean != 0,
                                                workspace, add != 0, cuda_stream);
    });
  });
  return reducer_known && type_known ? LaunchStatus() : kUnsupported;
}

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
