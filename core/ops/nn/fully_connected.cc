// FullyConnected: out = data * weight^T + bias, on oneDNN's matmul with the bias fused for float32.
#include <string>
#include <vector>

#include "core/backend/cpu/dnnl_gemm.h"
#include "core/ops/internal/gemm.h"
#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// The (rows, in_features) view FullyConnected multiplies: with flatten, (N, prod(rest)); without, every
// axis but the last is a row.
struct FcView {
  int64_t rows = 1, features = 1;
};

FcView ViewOfData(const Shape& data, bool flatten) {
  PMX_CHECK(data.ndim() >= 1, kValueError, "[FullyConnected] data is a scalar: expected at least 1 dimension");
  FcView view;
  if (flatten) {
    view.rows = data[0];
    view.features = DimsProduct(data, 1, data.ndim());
  } else {
    view.features = data[data.ndim() - 1];
    view.rows = DimsProduct(data, 0, data.ndim() - 1);
  }
  return view;
}

PMX_REGISTER_OP(FullyConnected) {
  OpDef def;
  def.name = "FullyConnected";
  def.family = "nn/fully_connected";
  def.doc = "Applies a linear transformation out = data * weight^T + bias. With flatten (the default) data of shape "
            "(N, x1, ..., xn) is flattened to (N, x1*...*xn) and the output is (N, num_hidden); without, the "
            "product is taken over the last axis and the other axes are kept. weight is (num_hidden, in_features).";
  def.inputs = {"data", "weight", "bias"};
  def.num_inputs = [](const OpParams& params) { return params.Bool("no_bias") ? 2 : 3; };
  def.params = {{"num_hidden", ParamType::kInt, "", true, false, {}, "Number of hidden units of the output."},
                {"no_bias", ParamType::kBool, "False", false, false, {}, "Whether to leave out the bias."},
                {"flatten", ParamType::kBool, "True", false, false, {}, "Whether to flatten all but the first axis."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const int64_t hidden = params.Int("num_hidden");
    PMX_CHECK(hidden > 0, kValueError, "[FullyConnected] num_hidden is %d, expected a positive number",
              static_cast<int>(hidden));
    if (in->size() > 2) AssignInputShape("FullyConnected", "bias", &(*in)[2], Shape({hidden}));
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const bool flatten = params.Bool("flatten");
    const FcView view = ViewOfData(data, flatten);
    AssignInputShape("FullyConnected", "weight", &(*in)[1], Shape({hidden, view.features}));
    std::vector<int64_t> dims;
    if (flatten) {
      dims = {data[0], hidden};
    } else {
      dims.assign(data.dims().begin(), data.dims().end() - 1);
      dims.push_back(hidden);
    }
    (*out)[0] = Shape(dims);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("FullyConnected", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const FcView view = ViewOfData(in[0].shape, context.params->Bool("flatten"));
    const int64_t hidden = context.params->Int("num_hidden");
    const bool has_bias = in.size() > 2;
    const bool add = context.modes[0] == WriteMode::kAdd;
    for (size_t i = 1; i < in.size(); ++i) {
      PMX_CHECK(in[i].dtype == in[0].dtype, kTypeError, "[FullyConnected] %s has dtype %s but data has %s",
                i == 1 ? "weight" : "bias", DTypeName(in[i].dtype), DTypeName(in[0].dtype));
    }
    if (in[0].dtype == DType::kFloat32) {
      cpu::MatmulProblem problem;
      problem.m = view.rows;
      problem.n = hidden;
      problem.k = view.features;
      problem.trans_b = true;  // weight is (num_hidden, in_features): the product uses its transpose.
      problem.has_bias = has_bias;
      problem.accumulate = add;
      cpu::DnnlMatmul(problem, in[0].As<float>(), in[1].As<float>(), has_bias ? in[2].As<float>() : nullptr,
                      out[0].As<float>());
      return;
    }
    DispatchAllowed<DTypes::kFloat>("FullyConnected", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      GemmShape shape;
      shape.m = view.rows;
      shape.n = hidden;
      shape.k = view.features;
      shape.trans_b = true;
      T* y = out[0].As<T>();
      Gemm<T>(shape, 1.0, in[0].As<T>(), in[1].As<T>(), add ? 1.0 : 0.0, y);
      if (!has_bias) return;
      const T* bias = in[2].As<T>();
      cpu::ParallelFor(view.rows, RowGrain(hidden), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          for (int64_t j = 0; j < hidden; ++j) Store<T, C>(y + r * hidden + j, static_cast<C>(bias[j]), true);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const bool flatten = args.params->Bool("flatten");
    const Value x = args.inputs[0], w = args.inputs[1], g = args.output_grads[0];
    auto columns_last = [&](Value v) {
      return b.Call1("Reshape", {v}, {{"shape", "(-1, 0)"}, {"reverse", "True"}});
    };
    // out2 = x2 * w^T with x2, out2 the 2-d views: dx2 = g2 * w, dw = g2^T * x2, dbias = column sums of g2.
    const Value x2 = flatten ? b.Call1("Flatten", {x}) : columns_last(x);
    const Value g2 = flatten ? g : columns_last(g);
    const Value dx = b.Call1("reshape_like", {b.Call1("dot", {g2, w}), x});
    const Value dw = b.Call1("dot", {g2, x2}, {{"transpose_a", "True"}});
    Grads grads = {dx, dw};
    if (args.inputs.size() > 2) grads.push_back(b.Call1("_sum_to_like", {g2, args.inputs[2]}));
    return grads;
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
