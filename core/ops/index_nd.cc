// Multi-dimensional indexing: gather_nd, scatter_nd, _scatter_set_nd, the gradient helper _gather_nd_grad,
// and the index conversions _ravel_multi_index and _unravel_index.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

// Note [N-d index layout]
// An index array of shape (M, Y0, Y1, ...) holds, for each of the N = Y0*Y1*... positions, M coordinates
// into the leading M axes of the indexed array (coordinate j of position n at j*N + n). Each position
// addresses a block of K elements: the trailing axes of the indexed array.

// Element offsets (in units of the K-element block) of every position, with coordinates checked against
// `shape` (negative ones count from the end, as MXNet wraps them).
std::vector<int64_t> BlockOffsets(const char* op, const TensorRef& indices, const Shape& shape) {
  const int m = static_cast<int>(indices.shape[0]);
  int64_t n = 1;
  for (int d = 1; d < indices.shape.ndim(); ++d) n *= indices.shape[d];
  const std::vector<int64_t> raw = ReadIndices(indices);
  std::vector<int64_t> offsets(n, 0);
  for (int64_t p = 0; p < n; ++p) {
    for (int j = 0; j < m; ++j) {
      int64_t c = raw[j * n + p];
      PMX_CHECK(c >= -shape[j] && c < shape[j], kIndexError,
                "[%s] index %d is out of bounds for axis %d of size %d", op, c, j, shape[j]);
      if (c < 0) c += shape[j];
      offsets[p] = offsets[p] * shape[j] + c;
    }
  }
  return offsets;
}

// Checks an index array against the indexed shape and returns (M, N, K).
struct NdLayout {
  int m = 0;
  int64_t n = 1, k = 1;
};

NdLayout Layout(const char* op, const Shape& indices, const Shape& indexed) {
  PMX_CHECK(indices.ndim() >= 1, kValueError, "[%s] indices is a scalar: expected shape (M, ...)", op);
  PMX_CHECK(indices[0] <= indexed.ndim(), kValueError,
            "[%s] indices has %d coordinates per position (shape %s) for an array of %d dimensions", op, indices[0],
            indices.ToString(), indexed.ndim());
  NdLayout layout;
  layout.m = static_cast<int>(indices[0]);
  for (int d = 1; d < indices.ndim(); ++d) layout.n *= indices[d];
  for (int d = layout.m; d < indexed.ndim(); ++d) layout.k *= indexed[d];
  return layout;
}

// indices.shape[1:] + indexed.shape[M:]: the shape of the gathered (or scattered) values.
Shape ValuesShape(const Shape& indices, const Shape& indexed) {
  std::vector<int64_t> dims(indices.dims().begin() + 1, indices.dims().end());
  dims.insert(dims.end(), indexed.dims().begin() + indices[0], indexed.dims().end());
  return Shape(dims);
}

// Dtype inference: input 0 gives the output dtype; input `index_input` holds indices; others match input 0.
InferTypeFn ValuesAndIndexTypes(const char* op, int index_input) {
  return [op, index_input](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0] || !(*in)[index_input]) return false;
    CheckIndexDType(op, "indices", *(*in)[index_input]);
    for (size_t i = 1; i < in->size(); ++i) {
      if (static_cast<int>(i) == index_input || !(*in)[i]) continue;
      PMX_CHECK(*(*in)[i] == *(*in)[0], kTypeError, "[%s] input %d has dtype %s, expected %s like input 0", op,
                static_cast<int>(i), DTypeName(*(*in)[i]), DTypeName(*(*in)[0]));
    }
    (*out)[0] = (*in)[0];
    return true;
  };
}

// dst block offsets[p] <- src block p (scatter) or dst block p <- src block offsets[p] (gather), K elements
// each. Scatters run on one thread so that repeated positions resolve in order (the last write wins).
void MoveBlocks(const TensorRef& src, const TensorRef& dst, const std::vector<int64_t>& offsets, int64_t k,
                bool scatter) {
  const size_t bytes = k * DTypeSize(src.dtype);
  const char* s = static_cast<const char*>(src.data);
  char* d = static_cast<char*>(dst.data);
  const int64_t n = static_cast<int64_t>(offsets.size());
  if (scatter) {
    for (int64_t p = 0; p < n; ++p) std::memcpy(d + offsets[p] * bytes, s + p * bytes, bytes);
    return;
  }
  cpu::ParallelFor(n, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(k, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) std::memcpy(d + p * bytes, s + offsets[p] * bytes, bytes);
  });
}

// dst block offsets[p] += src block p, split over column blocks so that threads never collide.
void AddBlocks(const char* op, const TensorRef& src, const TensorRef& dst, const std::vector<int64_t>& offsets,
               int64_t k) {
  constexpr int64_t kColumns = 1024;
  const int64_t chunks = (k + kColumns - 1) / kColumns;
  DispatchAllowed<DTypes::kNumeric>(op, src.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* s = src.As<T>();
    T* d = dst.As<T>();
    cpu::ParallelFor(chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t chunk = begin; chunk < end; ++chunk) {
        const int64_t c0 = chunk * kColumns, c1 = std::min(k, c0 + kColumns);
        for (size_t p = 0; p < offsets.size(); ++p) {
          for (int64_t c = c0; c < c1; ++c) Store<T, C>(d + offsets[p] * k + c, static_cast<C>(s[p * k + c]), true);
        }
      }
    });
  });
}

PMX_REGISTER_OP(gather_nd) {
  OpDef def;
  def.name = "gather_nd";
  def.family = "index_nd";
  def.doc = "Gathers blocks of data addressed by indices of shape (M, Y...): out[y..., :] = data[indices[0, y...], "
            "..., indices[M-1, y...], :]; the output has shape indices.shape[1:] + data.shape[M:].";
  def.inputs = {"data", "indices"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    Layout("gather_nd", *(*in)[1], *(*in)[0]);
    (*out)[0] = ValuesShape(*(*in)[1], *(*in)[0]);
    return true;
  };
  def.infer_type = ValuesAndIndexTypes("gather_nd", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const NdLayout layout = Layout("gather_nd", in[1].shape, in[0].shape);
    if (out[0].size() == 0) return;
    const std::vector<int64_t> offsets = BlockOffsets("gather_nd", in[1], in[0].shape);
    if (context.modes[0] != WriteMode::kAdd) {
      MoveBlocks(in[0], out[0], offsets, layout.k, false);
      return;
    }
    std::vector<char> scratch(out[0].size() * DTypeSize(out[0].dtype));
    TensorRef gathered = out[0];
    gathered.data = scratch.data();
    MoveBlocks(in[0], gathered, offsets, layout.k, false);
    CopyOrAdd("gather_nd", gathered, out[0], WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_gather_nd_grad", {args.output_grads[0], args.inputs[1], args.inputs[0]}), std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_gather_nd_grad) {
  OpDef def;
  def.name = "_gather_nd_grad";
  def.family = "index_nd";
  def.doc = "Gradient helper of gather_nd: zeros shaped like data with each block of `grad` added where gather_nd "
            "read it (repeated indices accumulate).";
  def.inputs = {"grad", "indices", "data"};
  def.infer_shape = [](const OpParams&, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    Layout("_gather_nd_grad", *(*in)[1], *(*in)[2]);
    const Shape expected = ValuesShape(*(*in)[1], *(*in)[2]);
    PMX_CHECK(*(*in)[0] == expected, kValueError, "[_gather_nd_grad] grad has shape %s: expected %s",
              (*in)[0]->ToString(), expected.ToString());
    (*out)[0] = (*in)[2];
    return true;
  };
  def.infer_type = ValuesAndIndexTypes("_gather_nd_grad", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const NdLayout layout = Layout("_gather_nd_grad", in[1].shape, out[0].shape);
    ZeroUnlessAdd(out[0], context.modes[0]);
    if (in[0].size() == 0) return;
    AddBlocks("_gather_nd_grad", in[0], out[0], BlockOffsets("_gather_nd_grad", in[1], out[0].shape), layout.k);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("gather_nd", {args.output_grads[0], args.inputs[1]}), std::nullopt, std::nullopt};
  };
  return def;
}

// Checks scatter's values against indices and the target shape.
void CheckScatterShapes(const char* op, const Shape& values, const Shape& indices, const Shape& target) {
  Layout(op, indices, target);
  const Shape expected = ValuesShape(indices, target);
  PMX_CHECK(values == expected, kValueError,
            "[%s] data has shape %s: expected indices.shape[1:] + shape[M:] = %s for indices %s and shape %s", op,
            values.ToString(), expected.ToString(), indices.ToString(), target.ToString());
}

PMX_REGISTER_OP(scatter_nd) {
  OpDef def;
  def.name = "scatter_nd";
  def.family = "index_nd";
  def.doc = "Scatters blocks of data into zeros of the given shape at indices of shape (M, Y...), the inverse of "
            "gather_nd; where indices repeat, the last block wins.";
  def.inputs = {"data", "indices"};
  def.params = {{"shape", ParamType::kShape, "", true, false, {}, "Shape of the output."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape target(params.Ints("shape"));
    CheckScatterShapes("scatter_nd", *(*in)[0], *(*in)[1], target);
    (*out)[0] = target;
    return true;
  };
  def.infer_type = ValuesAndIndexTypes("scatter_nd", 1);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const NdLayout layout = Layout("scatter_nd", in[1].shape, out[0].shape);
    const std::vector<int64_t> offsets = BlockOffsets("scatter_nd", in[1], out[0].shape);
    if (context.modes[0] != WriteMode::kAdd) {
      ZeroUnlessAdd(out[0], context.modes[0]);
      MoveBlocks(in[0], out[0], offsets, layout.k, true);
      return;
    }
    std::vector<char> scratch(out[0].size() * DTypeSize(out[0].dtype), 0);
    TensorRef scattered = out[0];
    scattered.data = scratch.data();
    MoveBlocks(in[0], scattered, offsets, layout.k, true);
    CopyOrAdd("scatter_nd", scattered, out[0], WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("gather_nd", {args.output_grads[0], args.inputs[1]}), std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_scatter_set_nd) {
  OpDef def;
  def.name = "_scatter_set_nd";
  def.family = "index_nd";
  def.doc = "Returns lhs with the blocks addressed by indices replaced by rhs (scatter_nd without zeroing the "
            "rest); used for indexed assignment.";
  def.inputs = {"lhs", "rhs", "indices"};
  def.params = {{"shape", ParamType::kShape, "", true, false, {}, "Shape of the output (lhs's shape)."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    const Shape& lhs = *(*in)[0];
    PMX_CHECK(params.Ints("shape").empty() || Shape(params.Ints("shape")) == lhs, kValueError,
              "[_scatter_set_nd] shape %s differs from lhs's shape %s", Shape(params.Ints("shape")).ToString(),
              lhs.ToString());
    CheckScatterShapes("_scatter_set_nd", *(*in)[1], *(*in)[2], lhs);
    (*out)[0] = lhs;
    return true;
  };
  def.infer_type = ValuesAndIndexTypes("_scatter_set_nd", 2);
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const NdLayout layout = Layout("_scatter_set_nd", in[2].shape, out[0].shape);
    const std::vector<int64_t> offsets = BlockOffsets("_scatter_set_nd", in[2], out[0].shape);
    if (context.modes[0] != WriteMode::kAdd) {
      CopyOrAdd("_scatter_set_nd", in[0], out[0], WriteMode::kWrite);
      MoveBlocks(in[1], out[0], offsets, layout.k, true);
      return;
    }
    std::vector<char> scratch(out[0].size() * DTypeSize(out[0].dtype));
    TensorRef assembled = out[0];
    assembled.data = scratch.data();
    CopyOrAdd("_scatter_set_nd", in[0], assembled, WriteMode::kWrite);
    MoveBlocks(in[1], assembled, offsets, layout.k, true);
    CopyOrAdd("_scatter_set_nd", assembled, out[0], WriteMode::kAdd);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const Value g = args.output_grads[0], rhs = args.inputs[1], indices = args.inputs[2];
    return {b.Call1("_scatter_set_nd", {g, b.Call1("zeros_like", {rhs}), indices}, args.params->ToStrings()),
            b.Call1("gather_nd", {g, indices}), std::nullopt};
  };
  def.inplace = {{0, 0}};
  return def;
}

// Checks `shape` for the ravel ops.
void CheckRavelShape(const char* op, const std::vector<int64_t>& shape) {
  PMX_CHECK(!shape.empty(), kValueError, "[%s] parameter 'shape' is empty: expected the array's shape", op);
  for (size_t j = 0; j < shape.size(); ++j) {
    PMX_CHECK(shape[j] > 0 || (j == 0 && shape[j] == -1), kValueError,
              "[%s] shape has size %d at axis %d: expected positive sizes (the first may be -1, unbounded)", op,
              shape[j], static_cast<int>(j));
  }
}

// Writes integer results into `out` of any numeric dtype.
void StoreIntegers(const std::vector<int64_t>& values, const TensorRef& out, WriteMode mode) {
  DispatchAllowed<DTypes::kNumeric>("_ravel_multi_index", out.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    T* y = out.As<T>();
    for (size_t i = 0; i < values.size(); ++i) Store<T, C>(y + i, static_cast<C>(values[i]), mode == WriteMode::kAdd);
  });
}

// Dtype inference of the ravel ops: output like the input, which holds indices.
bool IndexDTypeOut(const char* op, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
  if (!(*in)[0]) return false;
  CheckIndexDType(op, "data", *(*in)[0]);
  (*out)[0] = (*in)[0];
  return true;
}

PMX_REGISTER_OP(_ravel_multi_index) {
  OpDef def;
  def.name = "_ravel_multi_index";
  def.family = "index_nd";
  def.doc = "Converts coordinates, data of shape (M, N...), into flat indices of an array of the given M-d shape "
            "(row-major), like numpy.ravel_multi_index.";
  def.inputs = {"data"};
  def.params = {{"shape", ParamType::kShape, "()", false, false, {}, "Shape of the array the coordinates index."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const std::vector<int64_t>& shape = params.Ints("shape");
    CheckRavelShape("_ravel_multi_index", shape);
    const Shape& data = *(*in)[0];
    PMX_CHECK(data.ndim() >= 1 && data[0] == static_cast<int64_t>(shape.size()), kValueError,
              "[_ravel_multi_index] data has shape %s: expected %d coordinates along its first axis", data.ToString(),
              static_cast<int>(shape.size()));
    (*out)[0] = Shape(std::vector<int64_t>(data.dims().begin() + 1, data.dims().end()));
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return IndexDTypeOut("_ravel_multi_index", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::vector<int64_t>& shape = context.params->Ints("shape");
    const std::vector<int64_t> coords = ReadIndices(in[0]);
    const int64_t n = out[0].size();
    std::vector<int64_t> flat(n, 0);
    for (int64_t p = 0; p < n; ++p) {
      for (size_t j = 0; j < shape.size(); ++j) {
        const int64_t c = coords[j * n + p];
        PMX_CHECK(c >= 0 && (c < shape[j] || shape[j] == -1), kIndexError,
                  "[_ravel_multi_index] coordinate %d is out of bounds for axis %d of size %d", c,
                  static_cast<int>(j), shape[j]);
        flat[p] = flat[p] * shape[j] + c;
      }
    }
    StoreIntegers(flat, out[0], context.modes[0]);
  };
  def.gradient = [](GradientBuilder&, const GradientArgs&) -> Grads { return {std::nullopt}; };
  return def;
}

PMX_REGISTER_OP(_unravel_index) {
  OpDef def;
  def.name = "_unravel_index";
  def.family = "index_nd";
  def.doc = "Converts flat indices into coordinates of an array of the given shape (row-major); the output has "
            "shape (len(shape),) + data.shape, like numpy.unravel_index. A first dimension of -1 (None) is unbounded.";
  def.inputs = {"data"};
  def.params = {{"shape", ParamType::kShape, "()", false, false, {}, "Shape of the array the indices flatten."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const std::vector<int64_t>& shape = params.Ints("shape");
    CheckRavelShape("_unravel_index", shape);
    std::vector<int64_t> dims = {static_cast<int64_t>(shape.size())};
    dims.insert(dims.end(), (*in)[0]->dims().begin(), (*in)[0]->dims().end());
    (*out)[0] = Shape(dims);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return IndexDTypeOut("_unravel_index", in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const std::vector<int64_t>& shape = context.params->Ints("shape");
    const std::vector<int64_t> flat = ReadIndices(in[0]);
    const int64_t n = in[0].size(), m = static_cast<int64_t>(shape.size());
    int64_t total = 1;
    for (int64_t d : shape) total *= d;
    std::vector<int64_t> coords(m * n);
    for (int64_t p = 0; p < n; ++p) {
      int64_t index = flat[p];
      PMX_CHECK(index >= 0 && (shape[0] < 0 || index < total), kIndexError,
                "[_unravel_index] index %d is out of bounds for an array of %d elements", index, total);
      for (int64_t j = m - 1; j > 0; --j) {
        coords[j * n + p] = index % shape[j];
        index /= shape[j];
      }
      coords[p] = index;
    }
    StoreIntegers(coords, out[0], context.modes[0]);
  };
  def.gradient = [](GradientBuilder&, const GradientArgs&) -> Grads { return {std::nullopt}; };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
