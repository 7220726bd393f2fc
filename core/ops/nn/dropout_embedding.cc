// Dropout and Embedding, with the scatter-add helper that carries Embedding's weight gradient.
#include <cmath>

#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// ---- Dropout --------------------------------------------------------------------------------------------

// Note [Dropout mask]
// Dropout's hidden second output is the mask the input was multiplied by: 0 or 1/(1-p) per element
// while dropping, 1 everywhere otherwise (predict mode, p = 0). The gradient is then head_grad * mask in
// every mode, with no branch on training mode (gradients are built without knowing it).
PMX_REGISTER_OP(Dropout) {
  OpDef def;
  def.name = "Dropout";
  def.family = "nn/dropout_embedding";
  def.doc = "Dropout: while training (or always, with mode 'always'), zeroes each element with probability p and "
            "scales the others by 1/(1-p); `axes` share one draw along the listed axes (variational dropout). "
            "Otherwise it is the identity.";
  def.inputs = {"data"};
  def.outputs = {"output", "mask"};
  def.num_visible_outputs = [](const OpParams&) { return 1; };
  def.params = {
      {"p", ParamType::kFloat, "0.5", false, false, {}, "Fraction of the input that gets dropped out."},
      {"mode", ParamType::kEnum, "training", false, false, {"always", "training"},
       "training: drop only in training mode; always: drop in predict mode too."},
      {"axes", ParamType::kShape, "()", false, false, {}, "Axes along which one draw is shared."},
      {"cudnn_off", ParamType::kBool, "False", false, true, {}, "Accepted for compatibility; no effect on the CPU."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const double p = params.Float("p");
    PMX_CHECK(p >= 0 && p <= 1, kValueError, "[Dropout] p is %g, expected 0 <= p <= 1", p);
    for (int64_t axis : params.Ints("axes")) NormalizeAxis(static_cast<int>(axis), (*in)[0]->ndim(), "Dropout");
    (*out)[0] = (*out)[1] = (*in)[0];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("Dropout", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const OpParams& params = *context.params;
    const double p = params.Float("p");
    const bool drop = (params.Str("mode") == "always" || context.is_train) && p > 0;
    const Shape& shape = in[0].shape;
    std::vector<int64_t> draw_dims(shape.dims().begin(), shape.dims().end());
    for (int64_t axis : params.Ints("axes")) {
      draw_dims[NormalizeAxis(static_cast<int>(axis), shape.ndim(), "Dropout")] = 1;
    }
    const Shape draw_shape(draw_dims);
    const double keep = 1 - p, scale = keep > 0 ? 1 / keep : 0;
    const uint64_t seed = context.seed;
    const bool add_out = context.modes[0] == WriteMode::kAdd, add_mask = context.modes[1] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("Dropout", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      T* mask = out[1].As<T>();
      BroadcastIndexer indexer(draw_shape, draw_shape, shape);
      cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        indexer.ForRange(begin, end, [&](int64_t i, int64_t draw, int64_t) {
          const C factor = static_cast<C>(!drop ? 1.0 : UniformAt(seed, draw) < keep ? scale : 0.0);
          Store<T, C>(y + i, static_cast<C>(static_cast<C>(x[i]) * factor), add_out);
          Store<T, C>(mask + i, factor, add_mask);
        });
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("elemwise_mul", {args.output_grads[0], args.outputs[1]})};
  };
  def.needs_rng = true;
  return def;
}

// ---- Embedding ------------------------------------------------------------------------------------------

// The row of weight that index value `value` selects: MXNet clips indices into [0, input_dim).
inline int64_t ClipIndex(double value, int64_t rows) {
  return std::clamp<int64_t>(static_cast<int64_t>(value), 0, rows - 1);
}

std::vector<ParamDef> EmbeddingParams() {
  return {{"input_dim", ParamType::kInt, "", true, false, {}, "Vocabulary size: the number of rows of weight."},
          {"output_dim", ParamType::kInt, "", true, false, {}, "Dimension of each embedding vector."},
          {"dtype", ParamType::kDType, "float32", false, false, {}, "Dtype of weight and output."},
          {"sparse_grad", ParamType::kBool, "False", false, false, {},
           "Accepted for compatibility: the weight gradient is always dense in Polymix."}};
}

PMX_REGISTER_OP(Embedding) {
  OpDef def;
  def.name = "Embedding";
  def.family = "nn/dropout_embedding";
  def.doc = "Maps integer indices to rows of a weight matrix: out[..., :] = weight[data[...], :], with indices "
            "clipped into [0, input_dim). The output has shape data.shape + (output_dim,).";
  def.inputs = {"data", "weight"};
  def.params = EmbeddingParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    const int64_t rows = params.Int("input_dim"), columns = params.Int("output_dim");
    PMX_CHECK(rows > 0 && columns > 0, kValueError, "[Embedding] input_dim=%d and output_dim=%d must be positive",
              static_cast<int>(rows), static_cast<int>(columns));
    AssignInputShape("Embedding", "weight", &(*in)[1], Shape({rows, columns}));
    if (!(*in)[0]) return false;
    std::vector<int64_t> dims((*in)[0]->dims().begin(), (*in)[0]->dims().end());
    dims.push_back(columns);
    (*out)[0] = Shape(dims);
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    // A weight of another float dtype is accepted and decides the output (MXNet insists on `dtype`).
    if (!(*in)[1]) (*in)[1] = params.Type("dtype");
    PMX_CHECK(!(*in)[0] || Accepts(DTypes::kNumeric, *(*in)[0]), kTypeError, "[Embedding] data has dtype %s, "
              "expected a numeric dtype", DTypeName(*(*in)[0]));
    (*out)[0] = (*in)[1];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t rows = in[1].shape[0], columns = in[1].shape[1];
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kNumeric>("Embedding", in[0].dtype, [&](auto index_tag) {
      using I = decltype(index_tag);
      const I* index = in[0].As<I>();
      DispatchAllowed<DTypes::kNumeric>("Embedding", in[1].dtype, [&](auto tag) {
        using T = decltype(tag);
        using C = ComputeType<T>;
        const T* weight = in[1].As<T>();
        T* y = out[0].As<T>();
        cpu::ParallelFor(in[0].size(), RowGrain(columns), [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) {
            const int64_t r = ClipIndex(static_cast<double>(static_cast<ComputeType<I>>(index[i])), rows);
            const T* row = weight + r * columns;
            for (int64_t j = 0; j < columns; ++j) Store<T, C>(y + i * columns + j, static_cast<C>(row[j]), add);
          }
        });
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    ParamMap params = {{"input_dim", std::to_string(args.params->Int("input_dim"))},
                       {"output_dim", std::to_string(args.params->Int("output_dim"))}};
    return {std::nullopt, b.Call1("_nn_embedding_grad", {args.inputs[0], args.output_grads[0]}, params)};
  };
  return def;
}

PMX_REGISTER_OP(_nn_embedding_grad) {
  OpDef def;
  def.name = "_nn_embedding_grad";
  def.family = "nn/dropout_embedding";
  def.doc = "Embedding's weight gradient: scatter-adds the rows of `grad` into an (input_dim, output_dim) array at "
            "the (clipped) indices in `data` (gradient helper).";
  def.inputs = {"data", "grad"};
  def.params = EmbeddingParams();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const int64_t rows = params.Int("input_dim"), columns = params.Int("output_dim");
    std::vector<int64_t> dims((*in)[0]->dims().begin(), (*in)[0]->dims().end());
    dims.push_back(columns);
    AssignInputShape("_nn_embedding_grad", "grad", &(*in)[1], Shape(dims));
    (*out)[0] = Shape({rows, columns});
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[1]) return false;
    (*out)[0] = (*in)[1];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const int64_t rows = out[0].shape[0], columns = out[0].shape[1];
    const int64_t count = in[0].size();
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kNumeric>("_nn_embedding_grad", in[0].dtype, [&](auto index_tag) {
      using I = decltype(index_tag);
      const I* index = in[0].As<I>();
      DispatchAllowed<DTypes::kNumeric>("_nn_embedding_grad", in[1].dtype, [&](auto tag) {
        using T = decltype(tag);
        using C = ComputeType<T>;
        const T* grad = in[1].As<T>();
        T* y = out[0].As<T>();
        std::vector<int64_t> targets(count);
        for (int64_t i = 0; i < count; ++i) {
          targets[i] = ClipIndex(static_cast<double>(static_cast<ComputeType<I>>(index[i])), rows);
        }
        // Threads own disjoint column ranges, so repeated indices never race.
        cpu::ParallelFor(columns, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(count + rows, 1)),
                         [&](int64_t begin, int64_t end) {
          const int64_t width = end - begin;
          std::vector<C> sums(width * rows, C(0));
          for (int64_t i = 0; i < count; ++i) {
            const T* source = grad + i * columns + begin;
            for (int64_t j = 0; j < width; ++j) sums[targets[i] * width + j] += static_cast<C>(source[j]);
          }
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t j = 0; j < width; ++j) Store<T, C>(y + r * columns + begin + j, sums[r * width + j], add);
          }
        });
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {std::nullopt, b.Call1("Embedding", {args.inputs[0], args.output_grads[0]}, args.params->ToStrings())};
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
