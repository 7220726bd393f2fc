// Sorting and searching: topk, sort, argsort, and the gather/scatter helpers their gradients use
// (_take_along_axis, _scatter_add_along_axis).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <limits>
#include <vector>

#include "core/ops/internal/op_builders.h"

namespace pmx {
namespace ops {
namespace {

// An array seen as (outer, length, inner) around the sorted axis; no axis: the flattened array.
struct AxisView {
  int64_t outer = 1, length = 1, inner = 1;
  int axis = 0;       // The normalised axis (0 when flattened).
  bool flat = true;   // Whether the array is seen flattened (no axis, or a 0-d array).
};

AxisView ViewAround(const char* op, const Shape& shape, std::optional<int> axis) {
  AxisView view;
  if (!axis || shape.ndim() == 0) {
    view.length = shape.size();
    return view;
  }
  view.flat = false;
  view.axis = NormalizeAxis(*axis, shape.ndim(), op);
  for (int d = 0; d < view.axis; ++d) view.outer *= shape[d];
  view.length = shape[view.axis];
  for (int d = view.axis + 1; d < shape.ndim(); ++d) view.inner *= shape[d];
  return view;
}

std::optional<int> OptionalAxis(const OpParams& params) {
  if (params.IsNone("axis")) return std::nullopt;
  return static_cast<int>(params.Int("axis"));
}

// Throws ValueError unless `dtype` represents every index below `length` exactly (as MXNet checks).
void CheckIndexDType(const char* op, DType dtype, int64_t length) {
  int64_t limit = std::numeric_limits<int64_t>::max();
  switch (dtype) {
    case DType::kUint8: limit = 255; break;
    case DType::kInt8: limit = 127; break;
    case DType::kFloat16: limit = 2048; break;
    case DType::kBfloat16: limit = 256; break;
    case DType::kFloat32: limit = int64_t{1} << 24; break;
    case DType::kInt32: limit = std::numeric_limits<int32_t>::max(); break;
    default: break;
  }
  PMX_CHECK(length - 1 <= limit, kValueError, "[%s] dtype %s cannot represent indices up to %d exactly", op,
            DTypeName(dtype), length - 1);
}

// Note [Sort order]
// Each element becomes an unsigned key whose order is the value order (floats: sign-magnitude bits
// flipped; NaN the largest key; -0.0 equal to 0.0; descending: the key complemented), and rows are
// sorted on (key, position). Ties therefore keep their original order (NumPy's kind='stable'), the
// order is total, so topk's partial sort returns the same elements as a full sort, and comparisons are
// plain integer compares. Values of at most 32 bits pack key and position into one uint64.
template <typename C>
uint64_t OrderKey(C v) {
  if constexpr (std::is_same_v<C, float>) {
    if (v != v) return 0xFFFFFFFFu;
    if (v == 0) v = 0;  // -0.0 ties with 0.0.
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
  } else if constexpr (std::is_same_v<C, double>) {
    if (v != v) return ~uint64_t{0};
    if (v == 0) v = 0;
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    return (bits >> 63) ? ~bits : (bits | (uint64_t{1} << 63));
  } else if constexpr (std::is_signed_v<C>) {
    // Offset binary: flip the sign bit of the value's own width.
    return static_cast<uint64_t>(static_cast<std::make_unsigned_t<C>>(v)) ^ (uint64_t{1} << (8 * sizeof(C) - 1));
  } else {
    return static_cast<uint64_t>(v);
  }
}

// (key, position) for values wider than 32 bits.
struct WideItem {
  uint64_t key;
  int64_t index;
  bool operator<(const WideItem& other) const {
    return key < other.key || (key == other.key && index < other.index);
  }
};

// What a sorting kernel writes; null pointers are skipped. values/indices have `k` entries per row,
// mask has the input's layout.
template <typename T, typename I>
struct SortOutputs {
  T* values = nullptr;
  I* indices = nullptr;
  T* mask = nullptr;
  bool add_values = false, add_indices = false, add_mask = false;
};

// Sorts `items` (the first k in order; a partial sort when k is small).
template <typename Item>
void SortFirst(std::vector<Item>* items, int64_t k) {
  if (k * 8 > static_cast<int64_t>(items->size())) {
    std::sort(items->begin(), items->end());
  } else {
    std::partial_sort(items->begin(), items->begin() + k, items->end());
  }
}

// Sorts packed (key << 32 | position) items by key, stable: LSD radix sort on the 32 key bits, one
// pass per byte (skipped where every item has the same byte). Items start in position order, so equal
// keys stay in position order, exactly as the (key, position) order of SortFirst.
void RadixSortPacked(std::vector<uint64_t>* items, std::vector<uint64_t>* scratch) {
  const int64_t n = static_cast<int64_t>(items->size());
  if (n == 0) return;
  std::vector<uint32_t> counts(4 * 256, 0);
  for (uint64_t item : *items) {
    const uint32_t key = static_cast<uint32_t>(item >> 32);
    for (int d = 0; d < 4; ++d) ++counts[d * 256 + ((key >> (8 * d)) & 255)];
  }
  scratch->resize(n);
  uint64_t* from = items->data();
  uint64_t* to = scratch->data();
  for (int d = 0; d < 4; ++d) {
    const int shift = 32 + 8 * d;
    uint32_t* count = counts.data() + d * 256;
    if (count[(from[0] >> shift) & 255] == static_cast<uint32_t>(n)) continue;
    uint32_t offset[256], sum = 0;
    for (int b = 0; b < 256; ++b) {
      offset[b] = sum;
      sum += count[b];
    }
    for (int64_t i = 0; i < n; ++i) to[offset[(from[i] >> shift) & 255]++] = from[i];
    std::swap(from, to);
  }
  if (from != items->data()) std::copy(from, from + n, items->data());
}

template <typename T, typename I>
void SortRows(const T* x, const AxisView& view, int64_t k, bool ascending, const SortOutputs<T, I>& out) {
  using C = ComputeType<T>;
  using CI = ComputeType<I>;
  // Packed keys need the key in 32 bits and positions below 2^32.
  constexpr bool kPackable = sizeof(C) <= 4;
  const bool packed = kPackable && view.length <= (int64_t{1} << 32);
  const uint64_t flip = ascending ? 0 : (kPackable ? 0xFFFFFFFFull : ~uint64_t{0});
  const int64_t rows = view.outer * view.inner;
  const int64_t cost = view.length * 16;
  cpu::ParallelFor(rows, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(cost, 1)),
                   [&](int64_t begin, int64_t end) {
    std::vector<uint64_t> packed_items(packed ? view.length : 0), scratch;
    std::vector<WideItem> wide_items(packed ? 0 : view.length);
    std::vector<int64_t> order(k);
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row / view.inner, i = row % view.inner;
      const T* src = x + o * view.length * view.inner + i;
      if (packed) {
        for (int64_t j = 0; j < view.length; ++j) {
          packed_items[j] = ((OrderKey(static_cast<C>(src[j * view.inner])) ^ flip) << 32) | static_cast<uint64_t>(j);
        }
        if (k * 8 > view.length && view.length >= 256) {
          RadixSortPacked(&packed_items, &scratch);
        } else {
          SortFirst(&packed_items, k);
        }
        for (int64_t j = 0; j < k; ++j) order[j] = static_cast<int64_t>(packed_items[j] & 0xFFFFFFFFu);
      } else {
        for (int64_t j = 0; j < view.length; ++j) {
          wide_items[j] = {OrderKey(static_cast<C>(src[j * view.inner])) ^ flip, j};
        }
        SortFirst(&wide_items, k);
        for (int64_t j = 0; j < k; ++j) order[j] = wide_items[j].index;
      }
      const int64_t dst = o * k * view.inner + i;
      for (int64_t j = 0; j < k; ++j) {
        if (out.values) {
          Store<T, C>(out.values + dst + j * view.inner, static_cast<C>(src[order[j] * view.inner]), out.add_values);
        }
        if (out.indices) Store<I, CI>(out.indices + dst + j * view.inner, static_cast<CI>(order[j]), out.add_indices);
      }
      if (out.mask) {
        T* mask = out.mask + o * view.length * view.inner + i;
        for (int64_t j = 0; j < view.length; ++j) Store<T, C>(mask + j * view.inner, C(0), out.add_mask);
        for (int64_t j = 0; j < k; ++j) Store<T, C>(mask + order[j] * view.inner, C(1), out.add_mask);
      }
    }
  });
}

// The k of topk: k < 1 means the whole axis.
int64_t ResolveK(const char* op, int64_t k, int64_t length) {
  if (k < 1) k = length;
  PMX_CHECK(k <= length, kValueError, "[%s] k is %d but the axis has only %d elements", op, k, length);
  return k;
}

// The shape of topk's values/indices: the input with the axis cut to k (no axis: (k,)).
Shape TopKShape(const Shape& in, const AxisView& view, int64_t k) {
  if (view.flat) return Shape{k};
  std::vector<int64_t> dims(in.dims().begin(), in.dims().end());
  dims[view.axis] = k;
  return Shape(dims);
}

// Runs the sort on `in` writing values (outputs[value_slot]) and/or indices (outputs[index_slot]).
void RunSort(const char* op, const KernelContext& context, const TensorRef& in, absl::Span<const TensorRef> out,
             std::optional<int> axis, int64_t k, bool ascending, int value_slot, int index_slot, int mask_slot) {
  const AxisView view = ViewAround(op, in.shape, axis);
  if (in.size() == 0) return;
  k = ResolveK(op, k, view.length);
  const DType index_dtype = index_slot >= 0 ? out[index_slot].dtype : DType::kInt64;
  if (index_slot >= 0) CheckIndexDType(op, index_dtype, view.length);
  DispatchAllowed<DTypes::kNumeric>(op, in.dtype, [&](auto tag) {
    using T = decltype(tag);
    DispatchAllowed<DTypes::kNumeric>(op, index_dtype, [&](auto index_tag) {
      using I = decltype(index_tag);
      SortOutputs<T, I> outputs;
      if (value_slot >= 0) {
        outputs.values = out[value_slot].As<T>();
        outputs.add_values = context.modes[value_slot] == WriteMode::kAdd;
      }
      if (index_slot >= 0) {
        outputs.indices = out[index_slot].As<I>();
        outputs.add_indices = context.modes[index_slot] == WriteMode::kAdd;
      }
      if (mask_slot >= 0) {
        outputs.mask = out[mask_slot].As<T>();
        outputs.add_mask = context.modes[mask_slot] == WriteMode::kAdd;
      }
      SortRows<T, I>(in.As<T>(), view, k, ascending, outputs);
    });
  });
}

ParamDef AxisParam(const char* doc) { return {"axis", ParamType::kInt, "-1", false, true, {}, doc}; }

const std::vector<std::string> kIndexDTypes = {"uint8", "int32", "int64", "float16", "float32", "float64"};

// Gradient of the values of a sort: the head gradient scattered back to the positions (indices).
Value ScatterBack(GradientBuilder& b, Value grad, Value indices, Value like, const OpParams& forward) {
  return b.Call1("_scatter_add_along_axis", {grad, indices, like}, {{"axis", forward.ToStrings().at("axis")}});
}

PMX_REGISTER_OP(topk) {
  OpDef def;
  def.name = "topk";
  def.family = "sort";
  def.doc = "The top k elements along an axis: their values, indices (in `dtype`), a 0/1 mask of them, or "
            "values and indices; ties keep their original order.";
  def.inputs = {"data"};
  def.outputs = {"output", "indices"};
  def.params = {AxisParam("The axis to search; None searches the flattened input."),
                {"k", ParamType::kInt, "1", false, false, {}, "How many elements to select; k < 1 selects all."},
                {"ret_typ", ParamType::kEnum, "indices", false, false, {"value", "indices", "mask", "both"},
                 "What to return: values, indices, a mask, or both values and indices."},
                {"is_ascend", ParamType::kBool, "False", false, false, {},
                 "Whether to select the k smallest instead of the k largest."},
                {"dtype", ParamType::kEnum, "float32", false, false, kIndexDTypes, "The dtype of the indices."}};
  // "value" keeps the indices as a hidden second output for the gradient.
  def.num_outputs = [](const OpParams& params) {
    const std::string& ret = params.Str("ret_typ");
    return ret == "indices" || ret == "mask" ? 1 : 2;
  };
  def.num_visible_outputs = [](const OpParams& params) { return params.Str("ret_typ") == "both" ? 2 : 1; };
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& shape = *(*in)[0];
    const std::optional<int> axis = OptionalAxis(params);
    const AxisView view = ViewAround("topk", shape, axis);
    const int64_t k = ResolveK("topk", params.Int("k"), view.length);
    const Shape selected = TopKShape(shape, view, k);
    (*out)[0] = params.Str("ret_typ") == "mask" ? shape : selected;
    if (out->size() > 1) (*out)[1] = selected;
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckDType("topk", DTypes::kNumeric, *(*in)[0]);
    const std::string& ret = params.Str("ret_typ");
    const DType index_dtype = DTypeFromName(params.Str("dtype"));
    (*out)[0] = ret == "indices" ? index_dtype : *(*in)[0];
    if (out->size() > 1) (*out)[1] = ret == "both" ? index_dtype : DType::kInt64;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const OpParams& params = *context.params;
    const std::string& ret = params.Str("ret_typ");
    const int value_slot = ret == "value" || ret == "both" ? 0 : -1;
    const int index_slot = ret == "indices" ? 0 : (ret == "mask" ? -1 : 1);
    const int mask_slot = ret == "mask" ? 0 : -1;
    RunSort("topk", context, in[0], out, OptionalAxis(params), params.Int("k"), params.Bool("is_ascend"), value_slot,
            index_slot, mask_slot);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    const std::string& ret = args.params->Str("ret_typ");
    if (ret == "indices" || ret == "mask") return {b.Call1("zeros_like", {args.inputs[0]})};
    return {ScatterBack(b, args.output_grads[0], args.outputs[1], args.inputs[0], *args.params)};
  };
  return def;
}

PMX_REGISTER_OP(sort) {
  OpDef def;
  def.name = "sort";
  def.family = "sort";
  def.doc = "Sorts the elements along an axis (stable; NaN sorts as the largest value).";
  def.inputs = {"data"};
  def.outputs = {"output", "indices"};
  def.num_visible_outputs = [](const OpParams&) { return 1; };
  def.params = {AxisParam("The axis to sort along; None sorts the flattened input."),
                {"is_ascend", ParamType::kBool, "True", false, false, {}, "Whether to sort in ascending order."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& shape = *(*in)[0];
    const std::optional<int> axis = OptionalAxis(params);
    const AxisView view = ViewAround("sort", shape, axis);
    (*out)[0] = (*out)[1] = TopKShape(shape, view, view.length);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckDType("sort", DTypes::kNumeric, *(*in)[0]);
    (*out)[0] = (*in)[0];
    (*out)[1] = DType::kInt64;
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    RunSort("sort", context, in[0], out, OptionalAxis(*context.params), 0, context.params->Bool("is_ascend"), 0, 1, -1);
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {ScatterBack(b, args.output_grads[0], args.outputs[1], args.inputs[0], *args.params)};
  };
  return def;
}

PMX_REGISTER_OP(argsort) {
  OpDef def;
  def.name = "argsort";
  def.family = "sort";
  def.doc = "The indices that sort the elements along an axis (stable), in `dtype`.";
  def.inputs = {"data"};
  def.params = {AxisParam("The axis to sort along; None sorts the flattened input."),
                {"is_ascend", ParamType::kBool, "True", false, false, {}, "Whether to sort in ascending order."},
                {"dtype", ParamType::kEnum, "float32", false, false, kIndexDTypes, "The dtype of the indices."}};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    const Shape& shape = *(*in)[0];
    if (shape.ndim() == 0) {
      (*out)[0] = Shape{1};
    } else if (params.IsNone("axis")) {
      (*out)[0] = Shape{shape.size()};
    } else {
      NormalizeAxis(static_cast<int>(params.Int("axis")), shape.ndim(), "argsort");
      (*out)[0] = shape;
    }
    return true;
  };
  def.infer_type = [](const OpParams& params, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    CheckDType("argsort", DTypes::kNumeric, *(*in)[0]);
    (*out)[0] = DTypeFromName(params.Str("dtype"));
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    RunSort("argsort", context, in[0], out, OptionalAxis(*context.params), 0, context.params->Bool("is_ascend"), -1, 0,
            -1);
  };
  def.gradient = ZeroGradient();
  return def;
}

// ---- gather / scatter along an axis (gradient helpers) ---------------------------------------------

// Checks that `indices` fits `data` along `axis` (same rank, same sizes off the axis); None: any shape.
void CheckAlongAxis(const char* op, const Shape& data, const Shape& indices, std::optional<int> axis) {
  if (!axis) return;
  PMX_CHECK(data.ndim() == indices.ndim(), kValueError, "[%s] indices have shape %s, expected the rank of %s", op,
            indices.ToString(), data.ToString());
  const int a = NormalizeAxis(*axis, data.ndim(), op);
  for (int d = 0; d < data.ndim(); ++d) {
    PMX_CHECK(d == a || data[d] == indices[d], kValueError,
              "[%s] indices have shape %s, expected %s except along axis %d", op, indices.ToString(),
              data.ToString(), a);
  }
}

// Calls fn(T, I) for the data and index storage types.
template <typename Fn>
void DispatchDataIndex(const char* op, DType data, DType index, Fn&& fn) {
  DispatchAllowed<DTypes::kNumeric>(op, data, [&](auto data_tag) {
    DispatchAllowed<DTypes::kNumeric>(op, index, [&](auto index_tag) { fn(data_tag, index_tag); });
  });
}

template <typename I>
int64_t ReadIndex(const char* op, const I* indices, int64_t at, int64_t length) {
  const int64_t index = static_cast<int64_t>(static_cast<ComputeType<I>>(indices[at]));
  PMX_CHECK(index >= 0 && index < length, kIndexError, "[%s] index %d is out of range for an axis of size %d", op,
            index, length);
  return index;
}

PMX_REGISTER_OP(_take_along_axis) {
  OpDef def;
  def.name = "_take_along_axis";
  def.family = "sort";
  def.doc = "out[..., j, ...] = data[..., indices[..., j, ...], ...] along `axis` (None: the flattened data); "
            "gradient helper of sort and topk.";
  def.inputs = {"data", "indices"};
  def.params = {AxisParam("The axis to gather along; None gathers from the flattened data.")};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1]) return false;
    CheckAlongAxis("_take_along_axis", *(*in)[0], *(*in)[1], OptionalAxis(params));
    (*out)[0] = (*in)[1];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const AxisView data = ViewAround("_take_along_axis", in[0].shape, OptionalAxis(*context.params));
    const int64_t taken = data.flat ? in[1].size() : in[1].shape[data.axis];
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchDataIndex("_take_along_axis", in[0].dtype, in[1].dtype, [&](auto data_tag, auto index_tag) {
      using T = decltype(data_tag);
      using I = decltype(index_tag);
      const T* x = in[0].As<T>();
      const I* indices = in[1].As<I>();
      T* y = out[0].As<T>();
      cpu::ParallelFor(out[0].size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t e = begin; e < end; ++e) {
          const int64_t i = e % data.inner, o = e / (data.inner * taken);
          const int64_t index = ReadIndex("_take_along_axis", indices, e, data.length);
          Store<T, ComputeType<T>>(y + e, static_cast<ComputeType<T>>(x[(o * data.length + index) * data.inner + i]),
                                   add);
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_scatter_add_along_axis", {args.output_grads[0], args.inputs[1], args.inputs[0]},
                    args.params->ToStrings()),
            std::nullopt};
  };
  return def;
}

PMX_REGISTER_OP(_scatter_add_along_axis) {
  OpDef def;
  def.name = "_scatter_add_along_axis";
  def.family = "sort";
  def.doc = "Zeros shaped like `like`, with out[..., indices[..., j, ...], ...] += data[..., j, ...] along `axis` "
            "(None: the flattened output); gradient helper of sort and topk.";
  def.inputs = {"data", "indices", "like"};
  def.params = {AxisParam("The axis to scatter along; None scatters into the flattened output.")};
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0] || !(*in)[1] || !(*in)[2]) return false;
    PMX_CHECK(*(*in)[0] == *(*in)[1], kValueError, "[_scatter_add_along_axis] data has shape %s but indices %s: "
              "expected the same", (*in)[0]->ToString(), (*in)[1]->ToString());
    CheckAlongAxis("_scatter_add_along_axis", *(*in)[2], *(*in)[1], OptionalAxis(params));
    (*out)[0] = (*in)[2];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = (*in)[0];
    return true;
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const AxisView target = ViewAround("_scatter_add_along_axis", out[0].shape, OptionalAxis(*context.params));
    const int64_t given = target.flat ? in[1].size() : in[1].shape[target.axis];
    const bool add = context.modes[0] == WriteMode::kAdd;
    DispatchDataIndex("_scatter_add_along_axis", in[0].dtype, in[1].dtype, [&](auto data_tag, auto index_tag) {
      using T = decltype(data_tag);
      using I = decltype(index_tag);
      using C = ComputeType<T>;
      const T* x = in[0].As<T>();
      const I* indices = in[1].As<I>();
      T* y = out[0].As<T>();
      // Each (outer, inner) line is written by one thread only, so repeated indices need no atomics.
      cpu::ParallelFor(target.outer * target.inner, std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(
                                                                                target.length + given, 1)),
                       [&](int64_t begin, int64_t end) {
        for (int64_t line = begin; line < end; ++line) {
          const int64_t o = line / target.inner, i = line % target.inner;
          T* dst = y + o * target.length * target.inner + i;
          if (!add) {
            for (int64_t j = 0; j < target.length; ++j) dst[j * target.inner] = static_cast<T>(C(0));
          }
          for (int64_t j = 0; j < given; ++j) {
            const int64_t from = (o * given + j) * target.inner + i;
            const int64_t index = ReadIndex("_scatter_add_along_axis", indices, from, target.length);
            Store<T, C>(dst + index * target.inner, static_cast<C>(x[from]), true);
          }
        }
      });
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_take_along_axis", {args.output_grads[0], args.inputs[1]}, args.params->ToStrings()),
            std::nullopt, std::nullopt};
  };
  return def;
}

}  // namespace
}  // namespace ops
}  // namespace pmx
