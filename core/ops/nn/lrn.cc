// LRN (local response normalization across channels) and its gradient helper _lrn_backward; oneDNN's LRN for
// float32 with an odd window, loops otherwise.
#include <cmath>
#include <vector>

#include "core/backend/cpu/dnnl_pool_norm.h"
#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// Note [LRN window]
// MXNet sums x^2 over channels [c - nsize / 2, c + nsize / 2] (clipped; nsize + 1 channels for an even nsize)
// and scales the sum by alpha / nsize: norm = knorm + alpha / nsize * sum, out = x * norm^-beta. oneDNN's
// window matches for odd sizes only, so even sizes run on the loops.

constexpr char kHelper[] = "_lrn_backward";

std::vector<ParamDef> LrnParams() {
  return {{"alpha", ParamType::kFloat, "0.0001", false, false, {}, "Scale of the sum of squares (divided by nsize)."},
          {"beta", ParamType::kFloat, "0.75", false, false, {}, "Exponent of the normalizer."},
          {"knorm", ParamType::kFloat, "2", false, false, {}, "Constant added to the normalizer."},
          {"nsize", ParamType::kInt, "", true, false, {}, "Width of the channel window."}};
}

struct LrnView {
  int64_t batch = 1, channels = 1, inner = 1;
};

LrnView ViewOf(const char* op, const OpParams& params, const Shape& data) {
  PMX_CHECK(data.ndim() >= 2, kValueError, "[%s] data has shape %s, expected (N, C, ...)", op, data.ToString());
  PMX_CHECK(params.Int("nsize") >= 1, kValueError, "[%s] nsize is %d, expected a positive window", op,
            static_cast<int>(params.Int("nsize")));
  return {data[0], data[1], DimsProduct(data, 2, data.ndim())};
}

cpu::LrnProblem ProblemOf(const LrnView& view, const OpParams& params) {
  cpu::LrnProblem problem;
  problem.batch = view.batch;
  problem.channels = view.channels;
  problem.inner = view.inner;
  problem.size = params.Int("nsize");
  problem.alpha = static_cast<float>(params.Float("alpha"));
  problem.beta = static_cast<float>(params.Float("beta"));
  problem.k = static_cast<float>(params.Float("knorm"));
  return problem;
}

// The normalizer of every element, in double (Note [LRN window]).
template <typename T>
std::vector<double> Norms(const LrnView& view, const OpParams& params, const T* x) {
  using C = ComputeType<T>;
  const int64_t half = params.Int("nsize") / 2;
  const double scale = params.Float("alpha") / static_cast<double>(params.Int("nsize")), k = params.Float("knorm");
  std::vector<double> norms(static_cast<size_t>(view.batch * view.channels * view.inner));
  cpu::ParallelFor(view.batch * view.inner, RowGrain(view.channels * (2 * half + 1)), [&](int64_t begin, int64_t end) {
    for (int64_t column = begin; column < end; ++column) {
      const int64_t n = column / view.inner, i = column % view.inner;
      auto index = [&](int64_t c) { return (n * view.channels + c) * view.inner + i; };
      for (int64_t c = 0; c < view.channels; ++c) {
        double sum = 0;
        for (int64_t j = std::max<int64_t>(0, c - half); j <= std::min(view.channels - 1, c + half); ++j) {
          const double v = static_cast<double>(static_cast<C>(x[index(j)]));
          sum += v * v;
        }
        norms[index(c)] = k + scale * sum;
      }
    }
  });
  return norms;
}

// Runs `compute(float* into)` writing straight into a float32 output, or into a buffer that is then added.
template <typename Compute>
void WriteOrAddFloat(const TensorRef& out, bool add, Compute compute) {
  if (!add) {
    compute(out.As<float>());
    return;
  }
  std::vector<float> buffer(static_cast<size_t>(out.size()));
  compute(buffer.data());
  float* y = out.As<float>();
  for (int64_t i = 0; i < out.size(); ++i) y[i] += buffer[i];
}

PMX_REGISTER_OP(LRN) {
  OpDef def;
  def.name = "LRN";
  def.family = "nn/lrn";
  def.doc = "Local response normalization across channels of (N, C, ...) data: out = x * (knorm + alpha / nsize * "
            "sum of x^2 over the nsize channels around each channel) ^ -beta.";
  def.inputs = {"data"};
  def.params = LrnParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    ViewOf("LRN", params, *(*in)[0]);
    (*out)[0] = *(*in)[0];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("LRN", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const LrnView view = ViewOf("LRN", *context.params, in[0].shape);
    const bool add = context.modes[0] == WriteMode::kAdd;
    if (in[0].size() == 0) return;
    if (in[0].dtype == DType::kFloat32 && context.params->Int("nsize") % 2 == 1) {
      WriteOrAddFloat(out[0], add, [&](float* y) {
        cpu::DnnlLrnForward(ProblemOf(view, *context.params), in[0].As<float>(), y);
      });
      return;
    }
    const double beta = context.params->Float("beta");
    DispatchAllowed<DTypes::kFloat>("LRN", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      const std::vector<double> norms = Norms(view, *context.params, x);
      T* y = out[0].As<T>();
      cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          Store<T, C>(y + i, static_cast<C>(static_cast<double>(static_cast<C>(x[i])) * std::pow(norms[i], -beta)),
                      add);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1(kHelper, {args.output_grads[0], args.inputs[0]}, args.params->ToStrings())};
  };
  return def;
}

PMX_REGISTER_OP(_lrn_backward) {
  OpDef def;
  def.name = kHelper;
  def.family = "nn/lrn";
  def.doc = "The gradient of LRN with respect to its data, from out_grad and the data. Takes LRN's parameters. "
            "Not differentiable (Note [Helper gradients] in pooling.cc).";
  def.inputs = {"out_grad", "data"};
  def.params = LrnParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[1]) return false;
    ViewOf(kHelper, params, *(*in)[1]);
    AssignInputShape(kHelper, "out_grad", &(*in)[0], *(*in)[1]);
    (*out)[0] = *(*in)[1];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType(kHelper, DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const LrnView view = ViewOf(kHelper, *context.params, in[1].shape);
    const bool add = context.modes[0] == WriteMode::kAdd;
    if (in[1].size() == 0) return;
    PMX_CHECK(in[0].dtype == in[1].dtype, kTypeError, "[%s] out_grad has dtype %s but data has %s", kHelper,
              DTypeName(in[0].dtype), DTypeName(in[1].dtype));
    if (in[1].dtype == DType::kFloat32 && context.params->Int("nsize") % 2 == 1) {
      WriteOrAddFloat(out[0], add, [&](float* dx) {
        cpu::DnnlLrnBackward(ProblemOf(view, *context.params), in[1].As<float>(), in[0].As<float>(), dx);
      });
      return;
    }
    // dx = g * norm^-beta - 2 * beta * alpha / nsize * x * sum over the window of g * x * norm^(-beta - 1).
    const double beta = context.params->Float("beta");
    const double scale = context.params->Float("alpha") / static_cast<double>(context.params->Int("nsize"));
    const int64_t half = context.params->Int("nsize") / 2;
    DispatchAllowed<DTypes::kFloat>(kHelper, in[1].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T *g = in[0].As<T>(), *x = in[1].As<T>();
      const std::vector<double> norms = Norms(view, *context.params, x);
      T* dx = out[0].As<T>();
      auto at = [](const T* p, int64_t i) { return static_cast<double>(static_cast<C>(p[i])); };
      cpu::ParallelFor(view.batch * view.inner, RowGrain(view.channels * (2 * half + 1)), [&](int64_t b, int64_t e) {
        std::vector<double> weighted(view.channels);
        for (int64_t column = b; column < e; ++column) {
          const int64_t n = column / view.inner, i = column % view.inner;
          auto index = [&](int64_t c) { return (n * view.channels + c) * view.inner + i; };
          for (int64_t c = 0; c < view.channels; ++c) {
            weighted[c] = at(g, index(c)) * at(x, index(c)) * std::pow(norms[index(c)], -beta - 1);
          }
          for (int64_t c = 0; c < view.channels; ++c) {
            double sum = 0;
            for (int64_t j = std::max<int64_t>(0, c - half); j <= std::min(view.channels - 1, c + half); ++j) {
              sum += weighted[j];
            }
            const double value = at(g, index(c)) * std::pow(norms[index(c)], -beta) - 2 * beta * scale * at(x, index(c)) * sum;
            Store<T, C>(dx + index(c), static_cast<C>(value), add);
          }
        }
      });
    });
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
