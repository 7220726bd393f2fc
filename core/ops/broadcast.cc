// Explicit broadcasting: broadcast_to, broadcast_like, broadcast_axis.
#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace {

// Copies `in` broadcast to `out`'s shape (or adds it, for kAdd).
void BroadcastCopy(const char* op, const KernelContext& context, const TensorRef& in, const TensorRef& out) {
  DispatchAllowed<DTypes::kAll>(op, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* x = in.As<T>();
    T* y = out.As<T>();
    const bool add = context.modes[0] == WriteMode::kAdd;
    BroadcastIndexer indexer(in.shape, in.shape, out.shape);
    cpu::ParallelFor(out.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
      indexer.ForRange(begin, end, [&](int64_t i, int64_t ix, int64_t) { Store<T, C>(y + i, static_cast<C>(x[ix]), add); });
    });
  });
}

// Checks that `in` broadcasts to `target` under MXNet's rule (equal dims or 1, same ndim after padding).
void CheckBroadcastable(const char* op, const Shape& in, const Shape& target) {
  PMX_CHECK(in.ndim() <= target.ndim(), kValueError, "[%s] cannot broadcast shape %s to %s (more dimensions)", op,
            in.ToString(), target.ToString());
  for (int d = 0; d < in.ndim(); ++d) {
    const int64_t from = in[d], to = target[d + target.ndim() - in.ndim()];
    PMX_CHECK(from == to || from == 1, kValueError, "[%s] cannot broadcast shape %s to %s (axis %d: %d vs %d)", op,
              in.ToString(), target.ToString(), d, from, to);
  }
}

GradientFn SumBack() {
  return [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    Grads grads = {b.Call1("_sum_to_like", {args.output_grads[0], args.inputs[0]})};
    for (size_t i = 1; i < args.inputs.size(); ++i) grads.push_back(std::nullopt);
    return grads;
  };
}

OpDef BroadcastBase(const std::string& name, const std::string& doc) {
  OpDef def;
  def.name = name;
  def.family = "broadcast";
  def.doc = doc;
  def.inputs = {"data"};
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [op = name](const KernelContext& context, absl::Span<const TensorRef> in,
                                              absl::Span<const TensorRef> out) {
    BroadcastCopy(op.c_str(), context, in[0], out[0]);
  };
  def.gradient = SumBack();
  return def;
}

PMX_REGISTER_OP(broadcast_to) {
  OpDef def = BroadcastBase("broadcast_to", "Broadcasts the input to `shape`; a 0 in `shape` keeps that input dimension.");
  def.params = {{"shape", ParamType::kShape, "[]", false, false, {}, "The target shape (0 keeps the input's size)."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    std::vector<int64_t> dims = params.Ints("shape");
    PMX_CHECK(static_cast<int>(dims.size()) >= data.ndim(), kValueError,
              "[broadcast_to] target shape has %d dimensions, the input %s has more", static_cast<int>(dims.size()),
              data.ToString());
    for (size_t d = 0; d < dims.size(); ++d) {
      const int in_d = static_cast<int>(d) - static_cast<int>(dims.size()) + data.ndim();
      if (dims[d] == 0 && in_d >= 0) dims[d] = data[in_d];
    }
    const Shape target(dims);
    CheckBroadcastable("broadcast_to", data, target);
    (*out)[0] = target;
    return true;
  };
  return def;
}

PMX_REGISTER_OP(broadcast_like) {
  OpDef def = BroadcastBase("broadcast_like", "Broadcasts `lhs` to the shape of `rhs`.");
  def.inputs = {"lhs", "rhs"};
  def.params = {{"lhs_axes", ParamType::kShape, "None", false, true, {}, "Axes of lhs to broadcast (default: all)."},
                {"rhs_axes", ParamType::kShape, "None", false, true, {}, "Axes of rhs giving the sizes."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape& lhs = *(*in)[0];
    const Shape& rhs = *(*in)[1];
    Shape target = rhs;
    if (!params.IsNone("lhs_axes")) {
      const auto& lhs_axes = params.Ints("lhs_axes");
      const auto& rhs_axes = params.Ints("rhs_axes");
      PMX_CHECK(lhs_axes.size() == rhs_axes.size(), kValueError,
                "[broadcast_like] lhs_axes and rhs_axes have %d and %d entries: expected the same number",
                static_cast<int>(lhs_axes.size()), static_cast<int>(rhs_axes.size()));
      std::vector<int64_t> dims(lhs.dims().begin(), lhs.dims().end());
      for (size_t i = 0; i < lhs_axes.size(); ++i) {
        dims[NormalizeAxis(static_cast<int>(lhs_axes[i]), lhs.ndim(), "broadcast_like")] =
            rhs[NormalizeAxis(static_cast<int>(rhs_axes[i]), rhs.ndim(), "broadcast_like")];
      }
      target = Shape(dims);
    }
    CheckBroadcastable("broadcast_like", lhs, target);
    (*out)[0] = target;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  return def;
}

PMX_REGISTER_OP(broadcast_axis) {
  OpDef def = BroadcastBase("broadcast_axis", "Broadcasts the input along the given axes (each of size 1) to `size`.");
  def.aliases = {"broadcast_axes"};
  def.params = {{"axis", ParamType::kShape, "[]", false, false, {}, "The axes to broadcast."},
                {"size", ParamType::kShape, "[]", false, false, {}, "The target size of each axis."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& data = *(*in)[0];
    const auto& axes = params.Ints("axis");
    const auto& sizes = params.Ints("size");
    PMX_CHECK(axes.size() == sizes.size(), kValueError,
              "[broadcast_axis] axis and size have %d and %d entries: expected the same number",
              static_cast<int>(axes.size()), static_cast<int>(sizes.size()));
    std::vector<int64_t> dims(data.dims().begin(), data.dims().end());
    for (size_t i = 0; i < axes.size(); ++i) {
      const int axis = NormalizeAxis(static_cast<int>(axes[i]), data.ndim(), "broadcast_axis");
      PMX_CHECK(dims[axis] == 1, kValueError, "[broadcast_axis] axis %d has size %d: expected 1", axis, dims[axis]);
      dims[axis] = sizes[i];
    }
    (*out)[0] = Shape(dims);
    return true;
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
