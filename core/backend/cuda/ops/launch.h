// The GPU operator kernels behind a plain C-style interface: raw pointers, sizes, strides, type codes
// and a stream (a cudaStream_t passed as void*). nvcc compiles the kernels (.cu) against this header
// alone, so they see no Abseil or Polymix headers; the registration files (.cc) adapt TensorRef and
// KernelContext to these calls and turn their status into pmx::Error (see resources.h).
//
// Every launcher queues work on `stream` and returns at once with the cudaError_t of the launch (0 on
// success) or kUnsupported for a code it does not know. `add` != 0 adds into the output (kAdd).
#ifndef POLYMIX_CORE_BACKEND_CUDA_OPS_LAUNCH_H_
#define POLYMIX_CORE_BACKEND_CUDA_OPS_LAUNCH_H_

#include <cstdint>

#include "core/backend/cuda/ops/elementwise_table.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {

// Element type codes: the values of pmx::DType (the registration files check that they agree).
enum TypeCode : int32_t {
  kFloat32 = 0,    // float.
  kFloat64 = 1,    // double.
  kFloat16 = 2,    // __half.
  kUint8 = 3,      // uint8_t.
  kInt32 = 4,      // int32_t.
  kInt8 = 5,       // int8_t.
  kInt64 = 6,      // int64_t.
  kBool = 7,       // bool (one byte, 0 or 1).
  kBfloat16 = 12,  // __nv_bfloat16.
};

// What a launcher returns for an op code, type code or combination it has no kernel for.
constexpr int kUnsupported = -1;

// Dimensions a geometry holds after merging (see geometry.h); more is NotImplementedError.
constexpr int kMaxDims = 8;

// Which dtypes a table row accepts (core/ops' DTypes): the DTYPES column of elementwise_table.h.
enum DTypeClass : int32_t {
  kFloat,    // float16, bfloat16, float32, float64.
  kNumeric,  // The floats plus uint8, int8, int32, int64.
  kAll,      // Numeric plus bool.
};

// Which operator parameters a unary op passes as p0 and p1: the PARAMS column of elementwise_table.h.
enum UnaryParams : int32_t {
  kNoParams,    // None.
  kAlphaBeta,   // alpha, beta (hard_sigmoid).
  kClipBounds,  // a_min, a_max (clip).
};

// Codes of the unary, scalar and binary ops, in table order (elementwise_table.h).
#define PMX_GPU_CODE(CODE, ...) CODE,
enum UnaryOp : int32_t { PMX_GPU_UNARY_OPS(PMX_GPU_CODE) kNumUnaryOps };
enum ScalarOp : int32_t { PMX_GPU_SCALAR_OPS(PMX_GPU_CODE) kNumScalarOps };
enum BinaryOp : int32_t { PMX_GPU_BINARY_OPS(PMX_GPU_CODE) kNumBinaryOps };
#undef PMX_GPU_CODE

// How output element i maps to offsets in up to two inputs: i's row-major multi-index over
// out_sizes, dotted with each input's strides (0 along broadcast axes).
struct StridedGeometry {
  int32_t ndim = 0;                 // Dimensions used (0: one element).
  int64_t out_sizes[kMaxDims];      // Output sizes, outermost first.
  int64_t strides[2][kMaxDims];     // Element strides of input 0 and input 1.
};

// The loop structure of a reduction: the input's axes merged into kept and reduced groups (row-major
// within each), as core/ops/internal/reduce_kernel.h's ReduceGeometry describes it.
struct ReduceGeometry {
  int32_t kept_ndim = 0;               // Kept groups.
  int32_t reduced_ndim = 0;            // Reduced groups.
  int64_t kept_sizes[kMaxDims];        // Kept group sizes, outermost first.
  int64_t kept_strides[kMaxDims];      // Their input strides.
  int64_t reduced_sizes[kMaxDims];     // Reduced group sizes, outermost first.
  int64_t reduced_strides[kMaxDims];   // Their input strides.
  int64_t out_size = 1;                // Outputs.
  int64_t reduce_size = 1;             // Elements combined into each output.
  int32_t inner_reduced = 0;           // Whether the stride-1 group is reduced.
};

// The reductions (core/ops/reduce.cc's reducers).
enum Reducer : int32_t {
  kSumReducer,     // Sum (float: float/double accumulator; integers: int64).
  kNanSumReducer,  // Sum with NaN as 0.
  kProdReducer,    // Product (integers wrap modulo 2^64).
  kNanProdReducer, // Product with NaN as 1.
  kMaxReducer,     // Maximum; NaN wins.
  kMinReducer,     // Minimum; NaN wins.
};

// y[i] = f(x[i]) for n elements; p0 and p1 are the op's parameters (see PMX_GPU_UNARY_OPS).
int LaunchUnary(int op, int type, const void* x, void* y, int64_t n, double p0, double p1, int add, void* stream);

// y[i] = f(x[i], scalar) for n elements.
int LaunchScalar(int op, int type, const void* x, void* y, int64_t n, double scalar, int add, void* stream);

// y[i] = f(a[i], b[i]) for n elements; with `geometry` (non-null) a and b are read at its offsets.
int LaunchBinary(int op, int type, const void* a, const void* b, void* y, int64_t n,
                 const StridedGeometry* geometry, int add, void* stream);

// y[i] = x[offset(i)] / divisor (input 0's strides of `geometry`), for n elements of any type;
// integers divide truncating, as the CPU's _broadcast_reduced does. divisor 1 copies.
int LaunchBroadcastCopy(int type, const void* x, void* y, int64_t n, const StridedGeometry& geometry,
                        int64_t divisor, int add, void* stream);

// y[i] = sum of inputs[k][i] over `count` inputs, for n elements (add_n).
int LaunchAddN(int type, const void* const* inputs, int count, void* y, int64_t n, int add, void* stream);

// Bytes of scratch memory LaunchReduce needs for this reduction (0: none).
int64_t ReduceWorkspaceBytes(int reducer, int type, const ReduceGeometry& geometry);

// Reduces x into y as `geometry` says; `mean` divides by the reduced count (integers truncating,
// 0 elements count as 1). `workspace` holds ReduceWorkspaceBytes bytes, private to this stream.
int LaunchReduce(int reducer, int type, const ReduceGeometry& geometry, const void* x, void* y, int mean,
                 void* workspace, int add, void* stream);

}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx

#endif  // POLYMIX_CORE_BACKEND_CUDA_OPS_LAUNCH_H_
