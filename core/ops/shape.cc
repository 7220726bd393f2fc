// Shape-only operators: the output holds the input's elements in the same order under a new shape
// (Reshape with MXNet's special values, reshape_like, Flatten, expand_dims, squeeze).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/ops/internal/op_builders.h"
#include "core/ops/internal/strided.h"

namespace pmx {
namespace ops {
namespace {

std::string TupleText(const std::vector<int64_t>& values) {
  return values.size() == 1 ? "(" + std::to_string(values[0]) + ",)" : "(" + absl::StrJoin(values, ", ") + ")";
}

int64_t Product(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

// Throws ValueError naming `op` unless `out` has as many elements as `in`.
void CheckSameSize(const char* op, const Shape& in, const std::vector<int64_t>& out) {
  PMX_CHECK(Product(out) == in.size(), kValueError,
            "[%s] cannot reshape an array of shape %s (%d elements) to %s (%d elements)", op, in.ToString(),
            in.size(), TupleText(out), Product(out));
}

// The gradient of every op here: the output gradient reshaped to the input's shape.
Grads ReshapeBack(GradientBuilder& b, const GradientArgs& args) {
  Grads grads = {b.Call1("reshape_like", {args.output_grads[0], args.inputs[0]})};
  for (size_t i = 1; i < args.inputs.size(); ++i) grads.push_back(std::nullopt);
  return grads;
}

// An op whose output is its input's elements under the shape `infer` computes from the input shape.
OpDef ViewOpDef(const std::string& name, const std::string& doc,
                std::function<Shape(const OpParams&, const Shape&)> infer) {
  OpDef def;
  def.name = name;
  def.family = "shape";
  def.doc = doc;
  def.inputs = {"data"};
  def.infer_shape = [infer](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = infer(params, *(*in)[0]);
    return true;
  };
  def.kernels[DeviceType::kCPU] = [name](const KernelContext& context, absl::Span<const TensorRef> in,
                                         absl::Span<const TensorRef> out) {
    CopyOrAdd(name.c_str(), in[0], out[0], context.modes[0]);
  };
  def.gradient = ReshapeBack;
  def.inplace = {{0, 0}};
  return def;
}

// Note [Reshape special values]
// MXNet's Reshape reads `shape` left to right against the input dimensions with a cursor into them:
//   0 copies the next input dimension;          -1 is inferred from the remaining size (one at most);
//   -2 copies all remaining input dimensions;   -3 merges the next two input dimensions into one;
//   -4 splits the next input dimension into the two values that follow it (one may be -1).
// A positive value or -1 also advances the cursor by one input dimension, so (-1, 0) on (2, 3, 4) gives
// (8, 3). With reverse=True both lists are read right to left. This reproduces MXNet 1.x exactly, quirks
// included, because exported models depend on it.
Shape InferReshape(const std::vector<int64_t>& spec_in, const Shape& data, bool reverse) {
  std::vector<int64_t> dims = DimsOf(data), spec = spec_in;
  if (reverse) {
    std::reverse(dims.begin(), dims.end());
    std::reverse(spec.begin(), spec.end());
  }
  const std::string given = TupleText(spec_in);
  std::vector<int64_t> out;
  size_t src = 0;
  int infer = -1;
  for (size_t i = 0; i < spec.size(); ++i) {
    const int64_t d = spec[i];
    if (d == 0) {
      PMX_CHECK(src < dims.size(), kValueError,
                "[Reshape] shape %s: a 0 copies input dimension %d, but the input %s has only %d dimensions", given,
                static_cast<int>(src), data.ToString(), data.ndim());
      out.push_back(dims[src++]);
    } else if (d == -1) {
      PMX_CHECK(infer < 0, kValueError, "[Reshape] shape %s has more than one -1: expected at most one", given);
      infer = static_cast<int>(out.size());
      out.push_back(1);
      ++src;
    } else if (d == -2) {
      while (src < dims.size()) out.push_back(dims[src++]);
    } else if (d == -3) {
      PMX_CHECK(src + 1 < dims.size(), kValueError,
                "[Reshape] shape %s: a -3 merges input dimensions %d and %d, but the input %s has only %d", given,
                static_cast<int>(src), static_cast<int>(src + 1), data.ToString(), data.ndim());
      out.push_back(dims[src] * dims[src + 1]);
      src += 2;
    } else if (d == -4) {
      PMX_CHECK(i + 2 < spec.size(), kValueError,
                "[Reshape] shape %s: a -4 must be followed by the two sizes it splits a dimension into", given);
      PMX_CHECK(src < dims.size(), kValueError,
                "[Reshape] shape %s: a -4 splits input dimension %d, but the input %s has only %d dimensions", given,
                static_cast<int>(src), data.ToString(), data.ndim());
      const int64_t whole = dims[src++];
      int64_t d1 = spec[++i], d2 = spec[++i];
      PMX_CHECK((d1 > 0 || d1 == -1) && (d2 > 0 || d2 == -1) && !(d1 == -1 && d2 == -1), kValueError,
                "[Reshape] shape %s: the sizes after -4 are %d and %d: expected positive sizes, at most one -1",
                given, d1, d2);
      if (d1 == -1) d1 = whole / d2;
      if (d2 == -1) d2 = whole / d1;
      PMX_CHECK(d1 * d2 == whole, kValueError, "[Reshape] shape %s: sizes %d and %d do not split dimension %d",
                given, d1, d2, whole);
      out.push_back(d1);
      out.push_back(d2);
    } else if (d > 0) {
      out.push_back(d);
      ++src;
    } else {
      Throw(ErrorKind::kValueError, "[Reshape] shape %s contains %d: expected sizes > 0 or a special value 0, -1, "
            "-2, -3, -4", given, d);
    }
  }
  if (infer >= 0) {
    const int64_t known = Product(out);
    PMX_CHECK(known > 0 && data.size() % known == 0, kValueError,
              "[Reshape] shape %s: cannot infer the -1 for an input of shape %s (%d elements)", given,
              data.ToString(), data.size());
    out[infer] = data.size() / known;
  }
  if (reverse) std::reverse(out.begin(), out.end());
  CheckSameSize("Reshape", data, out);
  return Shape(out);
}

// The deprecated target_shape form: at most one 0 is inferred; keep_highest keeps the first dimension.
Shape InferTargetShape(std::vector<int64_t> target, const Shape& data, bool keep_highest) {
  PMX_CHECK(!keep_highest || (!target.empty() && data.ndim() > 0), kValueError,
            "[Reshape] keep_highest needs a non-empty target_shape and input");
  if (keep_highest) target[0] = data[0];
  int zeros = 0, at = 0;
  for (size_t i = keep_highest ? 1 : 0; i < target.size(); ++i) {
    if (target[i] == 0) {
      ++zeros;
      at = static_cast<int>(i);
    }
  }
  if (zeros == 1) {
    target[at] = 1;
    const int64_t known = Product(target);
    PMX_CHECK(known > 0, kValueError, "[Reshape] cannot infer the 0 in target_shape %s", TupleText(target));
    target[at] = data.size() / known;
  }
  CheckSameSize("Reshape", data, target);
  return Shape(target);
}

PMX_REGISTER_OP(Reshape) {
  OpDef def = ViewOpDef(
      "Reshape",
      "Gives the input a new shape without changing its data. `shape` may hold MXNet's special values: 0 copies "
      "the next input dimension, -1 infers one dimension from the rest, -2 copies all remaining dimensions, -3 "
      "merges the next two, -4 splits the next one into the two values that follow (one may be -1); "
      "reverse=True applies them right to left. target_shape and keep_highest are MXNet's deprecated form.",
      [](const OpParams& params, const Shape& data) {
        if (!params.Ints("shape").empty()) return InferReshape(params.Ints("shape"), data, params.Bool("reverse"));
        PMX_CHECK(!params.IsNone("target_shape") && !params.Ints("target_shape").empty(), kValueError,
                  "[Reshape] parameter 'shape' is empty: expected the target shape, e.g. shape=(2, -1)");
        return InferTargetShape(params.Ints("target_shape"), data, params.Bool("keep_highest"));
      });
  def.aliases = {"reshape"};
  def.params = {
      {"shape", ParamType::kShape, "()", false, false, {}, "The target shape, with special values 0, -1, -2, -3, -4."},
      {"reverse", ParamType::kBool, "False", false, false, {}, "Infer the special values from right to left."},
      {"target_shape", ParamType::kShape, "None", false, true, {},
       "(Deprecated: use shape.) Target shape in which a single 0 is inferred."},
      {"keep_highest", ParamType::kBool, "False", false, false, {},
       "(Deprecated: use shape.) With target_shape, keep the first dimension of the input."}};
  return def;
}

// Resolves reshape_like's optional begin/end pair against `ndim` (negative counts from the end).
std::pair<int, int> LikeRange(const OpParams& params, const char* begin_name, const char* end_name, int ndim) {
  auto resolve = [&](const char* name, int fallback) {
    if (params.IsNone(name)) return fallback;
    int value = static_cast<int>(params.Int(name));
    if (value < 0) value += ndim;
    PMX_CHECK(value >= 0 && value <= ndim, kIndexError,
              "[reshape_like] %s is %d: expected -%d <= %s <= %d for an input with %d dimensions", name,
              static_cast<int>(params.Int(name)), ndim, name, ndim, ndim);
    return value;
  };
  const int begin = resolve(begin_name, 0), end = resolve(end_name, ndim);
  PMX_CHECK(begin <= end, kValueError, "[reshape_like] %s (%d) is after %s (%d)", begin_name, begin, end_name, end);
  return {begin, end};
}

PMX_REGISTER_OP(reshape_like) {
  OpDef def = ViewOpDef("reshape_like",
                        "Reshapes lhs to the shape of rhs; with the begin/end parameters, only lhs dimensions "
                        "[lhs_begin, lhs_end) are replaced by rhs dimensions [rhs_begin, rhs_end).",
                        nullptr);
  def.inputs = {"lhs", "rhs"};
  def.params = {
      {"lhs_begin", ParamType::kInt, "None", false, true, {}, "First lhs dimension to replace (default 0)."},
      {"lhs_end", ParamType::kInt, "None", false, true, {}, "End of the lhs dimensions to replace (default: all)."},
      {"rhs_begin", ParamType::kInt, "None", false, true, {}, "First rhs dimension to use (default 0)."},
      {"rhs_end", ParamType::kInt, "None", false, true, {}, "End of the rhs dimensions to use (default: all)."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    const Shape& lhs = *(*in)[0];
    const Shape& rhs = *(*in)[1];
    const auto [lb, le] = LikeRange(params, "lhs_begin", "lhs_end", lhs.ndim());
    const auto [rb, re] = LikeRange(params, "rhs_begin", "rhs_end", rhs.ndim());
    std::vector<int64_t> dims(lhs.dims().begin(), lhs.dims().begin() + lb);
    dims.insert(dims.end(), rhs.dims().begin() + rb, rhs.dims().begin() + re);
    dims.insert(dims.end(), lhs.dims().begin() + le, lhs.dims().end());
    PMX_CHECK(Product(dims) == lhs.size(), kValueError,
              "[reshape_like] cannot reshape lhs of shape %s (%d elements) to %s taken from rhs of shape %s",
              lhs.ToString(), lhs.size(), TupleText(dims), rhs.ToString());
    (*out)[0] = Shape(dims);
    return true;
  };
  // rhs only lends its shape, so its dtype is free.
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  return def;
}

PMX_REGISTER_OP(Flatten) {
  OpDef def = ViewOpDef("Flatten", "Flattens every dimension after the first: (d0, d1, ..., dk) -> (d0, d1*...*dk).",
                        [](const OpParams&, const Shape& data) {
                          if (data.ndim() == 0) return Shape{1, 1};
                          const std::vector<int64_t> dims = DimsOf(data);
                          return Shape{dims[0], Product({dims.begin() + 1, dims.end()})};
                        });
  def.aliases = {"flatten"};
  return def;
}

PMX_REGISTER_OP(expand_dims) {
  OpDef def = ViewOpDef("expand_dims", "Inserts a new axis of size 1 at position `axis` (-ndim-1 <= axis <= ndim).",
                        [](const OpParams& params, const Shape& data) {
                          const int ndim = data.ndim();
                          int axis = static_cast<int>(params.Int("axis"));
                          PMX_CHECK(axis >= -ndim - 1 && axis <= ndim, kIndexError,
                                    "[expand_dims] axis %d is out of range: expected %d <= axis <= %d for an input "
                                    "of shape %s", axis, -ndim - 1, ndim, data.ToString());
                          if (axis < 0) axis += ndim + 1;
                          std::vector<int64_t> dims = DimsOf(data);
                          dims.insert(dims.begin() + axis, 1);
                          return Shape(dims);
                        });
  def.params = {{"axis", ParamType::kInt, "", true, false, {}, "Position of the new axis."}};
  return def;
}

PMX_REGISTER_OP(squeeze) {
  OpDef def = ViewOpDef(
      "squeeze",
      "Removes axes of size 1: those listed in `axis`, or all of them. As in MXNet 1.x, squeezing every axis "
      "leaves shape (1,).",
      [](const OpParams& params, const Shape& data) {
        const int ndim = data.ndim();
        std::vector<bool> drop(ndim, false);
        if (params.IsNone("axis")) {
          for (int d = 0; d < ndim; ++d) drop[d] = data[d] == 1;
        } else {
          for (int64_t given : params.Ints("axis")) {
            const int axis = NormalizeAxis(static_cast<int>(given), ndim, "squeeze");
            PMX_CHECK(data[axis] == 1, kValueError,
                      "[squeeze] axis %d has size %d in shape %s: expected size 1", static_cast<int>(given),
                      data[axis], data.ToString());
            PMX_CHECK(!drop[axis], kValueError, "[squeeze] axis %d is listed twice", axis);
            drop[axis] = true;
          }
        }
        std::vector<int64_t> dims;
        for (int d = 0; d < ndim; ++d) {
          if (!drop[d]) dims.push_back(data[d]);
        }
        if (dims.empty()) dims.push_back(1);
        return Shape(dims);
      });
  def.params = {{"axis", ParamType::kShape, "None", false, true, {},
                 "The axes to remove (each of size 1); None removes every axis of size 1."}};
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
