// Multi-tensor optimizer updates (one call updates num_weights weights, each with its own lr and wd) and
// reset_arrays. Single-tensor updates are in optimizer_ops.cc; see Note [Optimizer update operators].
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/ops/internal/optimizer_update.h"

namespace pmx {
namespace ops {
namespace {

// Checks lrs and wds against num_weights (ValueError naming `op`).
void CheckMultiParams(const std::string& op, const OpParams& params) {
  const int64_t count = params.Int("num_weights");
  PMX_CHECK(count >= 1, kValueError, "[%s] num_weights is %d: expected at least 1", op, count);
  for (const char* name : {"lrs", "wds"}) {
    const std::vector<double>& values = params.Floats(name);
    PMX_CHECK(static_cast<int64_t>(values.size()) == count, kValueError,
              "[%s] %s has %d value(s) (%s) but num_weights is %d: expected one per weight", op, name,
              static_cast<int>(values.size()), absl::StrJoin(values, ", "), count);
  }
}

// Registers a multi-tensor SGD op: inputs are num_weights groups of `group` (weight, grad, states...), the
// group positions in `mutated` are updated in place, and `num_fp32` trailing inputs of each group are float32
// (multi-precision states). Output w is the new weight w; `rule` is the single-tensor rule.
template <bool kMixed, typename Rule>
void RegisterMulti(const std::string& name, const std::string& doc, std::vector<std::string> group,
                   std::vector<int> mutated, std::vector<ParamDef> params, Rule rule) {
  const int stride = static_cast<int>(group.size());
  const int num_fp32 = kMixed ? stride - 2 : 0;
  OpDef def;
  def.name = name;
  def.family = "optimizer";
  def.doc = doc;
  def.inputs = std::move(group);
  def.variadic_count_param = "num_weights";
  def.variadic_stride = stride;
  def.mutated_inputs = mutated;
  def.params = params;
  def.num_outputs = [](const OpParams& p) { return static_cast<int>(p.Int("num_weights")); };
  def.infer_shape = [name, stride](const OpParams& p, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    CheckMultiParams(name, p);
    bool known = true;
    for (size_t w = 0; w < out->size(); ++w) {
      std::vector<MaybeShape> shapes(in->begin() + w * stride, in->begin() + (w + 1) * stride);
      std::vector<MaybeShape> result = {(*out)[w]};
      known = InferSameShape(name.c_str(), &shapes, &result) && known;
      std::copy(shapes.begin(), shapes.end(), in->begin() + w * stride);
      (*out)[w] = result[0];
    }
    return known;
  };
  def.infer_type = [name, stride, num_fp32](const OpParams&, std::vector<MaybeDType>* in,
                                             std::vector<MaybeDType>* out) {
    // Weights and gradients (and, without multi-precision, the states) share one float dtype.
    std::vector<MaybeDType> same;
    for (size_t i = 0; i < in->size(); ++i) {
      if (static_cast<int>(i % stride) < stride - num_fp32) same.push_back((*in)[i]);
    }
    std::vector<MaybeDType> result(1);
    if (!InferSameDType(name.c_str(), DTypes::kFloat, &same, &result)) return false;
    for (size_t i = 0; i < in->size(); ++i) {
      if (static_cast<int>(i % stride) < stride - num_fp32) {
        (*in)[i] = result[0];
        continue;
      }
      PMX_CHECK(!(*in)[i] || *(*in)[i] == DType::kFloat32, kTypeError,
                "[%s] input %d has dtype %s: expected float32 (multi-precision state)", name, static_cast<int>(i),
                DTypeName(*(*in)[i]));
      (*in)[i] = DType::kFloat32;
    }
    for (MaybeDType& dtype : *out) dtype = result[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [name, stride, mutated, params, rule](const KernelContext& context,
                                                                       absl::Span<const TensorRef> in,
                                                                       absl::Span<const TensorRef> out) {
    const std::vector<double>& lrs = context.params->Floats("lrs");
    const std::vector<double>& wds = context.params->Floats("wds");
    DispatchAllowed<DTypes::kFloat>(name.c_str(), in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = std::conditional_t<kMixed, float, ComputeType<T>>;
      using S = std::conditional_t<kMixed, float, T>;
      const Hyper<C> base = ReadHyper<C>(*context.params, params);
      const int num_states = stride - 2;
      std::vector<bool> write_state(num_states);
      for (int k = 0; k < num_states; ++k) {
        write_state[k] = std::find(mutated.begin(), mutated.end(), 2 + k) != mutated.end();
      }
      for (size_t w = 0; w < out.size(); ++w) {
        Hyper<C> hyper = base;
        hyper.lr = static_cast<C>(lrs[w]);
        hyper.wd = static_cast<C>(wds[w]);
        const TensorRef* inputs = &in[w * stride];
        S* states[4] = {nullptr, nullptr, nullptr, nullptr};
        for (int k = 0; k < num_states; ++k) states[k] = inputs[2 + k].As<S>();
        UpdateElements<C>(hyper, inputs[0].size(), inputs[0].As<T>(), inputs[1].As<T>(), states, num_states,
                          write_state, out[w].As<T>(), context.modes[w] == WriteMode::kAdd, rule);
      }
    });
  };
  OpRegistry::Get()->Register(std::move(def));
}

ParamDef FloatTupleParam(const char* name, const char* doc) {
  return {name, ParamType::kFloatTuple, "", true, false, {}, doc};
}

ParamDef NumWeightsParam() { return {"num_weights", ParamType::kInt, "1", false, false, {}, "Number of updated weights."}; }

const bool kMultiRegistered = [] {
  const ParamDef lrs = FloatTupleParam("lrs", "Learning rates, one per weight.");
  const ParamDef wds = FloatTupleParam("wds", "Weight decays, one per weight.");
  const std::vector<ParamDef> sgd = {lrs, wds, RescaleGradParam(), ClipGradientParam(), NumWeightsParam()};
  const std::vector<ParamDef> sgd_mom = {lrs, wds, MomentumParam(), RescaleGradParam(), ClipGradientParam(),
                                         NumWeightsParam()};
  const auto plain = [](const auto& h, auto w, auto g, auto*) {
    return w - h.lr * h.wd * w - h.lr * ClipIf(h.rescale_grad * g, h.clip_gradient);
  };
  const auto momentum = [](const auto& h, auto w, auto g, auto* s) {
    s[0] = h.momentum * s[0] - h.lr * h.wd * w - h.lr * ClipIf(h.rescale_grad * g, h.clip_gradient);
    return w + s[0];
  };
  RegisterMulti<false>(
      "multi_sgd_update",
      "SGD step on num_weights weights at once: inputs are (weight, grad) pairs; output i is weight_i - "
      "lrs[i]*wds[i]*weight_i - lrs[i]*clip(rescale_grad*grad_i).",
      {"weight", "grad"}, {}, sgd, plain);
  RegisterMulti<false>(
      "multi_sgd_mom_update",
      "SGD-with-momentum step on num_weights weights at once: inputs are (weight, grad, mom) triples; each mom "
      "is updated in place as in sgd_mom_update with that weight's lrs[i] and wds[i].",
      {"weight", "grad", "mom"}, {2}, sgd_mom, momentum);
  RegisterMulti<true>(
      "multi_mp_sgd_update",
      "Multi-precision SGD step on num_weights weights at once: inputs are (weight, grad, weight32) triples; "
      "each float32 master copy is updated in place and returned in its weight's dtype.",
      {"weight", "grad", "weight32"}, {2}, sgd, [plain](const auto& h, auto, auto g, auto* s) {
        s[0] = plain(h, s[0], g, s);
        return s[0];
      });
  RegisterMulti<true>(
      "multi_mp_sgd_mom_update",
      "Multi-precision SGD-with-momentum step on num_weights weights at once: inputs are (weight, grad, mom, "
      "weight32) quadruples with float32 mom and weight32, both updated in place.",
      {"weight", "grad", "mom", "weight32"}, {2, 3}, sgd_mom, [momentum](const auto& h, auto, auto g, auto* s) {
        s[1] = momentum(h, s[1], g, s);
        return s[1];
      });
  return true;
}();

PMX_REGISTER_OP(reset_arrays) {
  OpDef def;
  def.name = "reset_arrays";
  def.family = "optimizer";
  def.doc = "Sets every element of the num_arrays input arrays to zero, in place; has no outputs.";
  def.inputs = {"arrays"};
  def.variadic_count_param = "num_arrays";
  def.mutated_inputs = {0};
  def.outputs = {};
  def.params = {{"num_arrays", ParamType::kInt, "", true, false, {}, "Number of arrays to reset."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>*) {
    PMX_CHECK(params.Int("num_arrays") >= 1, kValueError, "[reset_arrays] num_arrays is %d: expected at least 1",
              params.Int("num_arrays"));
    for (const MaybeShape& shape : *in) {
      if (!shape) return false;
    }
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>*) {
    for (const MaybeDType& dtype : *in) {
      if (!dtype) return false;
    }
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext&, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef>) {
    for (const TensorRef& array : in) {
      if (array.size() > 0) std::memset(array.data, 0, array.size() * DTypeSize(array.dtype));
    }
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
