// GPU kernels of the reductions over axes (core/ops/reduce.cc): sum, mean, prod, nansum, nanprod, max,
// min and the gradient helper _sum_to_like, on reduce.cu (Note [GPU reduction loops]).
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

// Reduces the `reduced` axes of in[0] into out[0] with `reducer`.
void RunReduction(const char* op, int reducer, bool mean, const std::vector<bool>& reduced,
                  const KernelContext& context, const TensorRef& in, const TensorRef& out) {
  PMX_CHECK(in.dtype != DType::kBool, kTypeError, "[%s] dtype %s is not supported", op, DTypeName(in.dtype));
  const ReduceGeometry geometry = MakeReduceGeometry(op, in.shape, reduced);
  PMX_CHECK(geometry.out_size == out.size(), kRuntimeError,
            "[%s] reducing shape %s gives %d elements, but the output %s has %d", op, in.shape.ToString(),
            geometry.out_size, out.shape.ToString(), out.size());
  const int type = static_cast<int>(in.dtype);
  const int64_t bytes = ReduceWorkspaceBytes(reducer, type, geometry);
  StreamLease lease(context.stream);  // Held until the kernels are queued: the workspace is the stream's.
  void* workspace = lease.Workspace(op, static_cast<size_t>(bytes));
  CheckLaunch(op,
              LaunchReduce(reducer, type, geometry, in.data, out.data, mean, workspace,
                           context.modes[0] == WriteMode::kAdd, context.stream),
              in.dtype);
}

// A reduction over MXNet's (axis, keepdims, exclude).
Kernel AxesReduction(std::string op, int reducer, bool mean) {
  return [op, reducer, mean](const KernelContext& context, absl::Span<const TensorRef> in,
                             absl::Span<const TensorRef> out) {
    RunReduction(op.c_str(), reducer, mean, ReducedAxes(op.c_str(), *context.params, in[0].shape), context, in[0],
                 out[0]);
  };
}

// _sum_to_like(data, like): sums data over the axes where like (left-padded with 1s) is 1.
void SumToLikeGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                        absl::Span<const TensorRef> out) {
  const Shape& data = in[0].shape;
  const Shape& like = out[0].shape;
  std::vector<bool> reduced(data.ndim());
  for (int d = 0; d < data.ndim(); ++d) {
    const int like_d = d - (data.ndim() - like.ndim());
    reduced[d] = like_d < 0 || like[like_d] == 1;
  }
  RunReduction("_sum_to_like", kSumReducer, false, reduced, context, in[0], out[0]);
}

const bool kRegistered = [] {
  OpRegistry* registry = OpRegistry::Get();
  const DeviceType gpu = DeviceType::kGPU;
  registry->AddKernel("sum", gpu, AxesReduction("sum", kSumReducer, false));
  registry->AddKernel("mean", gpu, AxesReduction("mean", kSumReducer, true));
  registry->AddKernel("prod", gpu, AxesReduction("prod", kProdReducer, false));
  registry->AddKernel("nansum", gpu, AxesReduction("nansum", kNanSumReducer, false));
  registry->AddKernel("nanprod", gpu, AxesReduction("nanprod", kNanProdReducer, false));
  registry->AddKernel("max", gpu, AxesReduction("max", kMaxReducer, false));
  registry->AddKernel("min", gpu, AxesReduction("min", kMinReducer, false));
  registry->AddKernel("_sum_to_like", gpu, SumToLikeGpuKernel);
  return true;
}();

}  // namespace
}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
