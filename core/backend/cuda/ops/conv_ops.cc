// GPU kernels of Convolution and its gradient helpers _convolution_backward_data and
// _convolution_backward_weight (core/ops/nn/convolution.cc) on cuDNN's convolution API.
//
// Note [Convolutions on cuDNN]
// The geometry comes from the operands' shapes and the op's parameters (kernel, stride, dilate, pad,
// num_group); the CPU op's shape inference has already checked them. MXNet's layouts are cuDNN's NCHW
// family: data (N, C, spatial...), weight (num_filter, C / num_group, kernel...). cuDNN wants at least two
// spatial axes, so a 1-d convolution runs as a 2-d one with a leading spatial axis of 1. Precision:
// float32 uses CUDNN_FMA_MATH (no TF32 tensor cores, so results match the CPU's float32 to rounding),
// float16/bfloat16 accumulate in float32 on tensor cores, float64 in float64. The algorithm is cuDNN's
// first heuristic choice (cudnnGet*Algorithm_v7) whose workspace fits MXNet's `workspace` parameter (MB),
// cached per geometry; the workspace is the stream's (Note [Per-stream GPU resources]). The bias is added
// afterwards by the broadcasting add kernel, as the CPU adds it.
#include <cuda_runtime_api.h>

#include <climits>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/backend/cuda/ops/geometry.h"
#include "core/backend/cuda/ops/launch.h"
#include "core/backend/cuda/ops/resources.h"
#include "core/base/error.h"
#include "core/base/mutex.h"
#include "core/ops/op.h"

namespace pmx {
namespace gpu {
namespace ops_kernels {
namespace {

// Which cuDNN call a kernel makes.
enum class Pass { kForward, kBackwardData, kBackwardFilter };

// The descriptors of one call, destroyed with it.
class Descriptors {
 public:
  explicit Descriptors(const char* op) {
    CheckCudnn(op, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&x));
    CheckCudnn(op, "cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&y));
    CheckCudnn(op, "cudnnCreateFilterDescriptor", cudnnCreateFilterDescriptor(&w));
    CheckCudnn(op, "cudnnCreateConvolutionDescriptor", cudnnCreateConvolutionDescriptor(&conv));
  }
  ~Descriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

  cudnnTensorDescriptor_t x = nullptr;         // The convolution's input (data).
  cudnnTensorDescriptor_t y = nullptr;         // Its output.
  cudnnFilterDescriptor_t w = nullptr;         // The weight.
  cudnnConvolutionDescriptor_t conv = nullptr;  // Stride, padding, dilation, groups.
};

// cuDNN's view of one convolution: dims of x, y, w (>= 4 each) and the per-spatial-axis settings.
struct ConvDims {
  std::vector<int> x, y, w, pad, stride, dilate;
  int groups = 1;
};

int ToInt(const char* op, int64_t value) {
  PMX_CHECK(value <= INT_MAX, kNotImplementedError, "[%s] dimension %d exceeds cuDNN's 32-bit sizes", op, value);
  return static_cast<int>(value);
}

// A spatial tuple parameter, or `fallback` per axis when empty.
std::vector<int64_t> Spatial(const OpParams& params, const char* name, int spatial, int64_t fallback) {
  std::vector<int64_t> values = params.Ints(name);
  if (values.empty()) values.assign(spatial, fallback);
  return values;
}

// The dims of a convolution of `data` into `output` (both (N, C, spatial...)) with `params`.
ConvDims MakeDims(const char* op, const OpParams& params, const Shape& data, const Shape& output) {
  const std::vector<int64_t> kernel = params.Ints("kernel");
  const int spatial = static_cast<int>(kernel.size());
  PMX_CHECK(data.ndim() == spatial + 2 && output.ndim() == spatial + 2, kRuntimeError,
            "[%s] unexpected shapes %s and %s for a kernel of %d axes", op, data.ToString(), output.ToString(),
            spatial);
  const std::vector<int64_t> stride = Spatial(params, "stride", spatial, 1);
  const std::vector<int64_t> dilate = Spatial(params, "dilate", spatial, 1);
  const std::vector<int64_t> pad = Spatial(params, "pad", spatial, 0);
  ConvDims dims;
  dims.groups = ToInt(op, params.Int("num_group"));
  const bool lift = spatial == 1;  // Runs as 2-d with a leading spatial axis of 1.
  dims.x = {ToInt(op, data[0]), ToInt(op, data[1])};
  dims.y = {ToInt(op, output[0]), ToInt(op, output[1])};
  dims.w = {ToInt(op, output[1]), ToInt(op, data[1] / dims.groups)};
  if (lift) {
    for (std::vector<int>* v : {&dims.x, &dims.y, &dims.w}) v->push_back(1);
    dims.pad.push_back(0);
    dims.stride.push_back(1);
    dims.dilate.push_back(1);
  }
  for (int d = 0; d < spatial; ++d) {
    dims.x.push_back(ToInt(op, data[d + 2]));
    dims.y.push_back(ToInt(op, output[d + 2]));
    dims.w.push_back(ToInt(op, kernel[d]));
    dims.pad.push_back(ToInt(op, pad[d]));
    dims.stride.push_back(ToInt(op, stride[d]));
    dims.dilate.push_back(ToInt(op, dilate[d]));
  }
  return dims;
}

std::vector<int> PackedStrides(const std::vector<int>& dims) {
  std::vector<int> strides(dims.size());
  int64_t stride = 1;
  for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
    strides[d] = static_cast<int>(stride);
    stride *= dims[d];
  }
  return strides;
}

// cuDNN's data type, compute type and math type for `dtype` (Note [Convolutions on cuDNN]).
void TypesOf(const char* op, DType dtype, cudnnDataType_t* data, cudnnDataType_t* compute, cudnnMathType_t* math) {
  switch (dtype) {
    case DType::kFloat32: *data = CUDNN_DATA_FLOAT; *compute = CUDNN_DATA_FLOAT; *math = CUDNN_FMA_MATH; return;
    case DType::kFloat64: *data = CUDNN_DATA_DOUBLE; *compute = CUDNN_DATA_DOUBLE; *math = CUDNN_FMA_MATH; return;
    case DType::kFloat16: *data = CUDNN_DATA_HALF; *compute = CUDNN_DATA_FLOAT; *math = CUDNN_TENSOR_OP_MATH; return;
    case DType::kBfloat16:
      *data = CUDNN_DATA_BFLOAT16;
      *compute = CUDNN_DATA_FLOAT;
      *math = CUDNN_TENSOR_OP_MATH;
      return;
    default: break;
  }
  Throw(ErrorKind::kTypeError, "[%s] dtype %s is not supported", op, DTypeName(dtype));
}

void SetUp(const char* op, const ConvDims& dims, DType dtype, Descriptors* d) {
  cudnnDataType_t data, compute;
  cudnnMathType_t math;
  TypesOf(op, dtype, &data, &compute, &math);
  const int nd = static_cast<int>(dims.x.size());
  CheckCudnn(op, "cudnnSetTensorNdDescriptor",
             cudnnSetTensorNdDescriptor(d->x, data, nd, dims.x.data(), PackedStrides(dims.x).data()));
  CheckCudnn(op, "cudnnSetTensorNdDescriptor",
             cudnnSetTensorNdDescriptor(d->y, data, nd, dims.y.data(), PackedStrides(dims.y).data()));
  CheckCudnn(op, "cudnnSetFilterNdDescriptor",
             cudnnSetFilterNdDescriptor(d->w, data, CUDNN_TENSOR_NCHW, nd, dims.w.data()));
  CheckCudnn(op, "cudnnSetConvolutionNdDescriptor",
             cudnnSetConvolutionNdDescriptor(d->conv, nd - 2, dims.pad.data(), dims.stride.data(), dims.dilate.data(),
                                             CUDNN_CROSS_CORRELATION, compute));
  CheckCudnn(op, "cudnnSetConvolutionGroupCount", cudnnSetConvolutionGroupCount(d->conv, dims.groups));
  CheckCudnn(op, "cudnnSetConvolutionMathType", cudnnSetConvolutionMathType(d->conv, math));
}

// An algorithm cuDNN chose, with its workspace size and math type.
struct Choice {
  int algo = 0;
  size_t workspace = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};

// Picks the first heuristic result that succeeds within `limit` workspace bytes.
template <typename Perf>
bool PickFrom(const Perf* results, int count, size_t limit, cudnnMathType_t requested, Choice* choice) {
  for (int i = 0; i < count; ++i) {
    if (results[i].status != CUDNN_STATUS_SUCCESS || results[i].memory > limit) continue;
    // float32 must not drift onto TF32 tensor cores: keep to the requested math.
    if (requested == CUDNN_FMA_MATH && results[i].mathType == CUDNN_TENSOR_OP_MATH) continue;
    choice->algo = static_cast<int>(results[i].algo);
    choice->workspace = results[i].memory;
    choice->math = results[i].mathType == CUDNN_DEFAULT_MATH && requested == CUDNN_FMA_MATH ? requested
                                                                                            : results[i].mathType;
    return true;
  }
  return false;
}

// The cached choice of algorithm for this call (Note [Convolutions on cuDNN]).
Choice ChooseAlgorithm(const char* op, Pass pass, cudnnHandle_t handle, const ConvDims& dims, DType dtype,
                       size_t limit, const Descriptors& d) {
  static Mutex* mutex = new Mutex();
  static auto* cache = new std::map<std::string, Choice>();
  int device = 0;
  CheckCudaCall(op, "cudaGetDevice", cudaGetDevice(&device));
  std::string key = absl::StrCat(device, "/", static_cast<int>(pass), "/", static_cast<int>(dtype), "/", limit, "/",
                                 dims.groups);
  for (const std::vector<int>* v : {&dims.x, &dims.y, &dims.w, &dims.pad, &dims.stride, &dims.dilate}) {
    key += "|";
    for (int value : *v) absl::StrAppend(&key, value, ",");
  }
  {
    MutexLock lock(mutex);
    auto found = cache->find(key);
    if (found != cache->end()) return found->second;
  }
  cudnnDataType_t data, compute;
  cudnnMathType_t requested;
  TypesOf(op, dtype, &data, &compute, &requested);
  constexpr int kMaxResults = 16;
  int count = 0;
  Choice choice;
  bool found = false;
  if (pass == Pass::kForward) {
    cudnnConvolutionFwdAlgoPerf_t results[kMaxResults];
    CheckCudnn(op, "cudnnGetConvolutionForwardAlgorithm_v7",
               cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x, d.w, d.conv, d.y, kMaxResults, &count, results));
    found = PickFrom(results, count, limit, requested, &choice);
  } else if (pass == Pass::kBackwardData) {
    cudnnConvolutionBwdDataAlgoPerf_t results[kMaxResults];
    CheckCudnn(op, "cudnnGetConvolutionBackwardDataAlgorithm_v7",
               cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d.w, d.y, d.conv, d.x, kMaxResults, &count,
                                                           results));
    found = PickFrom(results, count, limit, requested, &choice);
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t results[kMaxResults];
    CheckCudnn(op, "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
               cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d.x, d.y, d.conv, d.w, kMaxResults, &count,
                                                             results));
    found = PickFrom(results, count, limit, requested, &choice);
  }
  PMX_CHECK(found, kRuntimeError,
            "[%s] cuDNN offers no %s algorithm for this geometry within the workspace limit of %d MB (raise the "
            "`workspace` parameter)", op, DTypeName(dtype), limit >> 20);
  MutexLock lock(mutex);
  (*cache)[key] = choice;
  return choice;
}

// Runs one pass: forward (first = data, second = weight, result = output), backward data (first =
// out_grad, second = weight, result = data grad) or backward filter (first = out_grad, second = data,
// result = weight grad); `data_shape` and `output_shape` are the convolution's input and output.
void RunPass(const char* op, Pass pass, const KernelContext& context, const TensorRef& first,
             const TensorRef& second, const TensorRef& result, const Shape& data_shape, const Shape& output_shape) {
  PMX_CHECK(first.dtype == second.dtype && first.dtype == result.dtype, kTypeError,
            "[%s] inputs have dtypes %s and %s: expected the same floating-point dtype", op, DTypeName(first.dtype),
            DTypeName(second.dtype));
  const DType dtype = result.dtype;
  const bool add = context.modes[0] == WriteMode::kAdd;
  if (result.size() == 0) return;
  if (first.size() == 0 || second.size() == 0) {  // An empty sum: zeros, or nothing to add.
    if (!add) {
      CheckCudaCall(op, "cudaMemsetAsync",
                    cudaMemsetAsync(result.data, 0, result.size() * DTypeSize(dtype),
                                    static_cast<cudaStream_t>(context.stream)));
    }
    return;
  }
  const ConvDims dims = MakeDims(op, *context.params, data_shape, output_shape);
  Descriptors d(op);
  SetUp(op, dims, dtype, &d);
  const size_t limit = static_cast<size_t>(context.params->Int("workspace")) << 20;
  StreamLease lease(context.stream);
  cudnnHandle_t handle = lease.Cudnn(op);
  const Choice choice = ChooseAlgorithm(op, pass, handle, dims, dtype, limit, d);
  CheckCudnn(op, "cudnnSetConvolutionMathType", cudnnSetConvolutionMathType(d.conv, choice.math));
  void* workspace = lease.Workspace(op, choice.workspace);
  const double alpha64 = 1.0, beta64 = add ? 1.0 : 0.0;
  const float alpha32 = 1.0f, beta32 = add ? 1.0f : 0.0f;
  const bool is_double = dtype == DType::kFloat64;
  const void* alpha = is_double ? static_cast<const void*>(&alpha64) : &alpha32;
  const void* beta = is_double ? static_cast<const void*>(&beta64) : &beta32;
  switch (pass) {
    case Pass::kForward:
      CheckCudnn(op, "cudnnConvolutionForward",
                 cudnnConvolutionForward(handle, alpha, d.x, first.data, d.w, second.data, d.conv,
                                         static_cast<cudnnConvolutionFwdAlgo_t>(choice.algo), workspace,
                                         choice.workspace, beta, d.y, result.data));
      break;
    case Pass::kBackwardData:
      CheckCudnn(op, "cudnnConvolutionBackwardData",
                 cudnnConvolutionBackwardData(handle, alpha, d.w, second.data, d.y, first.data, d.conv,
                                              static_cast<cudnnConvolutionBwdDataAlgo_t>(choice.algo), workspace,
                                              choice.workspace, beta, d.x, result.data));
      break;
    case Pass::kBackwardFilter:
      CheckCudnn(op, "cudnnConvolutionBackwardFilter",
                 cudnnConvolutionBackwardFilter(handle, alpha, d.x, second.data, d.y, first.data, d.conv,
                                                static_cast<cudnnConvolutionBwdFilterAlgo_t>(choice.algo), workspace,
                                                choice.workspace, beta, d.w, result.data));
      break;
  }
}

void ConvolutionGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                          absl::Span<const TensorRef> out) {
  const char* op = "Convolution";
  RunPass(op, Pass::kForward, context, in[0], in[1], out[0], in[0].shape, out[0].shape);
  if (in.size() < 3 || out[0].size() == 0) return;
  PMX_CHECK(in[2].dtype == out[0].dtype, kTypeError, "[%s] bias has dtype %s but data has %s", op,
            DTypeName(in[2].dtype), DTypeName(out[0].dtype));
  // out[n, f, ...] += bias[f]: bias as (F, 1, ..., 1) broadcast against (N, F, spatial...).
  std::vector<int64_t> bias_dims(out[0].shape.ndim() - 1, 1);
  bias_dims[0] = out[0].shape[1];
  const Shape bias_shape(bias_dims);
  const StridedGeometry geometry = MakeStridedGeometry(op, out[0].shape, out[0].shape, &bias_shape);
  CheckLaunch(op,
              LaunchBinary(kAdd, static_cast<int>(out[0].dtype), out[0].data, in[2].data, out[0].data, out[0].size(),
                           &geometry, /*add=*/0, context.stream),
              out[0].dtype);
}

// _convolution_backward_data(out_grad, weight, data) -> data's shape.
void BackwardDataGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                           absl::Span<const TensorRef> out) {
  RunPass("_convolution_backward_data", Pass::kBackwardData, context, in[0], in[1], out[0], in[2].shape, in[0].shape);
}

// _convolution_backward_weight(out_grad, data) -> weight's shape.
void BackwardWeightGpuKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                             absl::Span<const TensorRef> out) {
  RunPass("_convolution_backward_weight", Pass::kBackwardFilter, context, in[0], in[1], out[0], in[1].shape,
          in[0].shape);
}

const bool kRegistered = [] {
  OpRegistry* registry = OpRegistry::Get();
  registry->AddKernel("Convolution", DeviceType::kGPU, ConvolutionGpuKernel);
  registry->AddKernel("_convolution_backward_data", DeviceType::kGPU, BackwardDataGpuKernel);
  registry->AddKernel("_convolution_backward_weight", DeviceType::kGPU, BackwardWeightGpuKernel);
  return true;
}();

}  // namespace
}  // namespace ops_kernels
}  // namespace gpu
}  // namespace pmx
