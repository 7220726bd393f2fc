// Matrix products of arrays: dot (MXNet's N-d dot with its flattening rules) and batch_dot, plus the
// internal helper _dot_output_2d their gradients compose with. Kernels run on internal/gemm.h (oneDNN for
// float32).
#include <string>
#include <vector>

#include "core/ops/internal/gemm.h"
#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace {

// Note [dot on N-d arrays]
// MXNet's dot multiplies 2-d views of its operands: lhs is seen as (prod(shape[:-1]), shape[-1]), or with
// transpose_a as (shape[0], prod(shape[1:])) transposed; rhs as (shape[0], prod(shape[1:])), or with
// transpose_b as (prod(shape[:-1]), shape[-1]) transposed. The output keeps the non-contracted dimensions
// of both (none of a 1-d operand); two vectors give shape (1,). The gradient needs the output in its
// (M, N) view, which depends on lhs's shape, hence the shape-free helper _dot_output_2d.

// The GEMM view of dot(lhs, rhs): op(lhs) is m x k, op(rhs) is k x n.
struct DotView {
  int64_t m = 1, n = 1, k = 1;
};

DotView ViewOfDot(const char* op, const Shape& lhs, const Shape& rhs, bool ta, bool tb) {
  PMX_CHECK(lhs.ndim() > 0 && rhs.ndim() > 0, kValueError, "[%s] inputs have shapes %s and %s: scalars are not "
            "supported", op, lhs.ToString(), rhs.ToString());
  DotView view;
  const int64_t k_left = ta ? lhs[0] : lhs[lhs.ndim() - 1];
  const int64_t k_right = tb ? rhs[rhs.ndim() - 1] : rhs[0];
  PMX_CHECK(k_left == k_right, kValueError,
            "[%s] shapes %s and %s (transpose_a=%d, transpose_b=%d) do not match: lhs contracts a dimension of %d, "
            "rhs one of %d", op, lhs.ToString(), rhs.ToString(), ta, tb, static_cast<int>(k_left),
            static_cast<int>(k_right));
  view.k = k_left;
  view.m = k_left == 0 ? 1 : lhs.size() / k_left;
  view.n = k_left == 0 ? 1 : rhs.size() / k_left;
  if (k_left == 0) {  // Zero-size contraction: recover m and n from the shapes directly.
    view.m = 1;
    for (int d = ta ? 1 : 0; d < (ta ? lhs.ndim() : lhs.ndim() - 1); ++d) view.m *= lhs[d];
    view.n = 1;
    for (int d = tb ? 0 : 1; d < (tb ? rhs.ndim() - 1 : rhs.ndim()); ++d) view.n *= rhs[d];
  }
  return view;
}

Shape DotOutputShape(const Shape& lhs, const Shape& rhs, bool ta, bool tb) {
  if (lhs.ndim() == 1 && rhs.ndim() == 1) return Shape({1});
  std::vector<int64_t> dims;
  if (lhs.ndim() > 1) {
    for (int d = ta ? 1 : 0; d < (ta ? lhs.ndim() : lhs.ndim() - 1); ++d) dims.push_back(lhs[d]);
  }
  if (rhs.ndim() > 1) {
    for (int d = tb ? 0 : 1; d < (tb ? rhs.ndim() - 1 : rhs.ndim()); ++d) dims.push_back(rhs[d]);
  }
  return Shape(dims);
}

std::vector<ParamDef> DotParams(bool with_stype) {
  std::vector<ParamDef> params = {
      {"transpose_a", ParamType::kBool, "False", false, false, {}, "Use the transpose of the first input."},
      {"transpose_b", ParamType::kBool, "False", false, false, {}, "Use the transpose of the second input."}};
  if (with_stype) {
    params.push_back({"forward_stype", ParamType::kEnum, "None", false, true, {"csr", "default", "row_sparse"},
                      "Storage type of the output (accepted for compatibility; outputs are dense)."});
  }
  return params;
}

bool InferFloatPair(const char* op, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
  return InferSameDType(op, DTypes::kFloat, in, out);
}

// Runs `shape` on in[0], in[1] into out[0] for any float dtype, honouring kAdd.
void RunGemm(const char* op, const GemmShape& shape, const KernelContext& context, absl::Span<const TensorRef> in,
             absl::Span<const TensorRef> out) {
  PMX_CHECK(in[0].dtype == in[1].dtype, kTypeError, "[%s] inputs have dtypes %s and %s: expected the same", op,
            DTypeName(in[0].dtype), DTypeName(in[1].dtype));
  const double beta = context.modes[0] == WriteMode::kAdd ? 1.0 : 0.0;
  DispatchAllowed<DTypes::kFloat>(op, in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    Gemm<T>(shape, 1.0, in[0].As<T>(), in[1].As<T>(), beta, out[0].As<T>());
  });
}

PMX_REGISTER_OP(dot) {
  OpDef def;
  def.name = "dot";
  def.family = "dot";
  def.doc = "Dot product of two arrays: inner product of vectors, matrix product of matrices, and for N-d arrays "
            "a sum product over the last axis of lhs and the first axis of rhs (with transpose_a, the first axis "
            "of lhs; with transpose_b, the last axis of rhs). Output shape: the remaining axes of lhs then rhs.";
  def.inputs = {"lhs", "rhs"};
  def.params = DotParams(true);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const bool ta = params.Bool("transpose_a"), tb = params.Bool("transpose_b");
    const Shape &lhs = *(*in)[0], &rhs = *(*in)[1];
    PMX_CHECK(!(lhs.ndim() == 1 && rhs.ndim() == 1 && (ta || tb)), kValueError,
              "[dot] cannot transpose vectors: inputs have shapes %s and %s", lhs.ToString(), rhs.ToString());
    ViewOfDot("dot", lhs, rhs, ta, tb);
    (*out)[0] = DotOutputShape(lhs, rhs, ta, tb);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloatPair("dot", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    GemmShape shape;
    shape.trans_a = context.params->Bool("transpose_a");
    shape.trans_b = context.params->Bool("transpose_b");
    const DotView view = ViewOfDot("dot", in[0].shape, in[1].shape, shape.trans_a, shape.trans_b);
    shape.m = view.m;
    shape.n = view.n;
    shape.k = view.k;
    RunGemm("dot", shape, context, in, out);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const bool ta = args.params->Bool("transpose_a"), tb = args.params->Bool("transpose_b");
    const Value x = args.inputs[0], y = args.inputs[1];
    auto rows_first = [&](Value v) { return b.Call1("Reshape", {v}, {{"shape", "(0, -1)"}}); };
    auto columns_last = [&](Value v) {
      return b.Call1("Reshape", {v}, {{"shape", "(-1, 0)"}, {"reverse", "True"}});
    };
    auto dot = [&](Value l, Value r, bool t_l, bool t_r) {
      return b.Call1("dot", {l, r}, {{"transpose_a", t_l ? "True" : "False"}, {"transpose_b", t_r ? "True" : "False"}});
    };
    // The 2-d views of Note [dot on N-d arrays]; z2 = op(x2) * op(y2).
    const Value x2 = ta ? rows_first(x) : columns_last(x);
    const Value y2 = tb ? columns_last(y) : rows_first(y);
    const Value g2 = b.Call1("_dot_output_2d", {args.output_grads[0], x}, {{"transpose_a", ta ? "True" : "False"}});
    Value dx2, dy2;
    if (!ta && !tb) {
      dx2 = dot(g2, y2, false, true);
      dy2 = dot(x2, g2, true, false);
    } else if (!ta && tb) {
      dx2 = dot(g2, y2, false, false);
      dy2 = dot(g2, x2, true, false);
    } else if (ta && !tb) {
      dx2 = dot(y2, g2, false, true);
      dy2 = dot(x2, g2, false, false);
    } else {
      dx2 = dot(y2, g2, true, true);
      dy2 = dot(g2, x2, true, true);
    }
    return {b.Call1("reshape_like", {dx2, x}), b.Call1("reshape_like", {dy2, y})};
  };
  return def;
}

PMX_REGISTER_OP(_dot_output_2d) {
  OpDef def;
  def.name = "_dot_output_2d";
  def.family = "dot";
  def.doc = "Reshapes `data`, shaped like the output of dot(lhs, rhs, transpose_a), to its 2-d (M, N) view, M being "
            "the number of lhs rows that dot sees (gradient helper of dot).";
  def.inputs = {"data", "lhs"};
  def.params = {{"transpose_a", ParamType::kBool, "False", false, false, {}, "The transpose_a of the dot call."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape &data = *(*in)[0], &lhs = *(*in)[1];
    PMX_CHECK(lhs.ndim() > 0, kValueError, "[_dot_output_2d] lhs is a scalar");
    const int64_t k = params.Bool("transpose_a") ? lhs[0] : lhs[lhs.ndim() - 1];
    const int64_t m = k == 0 ? 0 : lhs.size() / k;
    PMX_CHECK(m > 0 && data.size() % m == 0, kValueError,
              "[_dot_output_2d] data of shape %s cannot be viewed with %d rows taken from lhs of shape %s",
              data.ToString(), static_cast<int>(m), lhs.ToString());
    (*out)[0] = Shape({m, data.size() / m});
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchAllowed<DTypes::kFloat>("_dot_output_2d", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      T* y = out[0].As<T>();
      cpu::ParallelFor(in[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, C>(y + i, static_cast<C>(x[i]), add);
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("reshape_like", {args.output_grads[0], args.inputs[0]}), std::nullopt};
  };
  return def;
}

// batch_dot's GEMM view: batch products of (m x k) by (k x n).
GemmShape BatchDotShape(const Shape& lhs, const Shape& rhs, bool ta, bool tb, Shape* out_shape) {
  const int nd = lhs.ndim();
  PMX_CHECK(nd >= 3 && rhs.ndim() == nd, kValueError,
            "[batch_dot] inputs have shapes %s and %s: expected two arrays with the same number (>= 3) of "
            "dimensions", lhs.ToString(), rhs.ToString());
  GemmShape shape;
  std::vector<int64_t> dims;
  for (int d = 0; d < nd - 2; ++d) {
    PMX_CHECK(lhs[d] == rhs[d], kValueError,
              "[batch_dot] inputs have shapes %s and %s: the leading batch dimensions must be equal",
              lhs.ToString(), rhs.ToString());
    shape.batch *= lhs[d];
    dims.push_back(lhs[d]);
  }
  shape.trans_a = ta;
  shape.trans_b = tb;
  shape.m = ta ? lhs[nd - 1] : lhs[nd - 2];
  shape.k = ta ? lhs[nd - 2] : lhs[nd - 1];
  shape.n = tb ? rhs[nd - 2] : rhs[nd - 1];
  const int64_t k_right = tb ? rhs[nd - 1] : rhs[nd - 2];
  PMX_CHECK(shape.k == k_right, kValueError,
            "[batch_dot] shapes %s and %s (transpose_a=%d, transpose_b=%d) do not match: lhs contracts a dimension "
            "of %d, rhs one of %d", lhs.ToString(), rhs.ToString(), ta, tb, static_cast<int>(shape.k),
            static_cast<int>(k_right));
  dims.push_back(shape.m);
  dims.push_back(shape.n);
  if (out_shape) *out_shape = Shape(dims);
  return shape;
}

PMX_REGISTER_OP(batch_dot) {
  OpDef def;
  def.name = "batch_dot";
  def.family = "dot";
  def.doc = "Batched matrix product: for N-d inputs (N >= 3) with equal leading dimensions, multiplies the matrices "
            "in the last two axes of each pair, optionally transposed: (B, M, K) x (B, K, N) -> (B, M, N).";
  def.inputs = {"lhs", "rhs"};
  def.params = DotParams(true);
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    Shape shape;
    BatchDotShape(*(*in)[0], *(*in)[1], params.Bool("transpose_a"), params.Bool("transpose_b"), &shape);
    (*out)[0] = shape;
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferFloatPair("batch_dot", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const GemmShape shape = BatchDotShape(in[0].shape, in[1].shape, context.params->Bool("transpose_a"),
                                          context.params->Bool("transpose_b"), nullptr);
    RunGemm("batch_dot", shape, context, in, out);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const bool ta = args.params->Bool("transpose_a"), tb = args.params->Bool("transpose_b");
    const Value x = args.inputs[0], y = args.inputs[1], g = args.output_grads[0];
    auto bdot = [&](Value l, Value r, bool t_l, bool t_r) {
      return b.Call1("batch_dot", {l, r},
                     {{"transpose_a", t_l ? "True" : "False"}, {"transpose_b", t_r ? "True" : "False"}});
    };
    if (!ta && !tb) return {bdot(g, y, false, true), bdot(x, g, true, false)};
    if (!ta && tb) return {bdot(g, y, false, false), bdot(g, x, true, false)};
    if (ta && !tb) return {bdot(y, g, false, true), bdot(x, g, false, false)};
    return {bdot(y, g, true, true), bdot(g, x, true, true)};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
