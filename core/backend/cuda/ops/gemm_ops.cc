// GPU kernels of the matrix products on cuBLAS: dot, batch_dot (core/ops/dot.cc) and FullyConnected
// (core/ops/nn/fully_connected.cc).
//
// Note [Row-major products on cuBLAS]
// cuBLAS is column-major. A row-major m x n matrix C is the column-major n x m matrix C^T, and
// C = op(A) op(B) is C^T = op(B)^T op(A)^T, so each product is one cuBLAS call with the operands
// swapped: (m, n) -> (n, m), B first. A row-major operand stored r x c reads as its transpose with
// leading dimension c, which gives the leading dimensions below. float32 runs cublasGemmEx with
// CUBLAS_COMPUTE_32F, which never uses TF32 (that needs an explicit *_FAST_TF32 compute type or math
// mode), so results match the CPU's float32 to rounding; float16 and bfloat16 accumulate in float32,
// as the CPU's do; float64 is DGEMM.
#include <cuda_runtime_api.h>

#include <climits>
#include <string>

#include "core/backend/cuda/ops/geometry.h"
#include "core/backend/cuda/ops/launch.h"
#include "core/backend/cuda/ops/resources.h"
#include "core/base/error.h"
#include "core/ops/op.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

// One (batched) row-major product C[i] = op(A[i]) op(B[i]) (+ C[i] when accumulating).
struct GemmProblem {
  int64_t batch = 1;            // Products, dense one after another.
  int64_t m = 0, n = 0, k = 0;  // op(A) is m x k, op(B) is k x n.
  bool trans_a = false;         // A is stored k x m.
  bool trans_b = false;         // B is stored n x k.
};

cudaDataType_t CudaType(const char* op, DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return CUDA_R_32F;
    case DType::kFloat64: return CUDA_R_64F;
    case DType::kFloat16: return CUDA_R_16F;
    case DType::kBfloat16: return CUDA_R_16BF;
    default: break;
  }
  Throw(ErrorKind::kTypeError, "[%s] dtype %s is not supported", op, DTypeName(dtype));
}

int CublasDim(const char* op, const char* name, int64_t value) {
  PMX_CHECK(value <= INT_MAX, kNotImplementedError, "[%s] %s = %d exceeds the 32-bit sizes the GPU product uses", op,
            name, value);
  return static_cast<int>(value);
}

// Queues the product on the context's stream (Note [Row-major products on cuBLAS]).
void RunGemm(const char* op, const KernelContext& context, DType dtype, const GemmProblem& p, const void* a,
             const void* b, void* c, bool add) {
  const cudaDataType_t type = CudaType(op, dtype);
  if (p.batch == 0 || p.m == 0 || p.n == 0) return;
  cudaStream_t stream = static_cast<cudaStream_t>(context.stream);
  if (p.k == 0) {  // An empty sum: zeros, or nothing to add.
    if (!add) {
      const cudaError_t status =
          cudaMemsetAsync(c, 0, static_cast<size_t>(p.batch * p.m * p.n) * DTypeSize(dtype), stream);
      CheckLaunch(op, static_cast<int>(status), dtype);
    }
    return;
  }
  const int m = CublasDim(op, "m", p.m), n = CublasDim(op, "n", p.n), k = CublasDim(op, "k", p.k);
  const int batch = CublasDim(op, "batch", p.batch);
  const cublasOperation_t op_b = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ld_b = p.trans_b ? k : n;
  const int ld_a = p.trans_a ? m : k;
  const double alpha64 = 1.0, beta64 = add ? 1.0 : 0.0;
  const float alpha32 = 1.0f, beta32 = add ? 1.0f : 0.0f;
  const bool is_double = dtype == DType::kFloat64;
  const void* alpha = is_double ? static_cast<const void*>(&alpha64) : &alpha32;
  const void* beta = is_double ? static_cast<const void*>(&beta64) : &beta32;
  const cublasComputeType_t compute = is_double ? CUBLAS_COMPUTE_64F : CUBLAS_COMPUTE_32F;
  StreamLease lease(context.stream);
  cublasHandle_t handle = lease.Cublas(op);
  if (batch == 1) {
    CheckCublas(op, "cublasGemmEx",
                cublasGemmEx(handle, op_b, op_a, n, m, k, alpha, b, type, ld_b, a, type, ld_a, beta, c, type, n,
                             compute, CUBLAS_GEMM_DEFAULT));
  } else {
    CheckCublas(op, "cublasGemmStridedBatchedEx",
                cublasGemmStridedBatchedEx(handle, op_b, op_a, n, m, k, alpha, b, type, ld_b, p.k * p.n, a, type,
                                           ld_a, p.m * p.k, beta, c, type, n, p.m * p.n, batch, compute,
                                           CUBLAS_GEMM_DEFAULT));
  }
}

bool Adds(const KernelContext& context) { return context.modes[0] == WriteMode::kAdd; }

void CheckSameDTypes(const char* op, absl::Span<const TensorRef> in) {
  for (size_t i = 1; i < in.size(); ++i) {
    PMX_CHECK(in[i].dtype == in[0].dtype, kTypeError, "[%s] inputs have dtypes %s and %s: expected the same", op,
              DTypeName(in[0].dtype), DTypeName(in[i].dtype));
  }
}

// dot: the 2-d views of Note [dot on N-d arrays] in core/ops/dot.cc.
void DotGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
  CheckSameDTypes("dot", in);
  const Shape& lhs = in[0].shape;
  GemmProblem p;
  p.trans_a = context.params->Bool("transpose_a");
  p.trans_b = context.params->Bool("transpose_b");
  p.k = p.trans_a ? lhs[0] : lhs[lhs.ndim() - 1];
  if (p.k > 0) {
    p.m = lhs.size() / p.k;
    p.n = in[1].size() / p.k;
  } else {  // Only the output's size matters: fill it with zeros.
    p.m = 1;
    p.n = out[0].size();
  }
  PMX_CHECK(p.m * p.n == out[0].size(), kRuntimeError, "[dot] a %d x %d product does not fill the output %s", p.m,
            p.n, out[0].shape.ToString());
  RunGemm("dot", context, in[0].dtype, p, in[0].data, in[1].data, out[0].data, Adds(context));
}

// batch_dot: products of the last two axes, over the leading (batch) axes.
void BatchDotGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                       absl::Span<const TensorRef> out) {
  CheckSameDTypes("batch_dot", in);
  const Shape& lhs = in[0].shape;
  const Shape& rhs = in[1].shape;
  const int nd = lhs.ndim();
  PMX_CHECK(nd >= 3 && rhs.ndim() == nd, kRuntimeError, "[batch_dot] unexpected shapes %s and %s", lhs.ToString(),
            rhs.ToString());
  GemmProblem p;
  p.trans_a = context.params->Bool("transpose_a");
  p.trans_b = context.params->Bool("transpose_b");
  for (int d = 0; d < nd - 2; ++d) p.batch *= lhs[d];
  p.m = p.trans_a ? lhs[nd - 1] : lhs[nd - 2];
  p.k = p.trans_a ? lhs[nd - 2] : lhs[nd - 1];
  p.n = p.trans_b ? rhs[nd - 2] : rhs[nd - 1];
  PMX_CHECK(p.batch * p.m * p.n == out[0].size(), kRuntimeError, "[batch_dot] %d products of %d x %d do not fill "
            "the output %s", p.batch, p.m, p.n, out[0].shape.ToString());
  RunGemm("batch_dot", context, in[0].dtype, p, in[0].data, in[1].data, out[0].data, Adds(context));
}

// FullyConnected: out = data2d * weight^T (+ out when accumulating), then + bias per row, as the CPU
// kernel adds it (after the product, rounded once more for 16-bit floats).
void FullyConnectedGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                             absl::Span<const TensorRef> out) {
  const char* op = "FullyConnected";
  for (size_t i = 1; i < in.size(); ++i) {
    PMX_CHECK(in[i].dtype == in[0].dtype, kTypeError, "[FullyConnected] %s has dtype %s but data has %s",
              i == 1 ? "weight" : "bias", DTypeName(in[i].dtype), DTypeName(in[0].dtype));
  }
  const Shape& data = in[0].shape;
  const bool flatten = context.params->Bool("flatten");
  GemmProblem p;
  p.n = context.params->Int("num_hidden");
  p.m = flatten ? data[0] : 1;
  p.k = flatten ? 1 : data[data.ndim() - 1];
  for (int d = 0; d < data.ndim(); ++d) {
    if (flatten && d > 0) p.k *= data[d];
    if (!flatten && d < data.ndim() - 1) p.m *= data[d];
  }
  p.trans_b = true;  // weight is (num_hidden, in_features).
  PMX_CHECK(p.m * p.n == out[0].size(), kRuntimeError, "[FullyConnected] a %d x %d product does not fill the "
            "output %s", p.m, p.n, out[0].shape.ToString());
  const bool add = Adds(context);
  RunGemm(op, context, in[0].dtype, p, in[0].data, in[1].data, out[0].data, add);
  if (in.size() < 3 || out[0].size() == 0) return;
  const Shape rows({p.m, p.n});
  const Shape bias({p.n});
  const StridedGeometry geometry = MakeStridedGeometry(op, rows, rows, &bias);
  CheckLaunch(op,
              LaunchBinary(kAdd, static_cast<int>(in[0].dtype), out[0].data, in[2].data, out[0].data, out[0].size(),
                           &geometry, /*add=*/0, context.stream),
              in[0].dtype);
}

const bool kRegistered = [] {
  OpRegistry* registry = OpRegistry::Get();
  registry->AddKernel("dot", DeviceType::kGPU, DotGpuKernel);
  registry->AddKernel("batch_dot", DeviceType::kGPU, BatchDotGpuKernel);
  registry->AddKernel("FullyConnected", DeviceType::kGPU, FullyConnectedGpuKernel);
  return true;
}();

}  // namespace
}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
