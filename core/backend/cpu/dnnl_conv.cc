#include "core/backend/cpu/dnnl_conv.h"

#include <vector>

#include "core/backend/cpu/dnnl_common.h"
#include "core/backend/cpu/parallel.h"

namespace pmx {
namespace cpu {
namespace {

using dnnl::memory;

// Note [Convolution layouts]
// oneDNN's fast convolution kernels want blocked layouts (nChw16c activations, OIhw16i16o weights).
// The primitives here are created with format `any`; when oneDNN picks a blocked layout, operands are
// reordered from and to MXNet's plain layouts in per-thread buffers around the call. That costs a few
// memory passes, far less than running the plain-layout (im2col + GEMM) kernels on these CPUs; the
// numbers are in docs/benchmarks.md.

// Everything one cached convolution pass needs.
struct ConvPrimitive {
  dnnl::primitive primitive;
  memory::desc scratchpad;
  memory::desc first_wanted, second_wanted, result_wanted;  // Layouts the primitive runs on.
  memory::desc first_plain, second_plain, result_plain;     // MXNet's layouts.
  memory::desc bias;
  int first_arg = 0, second_arg = 0, result_arg = 0;
};

memory::dims Spatial(const int64_t* values, int spatial, int64_t offset = 0) {
  memory::dims dims;
  for (int d = 0; d < spatial; ++d) dims.push_back(values[d] + offset);
  return dims;
}

memory::dims Concat(memory::dims head, const memory::dims& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

memory::dims WeightDims(const ConvGeometry& g) {
  const memory::dims kernel = Spatial(g.kernel, g.spatial);
  if (g.groups == 1) return Concat({g.out_channels, g.in_channels}, kernel);
  return Concat({g.groups, g.out_channels / g.groups, g.in_channels / g.groups}, kernel);
}

// A descriptor with the dims of `plain` and format `any`.
memory::desc Any(const memory::desc& plain) {
  return memory::desc(plain.dims(), memory::data_type::f32, memory::format_tag::any);
}

ConvPrimitive MakeConv(ConvPass pass, const ConvGeometry& g, bool has_bias) {
  const memory::desc src = PlainDesc(Concat({g.batch, g.in_channels}, Spatial(g.in, g.spatial)));
  const memory::desc dst = PlainDesc(Concat({g.batch, g.out_channels}, Spatial(g.out, g.spatial)));
  const memory::desc weights = PlainDesc(WeightDims(g));
  const memory::desc bias = PlainDesc({g.out_channels});
  const memory::dims strides = Spatial(g.stride, g.spatial), dilates = Spatial(g.dilate, g.spatial, -1);
  const memory::dims pad_l = Spatial(g.pad_l, g.spatial), pad_r = Spatial(g.pad_r, g.spatial);
  const dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct;
  const dnnl::engine& engine = DnnlEngine();
  const dnnl::primitive_attr attr = DnnlAttr();

  const bool training = pass != ConvPass::kForward;
  dnnl::convolution_forward::desc forward_desc =
      has_bias ? dnnl::convolution_forward::desc(
                     training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, algorithm,
                     Any(src), Any(weights), bias, Any(dst), strides, dilates, pad_l, pad_r)
               : dnnl::convolution_forward::desc(
                     training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, algorithm,
                     Any(src), Any(weights), Any(dst), strides, dilates, pad_l, pad_r);
  dnnl::convolution_forward::primitive_desc forward_pd(forward_desc, attr, engine);

  ConvPrimitive conv;
  conv.bias = bias;
  switch (pass) {
    case ConvPass::kForward:
      conv.primitive = dnnl::convolution_forward(forward_pd);
      conv.scratchpad = forward_pd.scratchpad_desc();
      conv.first_wanted = forward_pd.src_desc();
      conv.second_wanted = forward_pd.weights_desc();
      conv.result_wanted = forward_pd.dst_desc();
      conv.first_plain = src;
      conv.second_plain = weights;
      conv.result_plain = dst;
      conv.first_arg = DNNL_ARG_SRC;
      conv.second_arg = DNNL_ARG_WEIGHTS;
      conv.result_arg = DNNL_ARG_DST;
      break;
    case ConvPass::kBackwardData: {
      dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(algorithm, Any(src), Any(weights), Any(dst), strides, dilates, pad_l,
                                                pad_r),
          attr, engine, forward_pd);
      conv.primitive = dnnl::convolution_backward_data(pd);
      conv.scratchpad = pd.scratchpad_desc();
      conv.first_wanted = pd.diff_dst_desc();
      conv.second_wanted = pd.weights_desc();
      conv.result_wanted = pd.diff_src_desc();
      conv.first_plain = dst;
      conv.second_plain = weights;
      conv.result_plain = src;
      conv.first_arg = DNNL_ARG_DIFF_DST;
      conv.second_arg = DNNL_ARG_WEIGHTS;
      conv.result_arg = DNNL_ARG_DIFF_SRC;
      break;
    }
    case ConvPass::kBackwardWeights: {
      dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(algorithm, Any(src), Any(weights), Any(dst), strides, dilates,
                                                   pad_l, pad_r),
          attr, engine, forward_pd);
      conv.primitive = dnnl::convolution_backward_weights(pd);
      conv.scratchpad = pd.scratchpad_desc();
      conv.first_wanted = pd.diff_dst_desc();
      conv.second_wanted = pd.src_desc();
      conv.result_wanted = pd.diff_weights_desc();
      conv.first_plain = dst;
      conv.second_plain = src;
      conv.result_plain = weights;
      conv.first_arg = DNNL_ARG_DIFF_DST;
      conv.second_arg = DNNL_ARG_SRC;
      conv.result_arg = DNNL_ARG_DIFF_WEIGHTS;
      break;
    }
  }
  return conv;
}

// `data` (in layout `plain`) as a memory in layout `wanted`, reordered into thread buffer `slot` if needed.
memory Prepare(const memory::desc& plain, const memory::desc& wanted, const float* data, int slot) {
  const memory user = WrapMemory(plain, data);
  if (wanted == plain) return user;
  const memory converted = WrapMemory(wanted, ThreadBuffer(slot, wanted.get_size()));
  DnnlReorder(user, converted);
  return converted;
}

}  // namespace

int64_t ConvGeometry::InputSize() const {
  int64_t size = batch * in_channels;
  for (int d = 0; d < spatial; ++d) size *= in[d];
  return size;
}

int64_t ConvGeometry::OutputSize() const {
  int64_t size = batch * out_channels;
  for (int d = 0; d < spatial; ++d) size *= out[d];
  return size;
}

int64_t ConvGeometry::WeightSize() const {
  int64_t size = out_channels * (in_channels / groups);
  for (int d = 0; d < spatial; ++d) size *= kernel[d];
  return size;
}

bool DnnlConvolution(ConvPass pass, const ConvGeometry& g, const float* first, const float* second, const float* bias,
                     float* result, bool accumulate) {
  for (int d = 0; d < g.spatial; ++d) {
    if (g.pad_l[d] < 0 || g.pad_r[d] < 0) return false;
  }
  const bool has_bias = pass == ConvPass::kForward && bias != nullptr;
  static auto* cache = new PrimitiveCache<ConvPrimitive>(64);
  PrimitiveKey key;
  key.Add(static_cast<int64_t>(pass)).Add(g.spatial).Add(g.batch).Add(g.groups).Add(g.in_channels);
  key.Add(g.out_channels).Add(has_bias);
  for (int d = 0; d < g.spatial; ++d) {
    key.Add(g.in[d]).Add(g.out[d]).Add(g.kernel[d]).Add(g.stride[d]).Add(g.dilate[d]).Add(g.pad_l[d]).Add(g.pad_r[d]);
  }
  auto conv = cache->Get(key, [&] { return MakeConv(pass, g, has_bias); });

  std::unordered_map<int, memory> args;
  args.emplace(conv->first_arg, Prepare(conv->first_plain, conv->first_wanted, first, 0));
  args.emplace(conv->second_arg, Prepare(conv->second_plain, conv->second_wanted, second, 1));
  if (has_bias) args.emplace(DNNL_ARG_BIAS, WrapMemory(conv->bias, bias));
  // The result goes straight to `result` when the layouts agree and nothing accumulates; otherwise through a
  // buffer that is reordered (and added) afterwards.
  const bool direct = conv->result_wanted == conv->result_plain && !accumulate;
  const memory result_memory =
      direct ? WrapMemory(conv->result_plain, result)
             : WrapMemory(conv->result_wanted, ThreadBuffer(2, conv->result_wanted.get_size()));
  args.emplace(conv->result_arg, result_memory);
  DnnlExecute(conv->primitive, std::move(args), conv->scratchpad);
  if (direct) return true;
  if (!accumulate) {
    DnnlReorder(result_memory, WrapMemory(conv->result_plain, result));
    return true;
  }
  const float* plain = static_cast<const float*>(result_memory.get_data_handle());
  if (!(conv->result_wanted == conv->result_plain)) {
    const memory converted = WrapMemory(conv->result_plain, ThreadBuffer(3, conv->result_plain.get_size()));
    DnnlReorder(result_memory, converted);
    plain = static_cast<const float*>(converted.get_data_handle());
  }
  const int64_t size = static_cast<int64_t>(conv->result_plain.get_size() / sizeof(float));
  ParallelFor(size, 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) result[i] += plain[i];
  });
  return true;
}

}  // namespace cpu
}  // namespace pmx
