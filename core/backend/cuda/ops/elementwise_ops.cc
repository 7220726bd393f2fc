// GPU kernels of the elementwise families (unary.cc, scalar.cc, binary.cc, broadcast.cc, add_n): each
// adapts TensorRef/KernelContext to a launcher of launch.h and is added to the op's declaration with
// OpRegistry::AddKernel (Note [Kernels added by backends] in core/ops/registry.cc).
#include <string>
#include <vector>

#include "core/backend/cuda/ops/geometry.h"
#include "core/backend/cuda/ops/launch.h"
#include "core/backend/cuda/ops/resources.h"
#include "core/base/error.h"
#include "core/ops/op.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

int Code(DType dtype) { return static_cast<int>(dtype); }

bool Adds(const KernelContext& context) { return context.modes[0] == WriteMode::kAdd; }

// Throws TypeError naming `op`, as the CPU kernels' DispatchAllowed does, unless `dtype` is in `allowed`.
void CheckDType(const std::string& op, int allowed, DType dtype) {
  const bool is_float = dtype == DType::kFloat32 || dtype == DType::kFloat64 || dtype == DType::kFloat16 ||
                        dtype == DType::kBfloat16;
  const bool ok = allowed == kAll || (allowed == kNumeric && dtype != DType::kBool) || (allowed == kFloat && is_float);
  PMX_CHECK(ok, kTypeError, "[%s] dtype %s is not supported", op, DTypeName(dtype));
}

// Throws TypeError naming `op` unless every input has the dtype of input 0.
void CheckSameDTypes(const std::string& op, absl::Span<const TensorRef> in) {
  for (size_t i = 1; i < in.size(); ++i) {
    PMX_CHECK(in[i].dtype == in[0].dtype, kTypeError, "[%s] inputs have dtypes %s and %s: expected the same", op,
              DTypeName(in[0].dtype), DTypeName(in[i].dtype));
  }
}

Kernel UnaryGpuKernel(std::string op, int code, int allowed, int params) {
  return [op, code, allowed, params](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    CheckDType(op, allowed, in[0].dtype);
    double p0 = 0, p1 = 0;
    if (params == kAlphaBeta) {
      p0 = context.params->Float("alpha");
      p1 = context.params->Float("beta");
    } else if (params == kClipBounds) {
      p0 = context.params->Float("a_min");
      p1 = context.params->Float("a_max");
      PMX_CHECK(p0 <= p1, kValueError, "[%s] a_min (%g) must be <= a_max (%g)", op, p0, p1);
    }
    CheckLaunch(op.c_str(),
                LaunchUnary(code, Code(in[0].dtype), in[0].data, out[0].data, out[0].size(), p0, p1, Adds(context),
                            context.stream),
                in[0].dtype);
  };
}

Kernel ScalarGpuKernel(std::string op, int code, int allowed) {
  return [op, code, allowed](const KernelContext& context, absl::Span<const TensorRef> in,
                             absl::Span<const TensorRef> out) {
    CheckDType(op, allowed, in[0].dtype);
    CheckLaunch(op.c_str(),
                LaunchScalar(code, Code(in[0].dtype), in[0].data, out[0].data, out[0].size(),
                             context.params->Float("scalar"), Adds(context), context.stream),
                in[0].dtype);
  };
}

// Same-shape operands take the flat kernel, others the broadcasting one; serves elemwise_* and broadcast_*.
Kernel BinaryGpuKernel(std::string op, int code, int allowed) {
  return [op, code, allowed](const KernelContext& context, absl::Span<const TensorRef> in,
                             absl::Span<const TensorRef> out) {
    CheckSameDTypes(op, in);
    CheckDType(op, allowed, in[0].dtype);
    const bool same = in[0].shape == out[0].shape && in[1].shape == out[0].shape;
    StridedGeometry geometry;
    if (!same) geometry = MakeStridedGeometry(op.c_str(), out[0].shape, in[0].shape, &in[1].shape);
    CheckLaunch(op.c_str(),
                LaunchBinary(code, Code(in[0].dtype), in[0].data, in[1].data, out[0].data, out[0].size(),
                             same ? nullptr : &geometry, Adds(context), context.stream),
                in[0].dtype);
  };
}

// broadcast_to, broadcast_like, broadcast_axis: input 0 broadcast to the output's shape.
Kernel BroadcastGpuKernel(std::string op) {
  return [op](const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
    const StridedGeometry geometry = MakeStridedGeometry(op.c_str(), out[0].shape, in[0].shape, nullptr);
    CheckLaunch(op.c_str(),
                LaunchBroadcastCopy(Code(in[0].dtype), in[0].data, out[0].data, out[0].size(), geometry, 1,
                                    Adds(context), context.stream),
                in[0].dtype);
  };
}

// _broadcast_reduced(data, like): data (like reduced, with or without keepdims) broadcast back to like's
// shape, divided by the reduced count when normalize.
void BroadcastReducedGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                               absl::Span<const TensorRef> out) {
  const char* op = "_broadcast_reduced";
  CheckDType(op, kNumeric, in[0].dtype);
  const Shape& like = in[1].shape;
  Shape kept = in[0].shape;
  if (kept.ndim() != like.ndim()) {  // keepdims=False: put the reduced axes back as 1s.
    const std::vector<bool> reduced = ReducedAxes(op, *context.params, like);
    std::vector<int64_t> dims;
    for (int d = 0; d < like.ndim(); ++d) dims.push_back(reduced[d] ? 1 : like[d]);
    kept = Shape(dims);
    PMX_CHECK(kept.size() == in[0].size(), kRuntimeError, "[%s] data of shape %s does not match like %s reduced",
              op, in[0].shape.ToString(), like.ToString());
  }
  const int64_t count = in[0].size() == 0 ? 1 : out[0].size() / in[0].size();
  const int64_t divisor = context.params->Bool("normalize") ? count : 1;
  const StridedGeometry geometry = MakeStridedGeometry(op, out[0].shape, kept, nullptr);
  CheckLaunch(op,
              LaunchBroadcastCopy(Code(in[0].dtype), in[0].data, out[0].data, out[0].size(), geometry, divisor,
                                  Adds(context), context.stream),
              in[0].dtype);
}

void AddNGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
  CheckSameDTypes("add_n", in);
  CheckDType("add_n", kNumeric, out[0].dtype);
  std::vector<const void*> pointers;
  for (const TensorRef& input : in) pointers.push_back(input.data);
  CheckLaunch("add_n",
              LaunchAddN(Code(out[0].dtype), pointers.data(), static_cast<int>(pointers.size()), out[0].data,
                         out[0].size(), Adds(context), context.stream),
              out[0].dtype);
}

// _dot_output_2d(data, lhs): data's elements in a 2-d shape, i.e. a copy (dot's gradient helper).
void DotOutput2dGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                          absl::Span<const TensorRef> out) {
  CheckDType("_dot_output_2d", kFloat, in[0].dtype);
  CheckLaunch("_dot_output_2d",
              LaunchUnary(kCopy, Code(in[0].dtype), in[0].data, out[0].data, out[0].size(), 0, 0, Adds(context),
                          context.stream),
              in[0].dtype);
}

// Adds every elementwise GPU kernel at static-initialisation time.
const bool kRegistered = [] {
  OpRegistry* registry = OpRegistry::Get();
  const DeviceType gpu = DeviceType::kGPU;
#define PMX_ADD_UNARY(CODE, NAME, CLASS, PARAMS, EXPR) \
  registry->AddKernel(NAME, gpu, UnaryGpuKernel(NAME, CODE, CLASS, PARAMS));
  PMX_GPU_UNARY_OPS(PMX_ADD_UNARY)
#undef PMX_ADD_UNARY
#define PMX_ADD_SCALAR(CODE, NAME, CLASS, EXPR) registry->AddKernel(NAME, gpu, ScalarGpuKernel(NAME, CODE, CLASS));
  PMX_GPU_SCALAR_OPS(PMX_ADD_SCALAR)
#undef PMX_ADD_SCALAR
#define PMX_ADD_BINARY(CODE, NAME, BROADCAST_NAME, CLASS, EXPR)                  \
  registry->AddKernel(NAME, gpu, BinaryGpuKernel(NAME, CODE, CLASS));            \
  registry->AddKernel(BROADCAST_NAME, gpu, BinaryGpuKernel(BROADCAST_NAME, CODE, CLASS));
  PMX_GPU_BINARY_OPS(PMX_ADD_BINARY)
#undef PMX_ADD_BINARY
  for (const char* op : {"broadcast_to", "broadcast_like", "broadcast_axis"}) {
    registry->AddKernel(op, gpu, BroadcastGpuKernel(op));
  }
  registry->AddKernel("_broadcast_reduced", gpu, BroadcastReducedGpuKernel);
  registry->AddKernel("add_n", gpu, AddNGpuKernel);
  registry->AddKernel("_dot_output_2d", gpu, DotOutput2dGpuKernel);
  return true;
}();

}  // namespace
}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
