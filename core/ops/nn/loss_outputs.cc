// Loss layers: SoftmaxOutput (Softmax), softmax_cross_entropy, the regression outputs, MakeLoss
// (make_loss) and SVMOutput, plus their loss-gradient helpers.
//
// Note [Loss-output gradients]
// MXNet's *Output layers are loss heads: forward returns a prediction (softmax, sigmoid, the input itself)
// and backward returns the gradient of the loss they stand for, e.g. softmax - onehot(label) for
// SoftmaxOutput, ignoring the head gradient (unless out_grad is set). Their gradients therefore do not
// follow finite differences of their forward outputs; tests check them against the loss formulas instead.
#include <cmath>

#include "core/ops/nn/softmax.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// How SoftmaxOutput sees its data: (rows, classes, positions), with labels indexed row * positions + p.
struct SoftmaxOutputLayout {
  AxisView view;             // outer = rows, size = classes, inner = positions.
  bool probability = false;  // The label has data's shape: it holds target probabilities.
};

// The layout for the parameters: classes along axis 1 (multi_output), the last axis (preserve_shape), or
// all non-batch dimensions flattened (the default).
SoftmaxOutputLayout LayoutOf(const OpParams& params, const Shape& data, const Shape& label) {
  SoftmaxOutputLayout layout;
  layout.probability = label == data;
  if (params.Bool("multi_output")) {
    PMX_CHECK(data.ndim() >= 2, kValueError, "[SoftmaxOutput] multi_output needs data of at least 2 dimensions, "
              "given %s", data.ToString());
    layout.view = ViewAround(data, 1);
  } else if (params.Bool("preserve_shape")) {
    layout.view = ViewAround(data, data.ndim() - 1);
  } else {
    layout.view.outer = data.ndim() > 0 ? data[0] : 1;
    layout.view.size = data.size() / std::max<int64_t>(layout.view.outer, 1);
  }
  return layout;
}

// Shape inference shared by SoftmaxOutput and its gradient helper (input 1 is the label).
void InferSoftmaxOutputLabel(const char* op, const OpParams& params, const Shape& data, MaybeShape* label) {
  if (*label && **label == data) return;  // Probabilities as labels.
  if (params.Bool("multi_output")) {
    PMX_CHECK(data.ndim() >= 2, kValueError, "[%s] multi_output needs data of at least 2 dimensions, given %s", op,
              data.ToString());
    const Shape flat({data[0], data.size() / std::max<int64_t>(data[0] * data[1], 1)});
    const Shape spatial = WithoutAxis(data, 1);
    const Shape single = WithDim(data, 1, 1);
    if (!*label) {
      *label = flat;
      return;
    }
    PMX_CHECK(**label == flat || **label == spatial || **label == single, kValueError,
              "[%s] label has shape %s, expected %s, %s or data's shape %s", op, (*label)->ToString(),
              flat.ToString(), spatial.ToString(), data.ToString());
    return;
  }
  PMX_CHECK(data.ndim() >= 1, kValueError, "[%s] data must have at least 1 dimension", op);
  AssignInputShape(op, "label", label, WithoutAxis(data, data.ndim() - 1));
}

std::vector<ParamDef> SoftmaxOutputParams() {
  return {
      {"grad_scale", ParamType::kFloat, "1", false, false, {}, "Scales the gradient by a float factor."},
      {"ignore_label", ParamType::kFloat, "-1", false, false, {},
       "Instances whose label equals ignore_label get no gradient when use_ignore is true."},
      {"multi_output", ParamType::kBool, "False", false, false, {},
       "Compute the softmax along axis 1 at every position (labels per position)."},
      {"use_ignore", ParamType::kBool, "False", false, false, {}, "Whether ignore_label instances are skipped."},
      {"preserve_shape", ParamType::kBool, "False", false, false, {}, "Compute the softmax along the last axis."},
      {"normalization", ParamType::kEnum, "null", false, false, {"batch", "null", "valid"},
       "Normalizes the gradient: null (none), batch (by the batch size) or valid (by the non-ignored labels)."},
      {"out_grad", ParamType::kBool, "False", false, false, {}, "Multiplies the gradient by the head gradient."},
      {"smooth_alpha", ParamType::kFloat, "0", false, false, {},
       "Label smoothing: the target is 1 - alpha for the label and alpha / (classes - 1) elsewhere."}};
}

// Dtypes of the loss layers: data and label share one float dtype, which the outputs take.
bool InferLossDType(const char* op, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
  return InferSameDType(op, DTypes::kFloat, in, out);
}

PMX_REGISTER_OP(SoftmaxOutput) {
  OpDef def;
  def.name = "SoftmaxOutput";
  def.aliases = {"Softmax"};
  def.family = "nn/loss_outputs";
  def.doc = "Softmax with a cross-entropy loss head. Forward: the softmax of data (over all non-batch dimensions, "
            "axis 1 with multi_output, the last axis with preserve_shape). Backward: the cross-entropy gradient "
            "(softmax - onehot(label)) * grad_scale, normalized as asked; the head gradient is ignored unless "
            "out_grad is true.";
  def.inputs = {"data", "label"};
  def.params = SoftmaxOutputParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    InferSoftmaxOutputLabel("SoftmaxOutput", params, *(*in)[0], &(*in)[1]);
    (*out)[0] = (*in)[0];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferLossDType("SoftmaxOutput", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const AxisView view = LayoutOf(*context.params, in[0].shape, in[1].shape).view;
    SoftmaxRows("SoftmaxOutput", SoftmaxKind::kSoftmax, view, 1.0, context, in[0], nullptr, out[0]);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    Value grad = b.Call1("_nn_softmax_output_grad", {args.outputs[0], args.inputs[1]}, args.params->ToStrings());
    // out_grad multiplies by the head gradient, as documented. (MXNet 1.9.1 multiplies by the output
    // instead, a bug of its legacy-op wiring; Polymix follows the documentation.)
    if (args.params->Bool("out_grad")) grad = Mul(b, grad, args.output_grads[0]);
    return {grad, std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_nn_softmax_output_grad) {
  OpDef def;
  def.name = "_nn_softmax_output_grad";
  def.family = "nn/loss_outputs";
  def.doc = "The loss gradient of SoftmaxOutput from its output and label: (out - target) * grad_scale / normalizer, "
            "with label smoothing and ignored labels (gradient helper; takes SoftmaxOutput's parameters).";
  def.inputs = {"out", "label"};
  def.params = SoftmaxOutputParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    InferSoftmaxOutputLabel("_nn_softmax_output_grad", params, *(*in)[0], &(*in)[1]);
    (*out)[0] = (*in)[0];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferLossDType("_nn_softmax_output_grad", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const OpParams& params = *context.params;
    const SoftmaxOutputLayout layout = LayoutOf(params, in[0].shape, in[1].shape);
    const AxisView& view = layout.view;
    const double grad_scale = params.Float("grad_scale"), alpha = params.Float("smooth_alpha");
    const std::string& normalization = params.Str("normalization");
    const bool use_ignore = params.Bool("use_ignore");
    const int64_t ignore = static_cast<int64_t>(params.Float("ignore_label"));
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("_nn_softmax_output_grad", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* y = in[0].As<T>();
      const T* label = in[1].As<T>();
      T* grad = out[0].As<T>();
      if (layout.probability) {
        cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            Store<T, C>(grad + i, static_cast<C>((static_cast<C>(y[i]) - static_cast<C>(label[i])) * grad_scale), add);
          }
        });
        return;
      }
      const int64_t labels = view.outer * view.inner;  // One label per (row, position).
      double normalizer = 1;
      if (normalization == "batch") {
        normalizer = params.Bool("multi_output") ? static_cast<double>(view.outer) : static_cast<double>(in[1].size());
      } else if (normalization == "valid") {
        int64_t valid = in[1].size();
        for (int64_t i = 0; i < in[1].size(); ++i) valid -= static_cast<int64_t>(static_cast<C>(label[i])) == ignore;
        normalizer = static_cast<double>(std::max<int64_t>(valid, 1));
      }
      // multi_output also averages over positions unless normalizing by the valid count (as MXNet).
      if (params.Bool("multi_output") && normalization != "valid") normalizer *= static_cast<double>(view.inner);
      const double scale = grad_scale / normalizer;
      const double off_target = view.size > 1 ? alpha / static_cast<double>(view.size - 1) : 0.0;
      cpu::ParallelFor(labels, RowGrain(view.size), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const int64_t row = r / view.inner, position = r % view.inner;
          const int64_t k = static_cast<int64_t>(static_cast<C>(label[r]));
          const bool skip = use_ignore && k == ignore;
          for (int64_t j = 0; j < view.size; ++j) {
            const int64_t i = (row * view.size + j) * view.inner + position;
            const double target = j == k ? 1.0 - alpha : off_target;
            const double value = skip ? 0.0 : (static_cast<double>(static_cast<C>(y[i])) - target) * scale;
            Store<T, C>(grad + i, static_cast<C>(value), add);
          }
        }
      });
    });
  };
  return def;
}

PMX_REGISTER_OP(softmax_cross_entropy) {
  OpDef def;
  def.name = "softmax_cross_entropy";
  def.family = "nn/loss_outputs";
  def.doc = "Cross-entropy of softmax(data) against integer labels, summed over the batch: "
            "sum_i -log(softmax(data[i])[label[i]]). data is (batch, classes), label (batch,); the output has "
            "shape (1,).";
  def.inputs = {"data", "label"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    PMX_CHECK(data.ndim() == 2, kValueError, "[softmax_cross_entropy] data has shape %s, expected (batch, classes)",
              data.ToString());
    AssignInputShape("softmax_cross_entropy", "label", &(*in)[1], Shape({data[0]}));
    (*out)[0] = Shape({1});
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferLossDType("softmax_cross_entropy", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t rows = in[0].shape[0], classes = in[0].shape[1];
    DispatchAllowed<DTypes::kFloat>("softmax_cross_entropy", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      const T* label = in[1].As<T>();
      double total = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = x + r * classes;
        double max = -INFINITY, sum = 0;
        for (int64_t j = 0; j < classes; ++j) max = std::max(max, static_cast<double>(static_cast<C>(row[j])));
        for (int64_t j = 0; j < classes; ++j) sum += std::exp(static_cast<double>(static_cast<C>(row[j])) - max);
        const int64_t k = std::clamp<int64_t>(static_cast<int64_t>(static_cast<C>(label[r])), 0, classes - 1);
        total += max + std::log(sum) - static_cast<double>(static_cast<C>(row[k]));
      }
      Store<T, C>(out[0].As<T>(), static_cast<C>(total), context.modes[0] == WriteMode::kAdd);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value probabilities = b.Call1("softmax", {args.inputs[0]});
    const Value loss_grad = b.Call1("_nn_softmax_output_grad", {probabilities, args.inputs[1]});
    return {Mul(b, loss_grad, args.output_grads[0]), std::nullopt};
  };
  return def;
}

// ---- Regression outputs ---------------------------------------------------------------------------------

// Label shape of the regression outputs: data's, or (N,) for (N, 1) data; a given label must have
// data's size and batch dimension.
bool InferRegressionShape(const char* op, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
  if (!(*in)[0]) return false;
  const Shape& data = *(*in)[0];
  MaybeShape& label = (*in)[1];
  if (!label) {
    label = (data.ndim() == 2 && data[1] == 1) ? Shape({data[0]}) : data;
  } else {
    PMX_CHECK(label->size() == data.size() && label->ndim() > 0 && data.ndim() > 0 && (*label)[0] == data[0],
              kValueError, "[%s] label has shape %s, expected data's shape %s (or its size with the same batch size)",
              op, label->ToString(), data.ToString());
  }
  (*out)[0] = data;
  return true;
}

// Registers a regression output: forward `link` (identity or sigmoid), backward
// grad_scale / outputs-per-sample * loss_derivative(out - label).
void RegisterRegression(const std::string& name, const std::string& doc, bool logistic, bool absolute) {
  OpDef def;
  def.name = name;
  def.family = "nn/loss_outputs";
  def.doc = doc;
  def.inputs = {"data", "label"};
  def.params = {{"grad_scale", ParamType::kFloat, "1", false, false, {}, "Scales the gradient by a float factor."}};
  def.infer_shape = [name](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferRegressionShape(name.c_str(), in, out);
  };
  def.infer_type = [name](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferLossDType(name.c_str(), in, out);
  };
  def.kernels[DeviceType::kCPU] = [name, logistic](const KernelContext& context, absl::Span<const TensorRef> in,
                                                   absl::Span<const TensorRef> out) {
    if (logistic) {
      MapFloat(name.c_str(), context, in[0], out[0], [](auto x, int64_t) { return 1 / (1 + std::exp(-x)); });
    } else {
      MapFloat(name.c_str(), context, in[0], out[0], [](auto x, int64_t) { return x; });
    }
  };
  def.gradient = [absolute](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value y = args.outputs[0];
    Value diff = Sub(b, y, ReshapeLike(b, args.inputs[1], y));
    if (absolute) diff = b.Call1("sign", {diff});
    // Outputs per sample: the size of every dimension but the first, as a broadcastable count.
    const Value per_sample = SumKeepDims(b, b.Call1("ones_like", {y}), {0}, true);
    const Value grad = Div(b, WithScalar(b, "_mul_scalar", diff, args.params->Float("grad_scale")), per_sample);
    return {grad, std::nullopt};
  };
  def.inplace = {{0, 0}};
  OpRegistry::Get()->Register(std::move(def));
}

const bool kRegressionRegistered = [] {
  RegisterRegression("LinearRegressionOutput",
                     "Linear regression loss head: forward is the identity; backward is the squared-error gradient "
                     "(out - label) * grad_scale / outputs-per-sample, ignoring the head gradient.",
                     false, false);
  RegisterRegression("LogisticRegressionOutput",
                     "Logistic regression loss head: forward is sigmoid(data); backward is the log-loss gradient "
                     "(out - label) * grad_scale / outputs-per-sample, ignoring the head gradient.",
                     true, false);
  RegisterRegression("MAERegressionOutput",
                     "Mean-absolute-error loss head: forward is the identity; backward is sign(out - label) * "
                     "grad_scale / outputs-per-sample, ignoring the head gradient.",
                     false, true);
  return true;
}();

// ---- MakeLoss -------------------------------------------------------------------------------------------

PMX_REGISTER_OP(MakeLoss) {
  OpDef def = UnaryOpDef(
      "MakeLoss", "nn/loss_outputs",
      "Marks `data` as a loss: forward is the identity; backward is grad_scale (divided by the batch size with "
      "normalization 'batch', or by the number of elements above valid_thresh with 'valid'), ignoring the head "
      "gradient.",
      DTypes::kFloat, UnaryKernel<DTypes::kFloat>("MakeLoss", [](auto x) { return x; }), nullptr);
  def.aliases = {"make_loss"};
  def.params = {
      {"grad_scale", ParamType::kFloat, "1", false, false, {}, "Scales the gradient by a float factor."},
      {"valid_thresh", ParamType::kFloat, "0", false, false, {},
       "With normalization 'valid', elements above this count as valid."},
      {"normalization", ParamType::kEnum, "null", false, false, {"batch", "null", "valid"},
       "Normalizes the gradient: null (none), batch (by the batch size) or valid (by the valid elements)."}};
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const OpParams& params = *args.params;
    const Value x = args.inputs[0];
    const Value scaled = WithScalar(b, "_mul_scalar", b.Call1("ones_like", {x}), params.Float("grad_scale"));
    const std::string& normalization = params.Str("normalization");
    if (normalization == "batch") return {Div(b, scaled, SumKeepDims(b, b.Call1("ones_like", {x}), {0}))};
    if (normalization == "valid") {
      const Value valid = SumKeepDims(b, WithScalar(b, "_greater_scalar", x, params.Float("valid_thresh")), {});
      return {Div(b, scaled, WithScalar(b, "_maximum_scalar", valid, 1))};
    }
    return {scaled};
  };
  return def;
}

// ---- SVMOutput ------------------------------------------------------------------------------------------

std::vector<ParamDef> SVMParams() {
  return {{"margin", ParamType::kFloat, "1", false, false, {}, "The margin of the hinge loss."},
          {"regularization_coefficient", ParamType::kFloat, "1", false, false, {},
           "Scales the gradient (the trade-off between coefficient size and error)."},
          {"use_linear", ParamType::kBool, "False", false, false, {},
           "Use the L1-SVM (hinge) objective instead of the default L2-SVM (squared hinge)."}};
}

bool InferSVMShape(const char* op, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
  if (!(*in)[0]) return false;
  const Shape& data = *(*in)[0];
  PMX_CHECK(data.ndim() >= 1, kValueError, "[%s] data must have at least 1 dimension", op);
  AssignInputShape(op, "label", &(*in)[1], WithoutAxis(data, data.ndim() - 1));
  (*out)[0] = data;
  return true;
}

PMX_REGISTER_OP(SVMOutput) {
  OpDef def;
  def.name = "SVMOutput";
  def.family = "nn/loss_outputs";
  def.doc = "Support-vector-machine loss head over the last axis (classes): forward is the identity; backward is "
            "the gradient of the one-vs-all L2-SVM (or, with use_linear, L1-SVM) loss for the labels, ignoring the "
            "head gradient.";
  def.inputs = {"data", "label"};
  def.params = SVMParams();
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSVMShape("SVMOutput", in, out);
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferLossDType("SVMOutput", in, out);
  };
  def.kernels[DeviceType::kCPU] = UnaryKernel<DTypes::kFloat>("SVMOutput", [](auto x) { return x; });
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_nn_svm_output_grad", {args.outputs[0], args.inputs[1]}, args.params->ToStrings()), std::nullopt};
  };
  def.inplace = {{0, 0}};
  return def;
}

PMX_REGISTER_OP(_nn_svm_output_grad) {
  OpDef def;
  def.name = "_nn_svm_output_grad";
  def.family = "nn/loss_outputs";
  def.doc = "The loss gradient of SVMOutput from its output and label (gradient helper; takes SVMOutput's "
            "parameters).";
  def.inputs = {"out", "label"};
  def.params = SVMParams();
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    return InferSVMShape("_nn_svm_output_grad", in, out);
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferLossDType("_nn_svm_output_grad", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const double margin = context.params->Float("margin");
    const double coefficient = context.params->Float("regularization_coefficient");
    const bool linear = context.params->Bool("use_linear");
    const int64_t classes = in[0].shape.ndim() > 0 ? in[0].shape[in[0].shape.ndim() - 1] : 1;
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("_nn_svm_output_grad", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* y = in[0].As<T>();
      const T* label = in[1].As<T>();
      T* grad = out[0].As<T>();
      cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const double v = static_cast<double>(static_cast<C>(y[i]));
          const bool target = static_cast<int64_t>(static_cast<C>(label[i / classes])) == i % classes;
          // The target class is pushed above +margin, the others below -margin.
          const double slack = target ? margin - v : margin + v;
          double value = 0;
          if (slack > 0) value = (linear ? 1.0 : 2.0 * slack) * (target ? -coefficient : coefficient);
          Store<T, C>(grad + i, static_cast<C>(value), add);
        }
      });
    });
  };
  return def;
}

// ---- IdentityAttachKLSparseReg --------------------------------------------------------------------------

// Note [KL sparseness moving average]
// MXNet updates the moving average of the activations in backward, then uses it. Polymix gradients are
// compositions of ops and cannot update state, so the update happens in the training-mode forward instead
// (as BatchNorm's running statistics); one forward-backward step sees the same value as in MXNet.
PMX_REGISTER_OP(IdentityAttachKLSparseReg) {
  OpDef def;
  def.name = "IdentityAttachKLSparseReg";
  def.family = "nn/loss_outputs";
  def.doc = "Identity that attaches a KL-divergence sparseness penalty to the gradient: backward adds "
            "penalty * (-t / avg + (1 - t) / (1 - avg)) with t = sparseness_target and avg the moving average of "
            "each unit's (axis 1) mean activation, which training-mode forward updates.";
  def.inputs = {"data", "moving_avg"};
  def.auxiliary_inputs = {1};
  def.mutated_inputs = {1};
  def.params = {
      {"sparseness_target", ParamType::kFloat, "0.1", false, false, {}, "The sparseness target t."},
      {"penalty", ParamType::kFloat, "0.001", false, false, {}, "The regularization coefficient."},
      {"momentum", ParamType::kFloat, "0.9", false, false, {}, "The momentum of the moving average."}};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    PMX_CHECK(data.ndim() >= 2, kValueError, "[IdentityAttachKLSparseReg] data has shape %s, expected (N, D, ...)",
              data.ToString());
    AssignInputShape("IdentityAttachKLSparseReg", "moving_avg", &(*in)[1], Shape({data[1]}));
    (*out)[0] = data;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferLossDType("IdentityAttachKLSparseReg", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    MapFloat("IdentityAttachKLSparseReg", context, in[0], out[0], [](auto x, int64_t) { return x; });
    if (!context.is_train) return;
    const AxisView view = ViewAround(in[0].shape, 1);
    const double momentum = context.params->Float("momentum");
    DispatchAllowed<DTypes::kFloat>("IdentityAttachKLSparseReg", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* average = in[1].As<T>();
      for (int64_t unit = 0; unit < view.size; ++unit) {
        double sum = 0;
        for (int64_t o = 0; o < view.outer; ++o) {
          for (int64_t i = 0; i < view.inner; ++i) sum += static_cast<C>(x[(o * view.size + unit) * view.inner + i]);
        }
        const double mean = sum / static_cast<double>(std::max<int64_t>(view.outer * view.inner, 1));
        const double updated = momentum * static_cast<C>(average[unit]) + (1 - momentum) * mean;
        average[unit] = static_cast<T>(static_cast<C>(updated));
      }
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const OpParams& params = *args.params;
    const double target = params.Float("sparseness_target");
    const Value average = AxisVector(b, args.inputs[1], args.inputs[0], 1);
    const Value kl = Add(b, WithScalar(b, "_rdiv_scalar", average, -target),
                         WithScalar(b, "_rdiv_scalar", WithScalar(b, "_rminus_scalar", average, 1), 1 - target));
    return {Add(b, args.output_grads[0], WithScalar(b, "_mul_scalar", kl, params.Float("penalty"))), std::nullopt};
  };
  def.inplace = {{0, 0}};
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
