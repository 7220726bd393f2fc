// MXNet's fused recurrent operator RNN (vanilla relu/tanh, LSTM, GRU; stacked, bidirectional), its gradient
// helper _rnn_backward, and _rnn_param_concat, the Concat that Gluon uses to build RNN's parameter vector.
// The kernels live in rnn_cell.cc; this file declares the operators and adapts dtypes and write modes.
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "core/ops/internal/strided.h"
#include "core/ops/nn/layers_common.h"
#include "core/ops/nn/rnn_internal.h"

namespace pmx {
namespace ops {
namespace nn {

// Note [RNN inputs and outputs]
// As in MXNet, the inputs depend on the parameters: data, parameters, state, then state_cell for LSTM only,
// then sequence_length when use_sequence_length. So for relu/tanh/gru with sequence lengths the fourth input
// is sequence_length, though the declared name list (which is MXNet's argument list) calls the fourth one
// state_cell: callers pass inputs by position, as MXNet's symbol JSON stores them. The visible outputs are
// output, then with state_outputs the final state and (LSTM) the final cell state; a hidden last output holds
// the activations that _rnn_backward needs (Note [RNN saved activations] in rnn_internal.h).
//
// Note [RNN gradient]
// A fused recurrence has no useful composition of other operators, so RNN's gradient is one call of the
// internal _rnn_backward, which backpropagates through time over the saved activations. _rnn_backward itself
// declares no gradient: higher-order gradients through RNN are not available (as in MXNet).
//
// Note [LSTM state clipping]
// lstm_state_clip_min/max clip each new cell state into [min, max] before h = o * tanh(c), as cuDNN does;
// gradients do not flow through a clipped element. With lstm_state_clip_nan a NaN cell state becomes
// lstm_state_clip_min instead of propagating. MXNet 1.9.1 offers clipping and sequence_length only on GPUs with
// cuDNN; Polymix computes both on the CPU too. projection_size (cuDNN-only LSTMP in MXNet) is not supported.

namespace {

bool IsLstm(const OpParams& params) { return params.Str("mode") == "lstm"; }

// Position of the sequence_length input (Note [RNN inputs and outputs]).
int LengthIndex(const OpParams& params) { return IsLstm(params) ? 4 : 3; }

// Number of forward inputs.
int NumForwardInputs(const OpParams& params) {
  return 3 + (IsLstm(params) ? 1 : 0) + (params.Bool("use_sequence_length") ? 1 : 0);
}

// Number of visible forward outputs.
int NumVisible(const OpParams& params) {
  return 1 + (params.Bool("state_outputs") ? (IsLstm(params) ? 2 : 1) : 0);
}

std::vector<ParamDef> RnnParams() {
  return {
      {"state_size", ParamType::kInt, "", true, false, {}, "Size of the hidden state of each layer."},
      {"num_layers", ParamType::kInt, "", true, false, {}, "Number of stacked layers."},
      {"bidirectional", ParamType::kBool, "False", false, false, {}, "Whether each layer also runs backward in time."},
      {"mode", ParamType::kEnum, "", true, false, {"rnn_relu", "rnn_tanh", "lstm", "gru"}, "The recurrence."},
      {"p", ParamType::kFloat, "0", false, false, {},
       "Dropout probability on the outputs of every layer but the last, while training."},
      {"state_outputs", ParamType::kBool, "False", false, false, {},
       "Whether the final states are outputs too (state_output, and statecell_output for LSTM)."},
      {"projection_size", ParamType::kInt, "None", false, true, {},
       "LSTM projection size (not supported: must be None)."},
      {"lstm_state_clip_min", ParamType::kFloat, "None", false, true, {},
       "Lower bound of LSTM cell states; give it with lstm_state_clip_max."},
      {"lstm_state_clip_max", ParamType::kFloat, "None", false, true, {},
       "Upper bound of LSTM cell states; give it with lstm_state_clip_min."},
      {"lstm_state_clip_nan", ParamType::kBool, "False", false, false, {},
       "Whether a NaN cell state is clipped to the lower bound instead of propagating (with clipping only)."},
      {"use_sequence_length", ParamType::kBool, "False", false, false, {},
       "Whether the sequence_length input gives each sequence's valid length."}};
}

RnnMode ModeOf(const std::string& mode) {
  if (mode == "rnn_relu") return RnnMode::kRelu;
  if (mode == "rnn_tanh") return RnnMode::kTanh;
  if (mode == "gru") return RnnMode::kGru;
  return RnnMode::kLstm;
}

}  // namespace

void CheckRnnParams(const char* op, const OpParams& params) {
  const int64_t state_size = params.Int("state_size"), layers = params.Int("num_layers");
  PMX_CHECK(state_size > 0, kValueError, "[%s] state_size is %d, expected a positive size", op, state_size);
  PMX_CHECK(layers > 0, kValueError, "[%s] num_layers is %d, expected at least 1", op, layers);
  const double p = params.Float("p");
  PMX_CHECK(p >= 0 && p < 1, kValueError, "[%s] p is %g, expected 0 <= p < 1", op, p);
  PMX_CHECK(params.IsNone("projection_size"), kNotImplementedError,
            "[%s] projection_size=%d is not supported (MXNet offers LSTM projection only with cuDNN); leave it None",
            op, params.IsNone("projection_size") ? 0 : params.Int("projection_size"));
  const bool has_min = !params.IsNone("lstm_state_clip_min"), has_max = !params.IsNone("lstm_state_clip_max");
  if (!has_min && !has_max) return;
  PMX_CHECK(IsLstm(params), kValueError, "[%s] lstm_state_clip_min/max apply to mode 'lstm' only, given mode '%s'",
            op, params.Str("mode"));
  PMX_CHECK(has_min && has_max, kValueError,
            "[%s] lstm_state_clip_min and lstm_state_clip_max must be given together, given only %s", op,
            has_min ? "lstm_state_clip_min" : "lstm_state_clip_max");
  PMX_CHECK(params.Float("lstm_state_clip_max") >= params.Float("lstm_state_clip_min"), kValueError,
            "[%s] lstm_state_clip_max (%g) must be >= lstm_state_clip_min (%g)", op,
            params.Float("lstm_state_clip_max"), params.Float("lstm_state_clip_min"));
}

RnnConfig ConfigFrom(const char* op, const OpParams& params, const Shape& data) {
  CheckRnnParams(op, params);
  PMX_CHECK(data.ndim() == 3, kValueError,
            "[%s] data has shape %s, expected 3 dimensions (sequence length, batch size, input size) in layout TNC",
            op, data.ToString());
  RnnConfig config;
  config.mode = ModeOf(params.Str("mode"));
  config.steps = data[0];
  config.batch = data[1];
  config.input = data[2];
  config.hidden = params.Int("state_size");
  config.layers = params.Int("num_layers");
  config.dirs = params.Bool("bidirectional") ? 2 : 1;
  config.dropout = params.Float("p");
  config.use_lengths = params.Bool("use_sequence_length");
  config.clip = !params.IsNone("lstm_state_clip_min");
  if (config.clip) {
    config.clip_min = params.Float("lstm_state_clip_min");
    config.clip_max = params.Float("lstm_state_clip_max");
  }
  config.clip_nan = params.Bool("lstm_state_clip_nan");
  return config;
}

namespace {

// The shapes of the forward's value inputs (data, parameters, state, [state_cell]) and visible outputs.
struct RnnShapes {
  RnnConfig config;
  Shape params, state, lengths, out;
};

RnnShapes ShapesOf(const char* op, const OpParams& params, const Shape& data) {
  RnnShapes shapes;
  shapes.config = ConfigFrom(op, params, data);
  const RnnConfig& c = shapes.config;
  shapes.params = Shape({c.ParamCount()});
  shapes.state = Shape({c.layers * c.dirs, c.batch, c.hidden});
  shapes.lengths = Shape({c.batch});
  shapes.out = Shape({c.steps, c.batch, c.dirs * c.hidden});
  return shapes;
}

// Checks or fills the forward inputs' shapes in `in` (Note [RNN inputs and outputs]).
void AssignForwardInputs(const char* op, const OpParams& params, const RnnShapes& shapes,
                         std::vector<MaybeShape>* in) {
  MaybeShape& given = (*in)[1];
  const RnnConfig& c = shapes.config;
  PMX_CHECK(!given || *given == shapes.params, kValueError,
            "[%s] parameters has shape %s, expected %s: all weights then all biases of %d layer(s) x %d direction(s) "
            "of mode '%s' with input size %d and state_size %d", op, given ? given->ToString() : "",
            shapes.params.ToString(), c.layers, c.dirs, params.Str("mode"), c.input, c.hidden);
  given = shapes.params;
  AssignInputShape(op, "state", &(*in)[2], shapes.state);
  if (IsLstm(params)) AssignInputShape(op, "state_cell", &(*in)[3], shapes.state);
  if (params.Bool("use_sequence_length")) {
    AssignInputShape(op, "sequence_length", &(*in)[LengthIndex(params)], shapes.lengths);
  }
}

// The dtype of the saved activations: the compute type of `dtype`.
DType ReserveDType(DType dtype) { return dtype == DType::kFloat64 ? DType::kFloat64 : DType::kFloat32; }

// Dtype inference shared by RNN and _rnn_backward: the first `values` inputs share a float dtype, except the
// sequence_length input (any numeric dtype) and, for _rnn_backward, the saved activations (reserve_index).
bool InferRnnDTypes(const char* op, const OpParams& params, int values, int reserve_index,
                    std::vector<MaybeDType>* in) {
  const int length_index = params.Bool("use_sequence_length") ? LengthIndex(params) : -1;
  MaybeDType dtype;
  for (int i = 0; i < values && !dtype; ++i) {
    if (i != length_index && i != reserve_index) dtype = (*in)[i];
  }
  if (!dtype) return false;
  CheckFloat(op, "data", *dtype);
  for (int i = 0; i < values; ++i) {
    MaybeDType& slot = (*in)[i];
    if (i == length_index) {
      if (slot) CheckIndexDType(op, "sequence_length", *slot);
      continue;
    }
    const DType expected = i == reserve_index ? ReserveDType(*dtype) : *dtype;
    PMX_CHECK(!slot || *slot == expected, kTypeError, "[%s] input %d has dtype %s, expected %s to match data", op,
              i, DTypeName(*slot), DTypeName(expected));
    slot = expected;
  }
  return true;
}

// Presents operands stored as T to the float/double kernels (compute type C): same-type inputs pass through,
// others are converted into scratch; outputs that need conversion or accumulation (kAdd) are computed into
// scratch and written back by Flush.
template <typename T, typename C>
class ComputeView {
 public:
  explicit ComputeView(const Scratch& scratch) : scratch_(scratch) {}

  // The input as C values.
  const C* In(const TensorRef& tensor) {
    if constexpr (std::is_same_v<T, C>) {
      return tensor.As<C>();
    } else {
      C* buffer = Buffer(tensor.size());
      const T* source = tensor.As<T>();
      cpu::ParallelFor(tensor.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) buffer[i] = static_cast<C>(source[i]);
      });
      return buffer;
    }
  }

  // Where the kernel writes an output of storage type T.
  C* Out(const TensorRef& tensor, WriteMode mode) {
    if constexpr (std::is_same_v<T, C>) {
      if (mode != WriteMode::kAdd) return tensor.As<C>();
    }
    C* buffer = Buffer(tensor.size());
    pending_.push_back({tensor, mode == WriteMode::kAdd, buffer});
    return buffer;
  }

  // Stores the outputs computed into scratch.
  void Flush() {
    for (const Pending& output : pending_) {
      T* target = output.tensor.template As<T>();
      cpu::ParallelFor(output.tensor.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, C>(target + i, output.buffer[i], output.add);
      });
    }
  }

 private:
  struct Pending {
    TensorRef tensor;
    bool add;
    C* buffer;
  };
  C* Buffer(int64_t count) { return static_cast<C*>(scratch_(std::max<int64_t>(count, 1) * sizeof(C))); }
  const Scratch& scratch_;
  std::vector<Pending> pending_;
};

// The sequence lengths, checked to lie in [0, T].
std::vector<int64_t> LengthsOf(const char* op, const TensorRef& lengths, int64_t steps) {
  std::vector<int64_t> values = ReadIndices(lengths);
  for (size_t n = 0; n < values.size(); ++n) {
    PMX_CHECK(values[n] >= 0 && values[n] <= steps, kValueError,
              "[%s] sequence_length[%d] is %d, expected a length in [0, %d] (the sequence length of data)", op,
              static_cast<int>(n), values[n], steps);
  }
  return values;
}

void RnnForwardKernel(const KernelContext& context, absl::Span<const TensorRef> in, absl::Span<const TensorRef> out) {
  const OpParams& params = *context.params;
  const RnnConfig config = ConfigFrom("RNN", params, in[0].shape);
  const bool lstm = IsLstm(params), states = params.Bool("state_outputs");
  std::vector<int64_t> lengths;
  if (config.use_lengths) lengths = LengthsOf("RNN", in[LengthIndex(params)], config.steps);
  DispatchAllowed<DTypes::kFloat>("RNN", in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    ComputeView<T, C> view(context.temp_space);
    RnnForwardArgs<C> args;
    args.data = view.In(in[0]);
    args.params = view.In(in[1]);
    args.state = view.In(in[2]);
    if (lstm) args.cell = view.In(in[3]);
    if (config.use_lengths) args.lengths = lengths.data();
    args.out = view.Out(out[0], context.modes[0]);
    if (states) args.state_out = view.Out(out[1], context.modes[1]);
    if (states && lstm) args.cell_out = view.Out(out[2], context.modes[2]);
    args.reserve = out.back().As<C>();  // Hidden: always overwritten.
    args.train = context.is_train;
    args.seed = context.seed;
    RnnForward<C>(config, args, context.temp_space);
    view.Flush();
  });
}

void RnnBackwardKernel(const KernelContext& context, absl::Span<const TensorRef> in,
                       absl::Span<const TensorRef> out) {
  const OpParams& params = *context.params;
  const RnnConfig config = ConfigFrom("_rnn_backward", params, in[0].shape);
  const bool lstm = IsLstm(params), states = params.Bool("state_outputs");
  const int reserve = NumForwardInputs(params);
  std::vector<int64_t> lengths;
  if (config.use_lengths) lengths = LengthsOf("_rnn_backward", in[LengthIndex(params)], config.steps);
  DispatchAllowed<DTypes::kFloat>("_rnn_backward", in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    ComputeView<T, C> view(context.temp_space);
    RnnBackwardArgs<C> args;
    args.data = view.In(in[0]);
    args.params = view.In(in[1]);
    args.state = view.In(in[2]);
    if (lstm) args.cell = view.In(in[3]);
    if (config.use_lengths) args.lengths = lengths.data();
    args.reserve = in[reserve].As<C>();
    args.out_grad = view.In(in[reserve + 1]);
    if (states) args.state_out_grad = view.In(in[reserve + 2]);
    if (states && lstm) args.cell_out_grad = view.In(in[reserve + 3]);
    args.data_grad = view.Out(out[0], context.modes[0]);
    args.params_grad = view.Out(out[1], context.modes[1]);
    args.state_grad = view.Out(out[2], context.modes[2]);
    if (lstm) args.cell_grad = view.Out(out[3], context.modes[3]);
    RnnBackward<C>(config, args, context.temp_space);
    view.Flush();
  });
}

PMX_REGISTER_OP(RNN) {
  OpDef def;
  def.name = "RNN";
  def.family = "nn/rnn";
  def.doc = "Applies a stack of recurrent layers (rnn_relu, rnn_tanh, lstm or gru; optionally bidirectional) to data "
            "of shape (sequence length, batch, input size). parameters is MXNet's flat vector: every layer's and "
            "direction's input and recurrent weights, then their biases; gates are ordered i, f, g, o (LSTM) and "
            "r, z, n (GRU, with n = tanh(W_n x + b_n + r * (U_n h + c_n))). The output has shape (sequence length, "
            "batch, directions * state_size); state_outputs adds the final hidden (and LSTM cell) states.";
  def.inputs = {"data", "parameters", "state", "state_cell", "sequence_length"};
  def.num_inputs = NumForwardInputs;
  def.outputs = {"output", "state_output", "statecell_output", "reserve"};
  def.num_outputs = [](const OpParams& params) { return NumVisible(params) + 1; };
  def.num_visible_outputs = NumVisible;
  def.params = RnnParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    CheckRnnParams("RNN", params);
    if (!(*in)[0]) return false;
    const RnnShapes shapes = ShapesOf("RNN", params, *(*in)[0]);
    AssignForwardInputs("RNN", params, shapes, in);
    (*out)[0] = shapes.out;
    for (int i = 1; i < NumVisible(params); ++i) (*out)[i] = shapes.state;
    out->back() = Shape({shapes.config.ReserveCount()});
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!InferRnnDTypes("RNN", params, NumForwardInputs(params), -1, in)) return false;
    for (int i = 0; i < NumVisible(params); ++i) (*out)[i] = (*in)[0];
    out->back() = ReserveDType(*(*in)[0]);
    return true;
  };
  def.kernels[DeviceType::kCPU] = RnnForwardKernel;
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const OpParams& params = *args.params;
    std::vector<Value> inputs = args.inputs;
    inputs.push_back(args.outputs.back());
    inputs.insert(inputs.end(), args.output_grads.begin(), args.output_grads.end());
    const std::vector<Value> grads = b.Call("_rnn_backward", inputs, params.ToStrings());
    Grads result(grads.begin(), grads.end());
    if (params.Bool("use_sequence_length")) result.push_back(std::nullopt);
    return result;
  };
  def.needs_temp_space = true;
  def.needs_rng = true;
  return def;
}

PMX_REGISTER_OP(_rnn_backward) {
  OpDef def;
  def.name = "_rnn_backward";
  def.family = "nn/rnn";
  def.doc = "RNN's gradient (gradient helper): backpropagation through time over the activations the forward saved. "
            "Inputs: RNN's inputs, its hidden saved-activation output, then the gradients of its visible outputs; "
            "outputs: the gradients of data, parameters, state and (LSTM) state_cell.";
  def.inputs = {"data", "parameters", "state", "state_cell", "sequence_length", "reserve", "out_grad",
                "state_output_grad", "statecell_output_grad"};
  def.num_inputs = [](const OpParams& params) { return NumForwardInputs(params) + 1 + NumVisible(params); };
  def.outputs = {"data_grad", "parameters_grad", "state_grad", "state_cell_grad"};
  def.num_outputs = [](const OpParams& params) { return IsLstm(params) ? 4 : 3; };
  def.params = RnnParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    CheckRnnParams("_rnn_backward", params);
    if (!(*in)[0]) return false;
    const RnnShapes shapes = ShapesOf("_rnn_backward", params, *(*in)[0]);
    AssignForwardInputs("_rnn_backward", params, shapes, in);
    const int reserve = NumForwardInputs(params);
    AssignInputShape("_rnn_backward", "reserve", &(*in)[reserve], Shape({shapes.config.ReserveCount()}));
    AssignInputShape("_rnn_backward", "out_grad", &(*in)[reserve + 1], shapes.out);
    for (int i = 1; i < NumVisible(params); ++i) {
      AssignInputShape("_rnn_backward", i == 1 ? "state_output_grad" : "statecell_output_grad",
                       &(*in)[reserve + 1 + i], shapes.state);
    }
    for (size_t i = 0; i < out->size(); ++i) (*out)[i] = (*in)[i];
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    const int reserve = NumForwardInputs(params);
    if (!InferRnnDTypes("_rnn_backward", params, static_cast<int>(in->size()), reserve, in)) return false;
    for (size_t i = 0; i < out->size(); ++i) (*out)[i] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = RnnBackwardKernel;
  def.needs_temp_space = true;
  return def;
}

// ---- _rnn_param_concat ----------------------------------------------------------------------------------

// Note [RNN parameter concat]
// Gluon's fused RNN layers flatten every weight and bias and join them with _rnn_param_concat, a Concat whose
// shape inference also runs backward: while the input size is unknown (deferred initialisation), the one or two
// unknown inputs (the first layer's input weights) take what the known output size leaves over, split evenly.
bool InferParamConcatShape(const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
  const char* op = "_rnn_param_concat";
  MaybeShape like = (*out)[0];
  std::vector<int> unknown;
  for (size_t i = 0; i < in->size(); ++i) {
    if (!(*in)[i]) unknown.push_back(static_cast<int>(i));
    if (!like && (*in)[i]) like = (*in)[i];
  }
  if (!like) return false;
  const int ndim = like->ndim();
  const int axis = NormalizeAxis(static_cast<int>(params.Int("dim")), ndim, op);
  int64_t known_total = 0;
  for (size_t i = 0; i < in->size(); ++i) {
    if (!(*in)[i]) continue;
    const Shape& shape = *(*in)[i];
    bool alike = shape.ndim() == ndim;
    for (int d = 0; alike && d < ndim; ++d) alike = d == axis || shape[d] == (*like)[d];
    PMX_CHECK(alike, kValueError, "[%s] input %d has shape %s, expected the dimensions of %s except axis %d", op,
              static_cast<int>(i), shape.ToString(), like->ToString(), axis);
    known_total += shape[axis];
  }
  if (unknown.empty()) {
    const Shape joined = WithDim(*like, axis, known_total);
    PMX_CHECK(!(*out)[0] || *(*out)[0] == joined, kValueError, "[%s] output has shape %s, but the inputs join to %s",
              op, (*out)[0]->ToString(), joined.ToString());
    (*out)[0] = joined;
    return true;
  }
  if (!(*out)[0]) return false;
  const int64_t residual = (*(*out)[0])[axis] - known_total;
  const int64_t count = static_cast<int64_t>(unknown.size());
  PMX_CHECK(count <= 2 && residual >= 0 && residual % count == 0, kValueError,
            "[%s] cannot infer %d unknown input shape(s): the output has %d along axis %d and the known inputs "
            "already take %d (expected 1 or 2 unknown inputs sharing the rest evenly)", op, static_cast<int>(count),
            (*(*out)[0])[axis], axis, known_total);
  for (int i : unknown) (*in)[i] = WithDim(*(*out)[0], axis, residual / count);
  return true;
}

PMX_REGISTER_OP(_rnn_param_concat) {
  OpDef def;
  def.name = "_rnn_param_concat";
  def.family = "nn/rnn";
  def.doc = "Joins the inputs along axis `dim` like Concat; shape inference can also give one or two inputs of "
            "unknown shape the size left over by a known output (Gluon's fused RNN parameters).";
  def.inputs = {"data"};
  def.variadic_count_param = "num_args";
  def.params = {{"num_args", ParamType::kInt, "", true, false, {}, "Number of inputs to join."},
                {"dim", ParamType::kInt, "1", false, false, {}, "The axis to join along."}};
  def.infer_shape = InferParamConcatShape;
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("_rnn_param_concat", DTypes::kAll, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const Shape& shape = out[0].shape;
    const int axis = NormalizeAxis(static_cast<int>(context.params->Int("dim")), shape.ndim(), "_rnn_param_concat");
    const int64_t outer = DimsProduct(shape, 0, axis), inner = DimsProduct(shape, axis + 1, shape.ndim());
    const int64_t row = shape[axis] * inner;
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kAll>("_rnn_param_concat", out[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      T* y = out[0].As<T>();
      int64_t offset = 0;
      for (const TensorRef& piece : in) {
        const int64_t width = piece.shape[axis] * inner;
        const T* x = piece.As<T>();
        cpu::ParallelFor(outer, RowGrain(width), [&](int64_t begin, int64_t end) {
          for (int64_t o = begin; o < end; ++o) {
            T* target = y + o * row + offset;
            for (int64_t j = 0; j < width; ++j) Store<T, C>(target + j, static_cast<C>(x[o * width + j]), add);
          }
        });
        offset += width;
      }
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    std::vector<Value> inputs = {args.output_grads[0]};
    inputs.insert(inputs.end(), args.inputs.begin(), args.inputs.end());
    const std::vector<Value> pieces =
        b.Call("_split_like", inputs,
               {{"num_args", std::to_string(inputs.size())}, {"axis", std::to_string(args.params->Int("dim"))}});
    return Grads(pieces.begin(), pieces.end());
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
