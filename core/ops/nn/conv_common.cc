#include "core/ops/nn/conv_common.h"

#include <algorithm>
#include <type_traits>

namespace pmx {
namespace ops {
namespace nn {
namespace {

using cpu::ConvGeometry;
using cpu::ConvPass;

// A tuple parameter of length `spatial`: `fallback` everywhere when empty; ValueError for another length.
std::vector<int64_t> SpatialTuple(const char* op, const OpParams& params, const char* name, int spatial,
                                  int64_t fallback, int64_t minimum) {
  std::vector<int64_t> values = params.Ints(name);
  if (values.empty()) values.assign(spatial, fallback);
  PMX_CHECK(static_cast<int>(values.size()) == spatial, kValueError,
            "[%s] %s has %d values, expected %d (one per spatial axis of kernel)", op, name,
            static_cast<int>(values.size()), spatial);
  for (int64_t value : values) {
    PMX_CHECK(value >= minimum, kValueError, "[%s] %s contains %d, expected values >= %d", op, name,
              static_cast<int>(value), static_cast<int>(minimum));
  }
  return values;
}

// The geometry padded to 3 spatial axes (leading axes of extent 1), so the loops below are written once.
struct Loops3d {
  int64_t in[3], out[3], kernel[3], stride[3], dilate[3], pad[3];
};

Loops3d To3d(const ConvGeometry& g) {
  Loops3d l;
  const int shift = 3 - g.spatial;
  for (int d = 0; d < 3; ++d) {
    const bool real = d >= shift;
    const int s = d - shift;
    l.in[d] = real ? g.in[s] : 1;
    l.out[d] = real ? g.out[s] : 1;
    l.kernel[d] = real ? g.kernel[s] : 1;
    l.stride[d] = real ? g.stride[s] : 1;
    l.dilate[d] = real ? g.dilate[s] : 1;
    l.pad[d] = real ? g.pad_l[s] : 0;
  }
  return l;
}

// Reference loops of the three passes with double accumulators: float64 kernels and oneDNN fallbacks.
template <typename T>
void ReferencePass(ConvPass pass, const ConvGeometry& g, const T* first, const T* second, const T* bias, T* result,
                   bool add) {
  using C = ComputeType<T>;
  const Loops3d l = To3d(g);
  const int64_t ic_group = g.in_channels / g.groups, oc_group = g.out_channels / g.groups;
  const int64_t in_size = l.in[0] * l.in[1] * l.in[2], out_size = l.out[0] * l.out[1] * l.out[2];
  const int64_t k_size = l.kernel[0] * l.kernel[1] * l.kernel[2];
  auto in_index = [&](int64_t n, int64_t c, int64_t i0, int64_t i1, int64_t i2) {
    return ((n * g.in_channels + c) * l.in[0] + i0) * l.in[1] * l.in[2] + i1 * l.in[2] + i2;
  };
  auto out_index = [&](int64_t n, int64_t c, int64_t o0, int64_t o1, int64_t o2) {
    return ((n * g.out_channels + c) * l.out[0] + o0) * l.out[1] * l.out[2] + o1 * l.out[2] + o2;
  };
  auto w_index = [&](int64_t oc, int64_t icl, int64_t k0, int64_t k1, int64_t k2) {
    return ((oc * ic_group + icl) * l.kernel[0] + k0) * l.kernel[1] * l.kernel[2] + k1 * l.kernel[2] + k2;
  };
  // The input position read by output position o through tap k along axis d, or -1 when it is padding.
  auto tap = [&](int d, int64_t o, int64_t k) {
    const int64_t i = o * l.stride[d] - l.pad[d] + k * l.dilate[d];
    return i >= 0 && i < l.in[d] ? i : -1;
  };
  auto value = [](const T* p, int64_t i) { return static_cast<double>(static_cast<C>(p[i])); };

  if (pass == ConvPass::kForward) {  // first = x, second = w.
    cpu::ParallelFor(g.batch * g.out_channels, RowGrain(out_size * ic_group * k_size), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const int64_t n = row / g.out_channels, oc = row % g.out_channels, group = oc / oc_group;
        for (int64_t o0 = 0; o0 < l.out[0]; ++o0) for (int64_t o1 = 0; o1 < l.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < l.out[2]; ++o2) {
          double acc = bias ? value(bias, oc) : 0.0;
          for (int64_t icl = 0; icl < ic_group; ++icl) {
            const int64_t ic = group * ic_group + icl;
            for (int64_t k0 = 0; k0 < l.kernel[0]; ++k0) {
              const int64_t i0 = tap(0, o0, k0);
              if (i0 < 0) continue;
              for (int64_t k1 = 0; k1 < l.kernel[1]; ++k1) {
                const int64_t i1 = tap(1, o1, k1);
                if (i1 < 0) continue;
                for (int64_t k2 = 0; k2 < l.kernel[2]; ++k2) {
                  const int64_t i2 = tap(2, o2, k2);
                  if (i2 < 0) continue;
                  acc += value(first, in_index(n, ic, i0, i1, i2)) * value(second, w_index(oc, icl, k0, k1, k2));
                }
              }
            }
          }
          Store<T, C>(result + out_index(n, oc, o0, o1, o2), static_cast<C>(acc), add);
        }
      }
    });
  } else if (pass == ConvPass::kBackwardData) {  // first = dy, second = w; result = dx.
    // The output position that reads input position i through tap k, or -1.
    auto source = [&](int d, int64_t i, int64_t k) {
      const int64_t t = i + l.pad[d] - k * l.dilate[d];
      if (t < 0 || t % l.stride[d] != 0) return int64_t{-1};
      const int64_t o = t / l.stride[d];
      return o < l.out[d] ? o : int64_t{-1};
    };
    cpu::ParallelFor(g.batch * g.in_channels, RowGrain(in_size * oc_group * k_size), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const int64_t n = row / g.in_channels, ic = row % g.in_channels, group = ic / ic_group;
        const int64_t icl = ic % ic_group;
        for (int64_t i0 = 0; i0 < l.in[0]; ++i0) for (int64_t i1 = 0; i1 < l.in[1]; ++i1)
        for (int64_t i2 = 0; i2 < l.in[2]; ++i2) {
          double acc = 0.0;
          for (int64_t ocl = 0; ocl < oc_group; ++ocl) {
            const int64_t oc = group * oc_group + ocl;
            for (int64_t k0 = 0; k0 < l.kernel[0]; ++k0) {
              const int64_t o0 = source(0, i0, k0);
              if (o0 < 0) continue;
              for (int64_t k1 = 0; k1 < l.kernel[1]; ++k1) {
                const int64_t o1 = source(1, i1, k1);
                if (o1 < 0) continue;
                for (int64_t k2 = 0; k2 < l.kernel[2]; ++k2) {
                  const int64_t o2 = source(2, i2, k2);
                  if (o2 < 0) continue;
                  acc += value(first, out_index(n, oc, o0, o1, o2)) * value(second, w_index(oc, icl, k0, k1, k2));
                }
              }
            }
          }
          Store<T, C>(result + in_index(n, ic, i0, i1, i2), static_cast<C>(acc), add);
        }
      }
    });
  } else {  // kBackwardWeights: first = dy, second = x; result = dw.
    cpu::ParallelFor(g.out_channels * ic_group, RowGrain(k_size * g.batch * out_size), [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const int64_t oc = row / ic_group, icl = row % ic_group, ic = (oc / oc_group) * ic_group + icl;
        for (int64_t k0 = 0; k0 < l.kernel[0]; ++k0) for (int64_t k1 = 0; k1 < l.kernel[1]; ++k1)
        for (int64_t k2 = 0; k2 < l.kernel[2]; ++k2) {
          double acc = 0.0;
          for (int64_t n = 0; n < g.batch; ++n) {
            for (int64_t o0 = 0; o0 < l.out[0]; ++o0) {
              const int64_t i0 = tap(0, o0, k0);
              if (i0 < 0) continue;
              for (int64_t o1 = 0; o1 < l.out[1]; ++o1) {
                const int64_t i1 = tap(1, o1, k1);
                if (i1 < 0) continue;
                for (int64_t o2 = 0; o2 < l.out[2]; ++o2) {
                  const int64_t i2 = tap(2, o2, k2);
                  if (i2 < 0) continue;
                  acc += value(first, out_index(n, oc, o0, o1, o2)) * value(second, in_index(n, ic, i0, i1, i2));
                }
              }
            }
          }
          Store<T, C>(result + w_index(oc, icl, k0, k1, k2), static_cast<C>(acc), add);
        }
      }
    });
  }
}

// Elements of `pass`'s result.
int64_t ResultSize(ConvPass pass, const ConvGeometry& g) {
  switch (pass) {
    case ConvPass::kForward: return g.OutputSize();
    case ConvPass::kBackwardData: return g.InputSize();
    default: return g.WeightSize();
  }
}

// A float32 copy of a tensor of 16-bit floats.
template <typename T>
std::vector<float> Widen(const TensorRef& ref) {
  std::vector<float> out(static_cast<size_t>(ref.size()));
  const T* data = ref.As<T>();
  cpu::ParallelFor(ref.size(), kElementwiseGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = static_cast<float>(data[i]);
  });
  return out;
}

void RunFloatPass(ConvPass pass, const ConvGeometry& g, const float* first, const float* second, const float* bias,
                  float* result, bool add) {
  if (!cpu::DnnlConvolution(pass, g, first, second, bias, result, add)) {
    ReferencePass<float>(pass, g, first, second, bias, result, add);
  }
}

}  // namespace

std::vector<ParamDef> ConvParamDefs(bool deconvolution) {
  std::vector<ParamDef> defs = {
      {"kernel", ParamType::kShape, "", true, false, {}, "Kernel size: (w,), (h, w) or (d, h, w)."},
      {"stride", ParamType::kShape, "()", false, false, {}, "Stride per spatial axis; default 1 each."},
      {"dilate", ParamType::kShape, "()", false, false, {}, "Dilation per spatial axis; default 1 each."},
      {"pad", ParamType::kShape, "()", false, false, {}, "Zero padding per spatial axis (both sides); default 0."}};
  if (deconvolution) {
    defs.push_back({"adj", ParamType::kShape, "()", false, false, {},
                    "Extra output extent on the far side per spatial axis; default 0."});
    defs.push_back({"target_shape", ParamType::kShape, "()", false, false, {},
                    "Output spatial shape; when given, pad and adj are derived from it."});
  }
  defs.push_back({"num_filter", ParamType::kInt, "", true, false, {}, "Number of output channels."});
  defs.push_back({"num_group", ParamType::kInt, "1", false, false, {}, "Number of channel groups."});
  defs.push_back({"workspace", ParamType::kInt, deconvolution ? "512" : "1024", false, false, {},
                  "Workspace limit in MB (accepted for compatibility; unused on the CPU)."});
  defs.push_back({"no_bias", ParamType::kBool, deconvolution ? "True" : "False", false, false, {},
                  "Whether to leave out the bias input."});
  defs.push_back({"cudnn_tune", ParamType::kEnum, "None", false, true, {"fastest", "limited_workspace", "off"},
                  "cuDNN algorithm choice (accepted for compatibility)."});
  defs.push_back({"cudnn_off", ParamType::kBool, "False", false, false, {}, "Turn off cuDNN (accepted; unused)."});
  defs.push_back({"layout", ParamType::kEnum, "None", false, true, {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC"},
                  "Data layout; default NCW, NCHW or NCDHW by kernel length."});
  return defs;
}

ConvSpec ParseConvSpec(const char* op, const OpParams& params, bool deconvolution) {
  ConvSpec spec;
  spec.kernel = params.Ints("kernel");
  spec.spatial = static_cast<int>(spec.kernel.size());
  PMX_CHECK(spec.spatial >= 1 && spec.spatial <= 3, kValueError,
            "[%s] kernel has %d values, expected 1, 2 or 3 (1-d, 2-d or 3-d convolution)", op, spec.spatial);
  for (int64_t k : spec.kernel) {
    PMX_CHECK(k > 0, kValueError, "[%s] kernel contains %d, expected positive sizes", op, static_cast<int>(k));
  }
  spec.stride = SpatialTuple(op, params, "stride", spec.spatial, 1, 1);
  spec.dilate = SpatialTuple(op, params, "dilate", spec.spatial, 1, 1);
  spec.pad = SpatialTuple(op, params, "pad", spec.spatial, 0, 0);
  if (deconvolution) {
    spec.adj = SpatialTuple(op, params, "adj", spec.spatial, 0, 0);
    spec.target_shape = params.Ints("target_shape");
    PMX_CHECK(spec.target_shape.empty() || static_cast<int>(spec.target_shape.size()) == spec.spatial, kValueError,
              "[%s] target_shape has %d values, expected %d", op, static_cast<int>(spec.target_shape.size()),
              spec.spatial);
  }
  spec.num_filter = params.Int("num_filter");
  spec.num_group = params.Int("num_group");
  spec.no_bias = params.Bool("no_bias");
  PMX_CHECK(spec.num_filter > 0 && spec.num_group > 0 && spec.num_filter % spec.num_group == 0, kValueError,
            "[%s] num_filter=%d and num_group=%d: expected positive values with num_filter divisible by num_group",
            op, static_cast<int>(spec.num_filter), static_cast<int>(spec.num_group));
  if (!params.IsNone("layout")) {
    const std::string& layout = params.Str("layout");
    PMX_CHECK(layout.rfind("NC", 0) == 0, kNotImplementedError,
              "[%s] layout %s: the CPU kernels support the channel-first layouts NCW, NCHW and NCDHW", op, layout);
    PMX_CHECK(static_cast<int>(layout.size()) == spec.spatial + 2, kValueError,
              "[%s] layout %s does not match a kernel with %d spatial axes", op, layout, spec.spatial);
  }
  return spec;
}

void CheckConvData(const char* op, const ConvSpec& spec, const Shape& data) {
  PMX_CHECK(data.ndim() == spec.spatial + 2, kValueError,
            "[%s] data has shape %s, expected (N, C, %s) for a kernel of %d spatial axes", op, data.ToString(),
            spec.spatial == 1 ? "W" : spec.spatial == 2 ? "H, W" : "D, H, W", spec.spatial);
  PMX_CHECK(data[1] % spec.num_group == 0, kValueError,
            "[%s] data has %d channels, expected a multiple of num_group=%d", op, static_cast<int>(data[1]),
            static_cast<int>(spec.num_group));
}

cpu::ConvGeometry ConvolutionGeometry(const char* op, const ConvSpec& spec, const Shape& data) {
  CheckConvData(op, spec, data);
  ConvGeometry g;
  g.spatial = spec.spatial;
  g.batch = data[0];
  g.groups = spec.num_group;
  g.in_channels = data[1];
  g.out_channels = spec.num_filter;
  for (int d = 0; d < spec.spatial; ++d) {
    g.in[d] = data[d + 2];
    g.kernel[d] = spec.kernel[d];
    g.stride[d] = spec.stride[d];
    g.dilate[d] = spec.dilate[d];
    g.pad_l[d] = g.pad_r[d] = spec.pad[d];
    const int64_t span = spec.dilate[d] * (spec.kernel[d] - 1) + 1;
    PMX_CHECK(g.in[d] + 2 * spec.pad[d] >= span, kValueError,
              "[%s] data has shape %s: spatial axis %d (%d, padded to %d) is smaller than the dilated kernel (%d)",
              op, data.ToString(), d, static_cast<int>(g.in[d]), static_cast<int>(g.in[d] + 2 * spec.pad[d]),
              static_cast<int>(span));
    g.out[d] = (g.in[d] + 2 * spec.pad[d] - span) / spec.stride[d] + 1;
  }
  return g;
}

cpu::ConvGeometry DeconvolutionGeometry(const char* op, const ConvSpec& spec, const Shape& data) {
  CheckConvData(op, spec, data);
  bool from_target = false;
  for (int64_t value : spec.target_shape) from_target = from_target || value != 0;
  ConvGeometry g;
  g.spatial = spec.spatial;
  g.batch = data[0];
  g.groups = spec.num_group;
  g.in_channels = spec.num_filter;  // The convolution's input is the deconvolution's output.
  g.out_channels = data[1];
  for (int d = 0; d < spec.spatial; ++d) {
    g.out[d] = data[d + 2];
    g.kernel[d] = spec.kernel[d];
    g.stride[d] = spec.stride[d];
    g.dilate[d] = spec.dilate[d];
    const int64_t full = spec.stride[d] * (g.out[d] - 1) + spec.dilate[d] * (spec.kernel[d] - 1) + 1;
    int64_t pad = spec.pad[d], adj = spec.adj[d];
    if (from_target) {
      PMX_CHECK(full >= spec.target_shape[d], kValueError,
                "[%s] target_shape %d on spatial axis %d is larger than the full output extent %d", op,
                static_cast<int>(spec.target_shape[d]), d, static_cast<int>(full));
      adj = (full - spec.target_shape[d]) % 2;
      pad = (full - spec.target_shape[d] + 1) / 2;
    }
    g.in[d] = full - 2 * pad + adj;
    PMX_CHECK(g.in[d] > 0, kValueError, "[%s] data has shape %s: the output extent on spatial axis %d would be %d",
              op, data.ToString(), d, static_cast<int>(g.in[d]));
    g.pad_l[d] = pad;
    g.pad_r[d] = pad - adj;
  }
  return g;
}

Shape ConvInputShape(const cpu::ConvGeometry& g) {
  std::vector<int64_t> dims = {g.batch, g.in_channels};
  for (int d = 0; d < g.spatial; ++d) dims.push_back(g.in[d]);
  return Shape(dims);
}

Shape ConvOutputShape(const cpu::ConvGeometry& g) {
  std::vector<int64_t> dims = {g.batch, g.out_channels};
  for (int d = 0; d < g.spatial; ++d) dims.push_back(g.out[d]);
  return Shape(dims);
}

Shape ConvWeightShape(const cpu::ConvGeometry& g) {
  std::vector<int64_t> dims = {g.out_channels, g.in_channels / g.groups};
  for (int d = 0; d < g.spatial; ++d) dims.push_back(g.kernel[d]);
  return Shape(dims);
}

void RunConvPass(const char* op, cpu::ConvPass pass, const cpu::ConvGeometry& g, const TensorRef& first,
                 const TensorRef& second, const TensorRef* bias, const TensorRef& result, bool add) {
  PMX_CHECK(first.dtype == second.dtype && first.dtype == result.dtype && (!bias || bias->dtype == first.dtype),
            kTypeError, "[%s] inputs have dtypes %s and %s: expected the same floating-point dtype", op,
            DTypeName(first.dtype), DTypeName(second.dtype));
  if (ResultSize(pass, g) == 0) return;
  DispatchAllowed<DTypes::kFloat>(op, first.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, float>) {
      RunFloatPass(pass, g, first.As<float>(), second.As<float>(), bias ? bias->As<float>() : nullptr,
                   result.As<float>(), add);
    } else if constexpr (std::is_same_v<T, double>) {
      ReferencePass<double>(pass, g, first.As<double>(), second.As<double>(), bias ? bias->As<double>() : nullptr,
                            result.As<double>(), add);
    } else {  // 16-bit floats: compute in float32 (Note [GEMM dtypes]).
      const std::vector<float> a = Widen<T>(first), b = Widen<T>(second);
      const std::vector<float> c = bias ? Widen<T>(*bias) : std::vector<float>();
      std::vector<float> out(static_cast<size_t>(result.size()));
      RunFloatPass(pass, g, a.data(), b.data(), bias ? c.data() : nullptr, out.data(), false);
      T* y = result.As<T>();
      cpu::ParallelFor(result.size(), kElementwiseGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) Store<T, float>(y + i, out[i], add);
      });
    }
  });
}

void AddChannelBias(const char* op, const TensorRef& bias, const TensorRef& result) {
  const int64_t channels = result.shape[1];
  const int64_t inner = DimsProduct(result.shape, 2, result.shape.ndim());
  DispatchAllowed<DTypes::kFloat>(op, result.dtype, [&](auto tag) {
    using T = decltype(tag);
    using C = ComputeType<T>;
    const T* b = bias.As<T>();
    T* y = result.As<T>();
    cpu::ParallelFor(result.shape[0] * channels, RowGrain(inner), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const C value = static_cast<C>(b[row % channels]);
        for (int64_t i = 0; i < inner; ++i) Store<T, C>(y + row * inner + i, value, true);
      }
    });
  });
}

ParamMap ConvCallParams(const OpParams& params, bool no_bias) {
  ParamMap map = params.ToStrings();
  map["no_bias"] = no_bias ? "True" : "False";
  return map;
}

}  // namespace nn
}  // namespace ops
}  // namespace pmx
