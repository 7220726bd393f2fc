// Variable-length sequence operators: SequenceMask, SequenceLast, SequenceReverse, and the gradient helper
// _sequence_last_grad. Each takes an optional sequence_length input, present when use_sequence_length.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

// Note [Sequence layout]
// data is (T, B, ...) for axis 0 or (B, T, ...) for axis 1: T time steps of a batch of B sequences, each
// step a row of `inner` elements. sequence_length, shape (B,), gives each sequence's length; without it
// every sequence has length T.
struct SeqLayout {
  int axis = 0;
  int64_t steps = 0, batch = 0, inner = 1;

  // Element offset of step t of sequence b.
  int64_t Offset(int64_t t, int64_t b) const { return (axis == 0 ? t * batch + b : b * steps + t) * inner; }
};

bool AllKnownShapes(const std::vector<MaybeShape>& shapes) {
  return std::all_of(shapes.begin(), shapes.end(), [](const MaybeShape& s) { return s.has_value(); });
}

SeqLayout LayoutOf(const char* op, const OpParams& params, const Shape& data) {
  SeqLayout layout;
  layout.axis = static_cast<int>(params.Int("axis"));
  PMX_CHECK(layout.axis == 0 || layout.axis == 1, kValueError, "[%s] axis is %d: expected 0 or 1", op, layout.axis);
  PMX_CHECK(data.ndim() >= 2, kValueError, "[%s] data has shape %s: expected at least 2 dimensions (time, batch)",
            op, data.ToString());
  layout.steps = data[layout.axis];
  layout.batch = data[1 - layout.axis];
  for (int d = 2; d < data.ndim(); ++d) layout.inner *= data[d];
  return layout;
}

// The length of every sequence: from the sequence_length input when used, else all T.
std::vector<int64_t> Lengths(const KernelContext& context, absl::Span<const TensorRef> in, int length_input,
                             const SeqLayout& layout) {
  if (!context.params->Bool("use_sequence_length")) return std::vector<int64_t>(layout.batch, layout.steps);
  return ReadIndices(in[length_input]);
}

std::vector<ParamDef> SequenceParams() {
  return {{"use_sequence_length", ParamType::kBool, "False", false, false, {},
           "Whether the sequence_length input gives each sequence's length."},
          {"axis", ParamType::kInt, "0", false, false, {}, "The time axis: 0 for (T, B, ...), 1 for (B, T, ...)."}};
}

// The inputs an op of this file takes: data-like inputs, then sequence_length when it is used.
CountFn InputsWithLength(int fixed) {
  return [fixed](const OpParams& params) { return fixed + (params.Bool("use_sequence_length") ? 1 : 0); };
}

// Checks the optional sequence_length input (at `index`) against data's batch size.
void CheckLengths(const char* op, const OpParams& params, const std::vector<MaybeShape>& in, int index,
                  const SeqLayout& layout) {
  if (!params.Bool("use_sequence_length")) return;
  PMX_CHECK(*in[index] == Shape{layout.batch}, kValueError,
            "[%s] sequence_length has shape %s: expected (%d,), one length per sequence", op, in[index]->ToString(),
            layout.batch);
}

// Output dtype of input 0; sequence_length (the last input when used) may have any numeric dtype.
InferTypeFn SequenceTypes(const char* op) {
  return [op](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    const size_t values = in->size() - (params.Bool("use_sequence_length") ? 1 : 0);
    if (values < in->size() && (*in)[values]) CheckIndexDType(op, "sequence_length", *(*in)[values]);
    for (size_t i = 1; i < values; ++i) {
      PMX_CHECK(!(*in)[i] || *(*in)[i] == *(*in)[0], kTypeError, "[%s] input %d has dtype %s, expected %s", op,
                static_cast<int>(i), DTypeName(*(*in)[i]), DTypeName(*(*in)[0]));
    }
    (*out)[0] = (*in)[0];
    return true;
  };
}

// Calls for the same op with the sequence inputs of `args` (data replaced by `data`).
std::vector<Value> WithLength(const GradientArgs& args, Value data) {
  std::vector<Value> inputs = {data};
  if (args.params->Bool("use_sequence_length")) inputs.push_back(args.inputs.back());
  return inputs;
}

Grads WithNoLengthGrad(const GradientArgs& args, Value grad) {
  Grads grads = {grad};
  if (args.params->Bool("use_sequence_length")) grads.push_back(std::nullopt);
  return grads;
}

PMX_REGISTER_OP(SequenceMask) {
  OpDef def;
  def.name = "SequenceMask";
  def.family = "sequence";
  def.doc = "Sets every step at or after each sequence's length to `value` (see the sequence layout: (T, B, ...) "
            "for axis 0, (B, T, ...) for axis 1).";
  def.inputs = {"data", "sequence_length"};
  def.num_inputs = InputsWithLength(1);
  def.params = SequenceParams();
  def.params.push_back({"value", ParamType::kFloat, "0", false, false, {}, "The value masked steps get."});
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!AllKnownShapes(*in)) return false;
    CheckLengths("SequenceMask", params, *in, 1, LayoutOf("SequenceMask", params, *(*in)[0]));
    (*out)[0] = (*in)[0];
    return true;
  };
  def.infer_type = SequenceTypes("SequenceMask");
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const SeqLayout layout = LayoutOf("SequenceMask", *context.params, in[0].shape);
    const std::vector<int64_t> lengths = Lengths(context, in, 1, layout);
    const double value = context.params->Float("value");
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kAll>("SequenceMask", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      const C fill = static_cast<C>(value);
      cpu::ParallelFor(layout.steps * layout.batch, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(layout.inner, 1)),
                       [&](int64_t begin, int64_t end) {
                         for (int64_t r = begin; r < end; ++r) {
                           const int64_t t = r / layout.batch, b = r % layout.batch;
                           const int64_t at = layout.Offset(t, b);
                           const bool masked = t >= lengths[b];
                           for (int64_t k = 0; k < layout.inner; ++k) {
                             Store<T, C>(y + at + k, masked ? fill : static_cast<C>(x[at + k]), add);
                           }
                         }
                       });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    ParamMap params = args.params->ToStrings();
    params["value"] = "0";
    return WithNoLengthGrad(args, b.Call1("SequenceMask", WithLength(args, args.output_grads[0]), params));
  };
  return def;
}

// Step of sequence b that SequenceLast reads: its last one, checked to exist.
std::vector<int64_t> LastSteps(const char* op, const std::vector<int64_t>& lengths, const SeqLayout& layout) {
  std::vector<int64_t> steps(lengths.size());
  for (size_t b = 0; b < lengths.size(); ++b) {
    PMX_CHECK(lengths[b] >= 1 && lengths[b] <= layout.steps, kIndexError,
              "[%s] sequence %d has length %d: expected 1 <= length <= %d", op, static_cast<int>(b), lengths[b],
              layout.steps);
    steps[b] = lengths[b] - 1;
  }
  return steps;
}

// data's shape without the time axis.
Shape WithoutTime(const Shape& data, int axis) {
  std::vector<int64_t> dims = DimsOf(data);
  dims.erase(dims.begin() + axis);
  return Shape(dims);
}

// Moves rows between data-shaped `full` and the (B, inner) `last` rows at each sequence's last step.
void MoveLastRows(const char* op, const TensorRef& full, const TensorRef& last, const std::vector<int64_t>& steps,
                  const SeqLayout& layout, bool to_last, bool add) {
  DispatchAllowed<DTypes::kAll>(op, full.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    cpu::ParallelFor(layout.batch, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(layout.inner, 1)),
                     [&](int64_t begin, int64_t end) {
                       for (int64_t b = begin; b < end; ++b) {
                         T* f = full.As<T>() + layout.Offset(steps[b], b);
                         T* l = last.As<T>() + b * layout.inner;
                         const T* src = to_last ? f : l;
                         T* dst = to_last ? l : f;
                         for (int64_t k = 0; k < layout.inner; ++k) Store<T, C>(dst + k, static_cast<C>(src[k]), add);
                       }
                     });
  });
}

PMX_REGISTER_OP(SequenceLast) {
  OpDef def;
  def.name = "SequenceLast";
  def.family = "sequence";
  def.doc = "The last step of every sequence (at its length - 1): the output is data without the time axis.";
  def.inputs = {"data", "sequence_length"};
  def.num_inputs = InputsWithLength(1);
  def.params = SequenceParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!AllKnownShapes(*in)) return false;
    const SeqLayout layout = LayoutOf("SequenceLast", params, *(*in)[0]);
    CheckLengths("SequenceLast", params, *in, 1, layout);
    (*out)[0] = WithoutTime(*(*in)[0], layout.axis);
    return true;
  };
  def.infer_type = SequenceTypes("SequenceLast");
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const SeqLayout layout = LayoutOf("SequenceLast", *context.params, in[0].shape);
    if (out[0].size() == 0) return;
    const auto steps = LastSteps("SequenceLast", Lengths(context, in, 1, layout), layout);
    MoveLastRows("SequenceLast", in[0], out[0], steps, layout, true, context.modes[0] == WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    std::vector<Value> inputs = {args.output_grads[0], args.inputs[0]};
    if (args.params->Bool("use_sequence_length")) inputs.push_back(args.inputs[1]);
    return WithNoLengthGrad(args, b.Call1("_sequence_last_grad", inputs, args.params->ToStrings()));
  };
  return def;
}

PMX_REGISTER_OP(_sequence_last_grad) {
  OpDef def;
  def.name = "_sequence_last_grad";
  def.family = "sequence";
  def.doc = "Gradient helper of SequenceLast: zeros shaped like data with each row of `grad` at its sequence's "
            "last step.";
  def.inputs = {"grad", "data", "sequence_length"};
  def.num_inputs = InputsWithLength(2);
  def.params = SequenceParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!AllKnownShapes(*in)) return false;
    const SeqLayout layout = LayoutOf("_sequence_last_grad", params, *(*in)[1]);
    CheckLengths("_sequence_last_grad", params, *in, 2, layout);
    const Shape expected = WithoutTime(*(*in)[1], layout.axis);
    PMX_CHECK(*(*in)[0] == expected, kValueError, "[_sequence_last_grad] grad has shape %s: expected %s",
              (*in)[0]->ToString(), expected.ToString());
    (*out)[0] = (*in)[1];
    return true;
  };
  def.infer_type = SequenceTypes("_sequence_last_grad");
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const SeqLayout layout = LayoutOf("_sequence_last_grad", *context.params, out[0].shape);
    ZeroUnlessAdd(out[0], context.modes[0]);
    if (in[0].size() == 0) return;
    const auto steps = LastSteps("_sequence_last_grad", Lengths(context, in, 2, layout), layout);
    MoveLastRows("_sequence_last_grad", out[0], in[0], steps, layout, false, true);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    std::vector<Value> inputs = {args.output_grads[0]};
    if (args.params->Bool("use_sequence_length")) inputs.push_back(args.inputs[2]);
    Grads grads = {b.Call1("SequenceLast", inputs, args.params->ToStrings()), std::nullopt};
    if (args.params->Bool("use_sequence_length")) grads.push_back(std::nullopt);
    return grads;
  };
  return def;
}

PMX_REGISTER_OP(SequenceReverse) {
  OpDef def;
  def.name = "SequenceReverse";
  def.family = "sequence";
  def.doc = "Reverses the first length steps of every sequence; steps past a sequence's length stay in place.";
  def.inputs = {"data", "sequence_length"};
  def.num_inputs = InputsWithLength(1);
  def.params = SequenceParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!AllKnownShapes(*in)) return false;
    CheckLengths("SequenceReverse", params, *in, 1, LayoutOf("SequenceReverse", params, *(*in)[0]));
    (*out)[0] = (*in)[0];
    return true;
  };
  def.infer_type = SequenceTypes("SequenceReverse");
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const SeqLayout layout = LayoutOf("SequenceReverse", *context.params, in[0].shape);
    const std::vector<int64_t> lengths = Lengths(context, in, 1, layout);
    for (size_t b = 0; b < lengths.size(); ++b) {
      PMX_CHECK(lengths[b] >= 0 && lengths[b] <= layout.steps, kIndexError,
                "[SequenceReverse] sequence %d has length %d: expected 0 <= length <= %d", static_cast<int>(b),
                lengths[b], layout.steps);
    }
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kAll>("SequenceReverse", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      cpu::ParallelFor(layout.steps * layout.batch, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(layout.inner, 1)),
                       [&](int64_t begin, int64_t end) {
                         for (int64_t r = begin; r < end; ++r) {
                           const int64_t t = r / layout.batch, b = r % layout.batch;
                           const int64_t from = t < lengths[b] ? lengths[b] - 1 - t : t;
                           const T* src = x + layout.Offset(from, b);
                           T* dst = y + layout.Offset(t, b);
                           for (int64_t k = 0; k < layout.inner; ++k) Store<T, C>(dst + k, static_cast<C>(src[k]), add);
                         }
                       });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return WithNoLengthGrad(args, b.Call1("SequenceReverse", WithLength(args, args.output_grads[0]),
                                          args.params->ToStrings()));
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
