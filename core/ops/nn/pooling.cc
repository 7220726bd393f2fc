// Pooling (max, avg, sum, lp; 1-d/2-d/3-d; valid/full/same conventions; global pooling; channel-first or
// channel-last layouts) and its gradient helper _pooling_backward. oneDNN runs the float32 channel-first
// cases whose semantics match MXNet's exactly; loops run the rest.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "core/backend/cpu/dnnl_pool_norm.h"
#include "core/ops/nn/layers_common.h"

namespace pmx {
namespace ops {
namespace nn {
namespace {

// Note [Helper gradients]
// The gradient helpers of Pooling, BatchNorm and LRN (_pooling_backward, _batch_norm_backward,
// _lrn_backward) are registered ops with their own NumPy oracles but no gradient functions yet, so the
// gradient of a gradient through these layers (higher-order autograd) is not available until the helpers
// get gradients of their own. Convolution and Deconvolution are not affected: their helpers are bilinear
// and differentiable (Note [Convolution gradients] in conv_common.h).

// Note [MXNet pooling windows]
// Output position o along an axis covers input [o * stride - pad, o * stride - pad + kernel), clipped to the
// input. avg divides by the window size counted up to the padded extent (in + pad) when count_include_pad
// (the default), or by the number of input elements in the window otherwise. max takes the first maximal
// element for the gradient; lp (p = 1, 2, 3) is (sum x^p)^(1/p) with x^1 = x, like MXNet.

enum class PoolType { kMax, kAvg, kSum, kLp };

// One pooling call: the op's parameters resolved against a data shape.
struct PoolPlan {
  PoolType type = PoolType::kMax;
  bool count_include_pad = true;
  int p = 2;
  bool channel_last = false;
  cpu::PoolGeometry g;  // Extents, kernel, stride, padding (pad_r as oneDNN wants it).
};

std::vector<ParamDef> PoolParamDefs() {
  return {
      {"kernel", ParamType::kShape, "()", false, false, {}, "Pooling window: (w,), (h, w) or (d, h, w)."},
      {"pool_type", ParamType::kEnum, "max", false, false, {"avg", "lp", "max", "sum"}, "Pooling type."},
      {"global_pool", ParamType::kBool, "False", false, false, {}, "Pool over the whole spatial extent."},
      {"cudnn_off", ParamType::kBool, "False", false, false, {}, "Turn off cuDNN (accepted; unused)."},
      {"pooling_convention", ParamType::kEnum, "valid", false, false, {"full", "same", "valid"},
       "Output extent: floor (valid), ceil (full) or ceil(in / stride) (same, 1-d only)."},
      {"stride", ParamType::kShape, "()", false, false, {}, "Window step per axis; default 1 each."},
      {"pad", ParamType::kShape, "()", false, false, {}, "Padding per axis; default 0."},
      {"p_value", ParamType::kInt, "None", false, true, {}, "p of lp pooling (1, 2 or 3)."},
      {"count_include_pad", ParamType::kBool, "None", false, true, {},
       "Whether avg pooling counts padding in the divisor (default True)."},
      {"layout", ParamType::kEnum, "None", false, true, {"NCDHW", "NCHW", "NCW", "NDHWC", "NHWC", "NWC"},
       "Data layout; default NCW, NCHW or NCDHW by the number of dimensions."}};
}

PoolPlan MakePlan(const char* op, const OpParams& params, const Shape& data) {
  PMX_CHECK(data.ndim() >= 3 && data.ndim() <= 5, kValueError,
            "[%s] data has shape %s, expected (N, C, W), (N, C, H, W) or (N, C, D, H, W)", op, data.ToString());
  PoolPlan plan;
  const std::string& type = params.Str("pool_type");
  plan.type = type == "max" ? PoolType::kMax : type == "avg" ? PoolType::kAvg : type == "sum" ? PoolType::kSum
                                                                                              : PoolType::kLp;
  const int spatial = data.ndim() - 2;
  if (!params.IsNone("layout")) {
    const std::string& layout = params.Str("layout");
    PMX_CHECK(static_cast<int>(layout.size()) == data.ndim(), kValueError,
              "[%s] layout %s does not match data of shape %s", op, layout, data.ToString());
    plan.channel_last = layout.back() == 'C';
  }
  if (plan.type == PoolType::kLp) {
    PMX_CHECK(!params.IsNone("p_value"), kValueError, "[%s] pool_type lp needs p_value", op);
    plan.p = static_cast<int>(params.Int("p_value"));
    PMX_CHECK(plan.p >= 1 && plan.p <= 3, kValueError, "[%s] p_value is %d, expected 1, 2 or 3", op, plan.p);
  }
  plan.count_include_pad = params.IsNone("count_include_pad") || params.Bool("count_include_pad");
  cpu::PoolGeometry& g = plan.g;
  g.spatial = spatial;
  g.batch = data[0];
  g.channels = plan.channel_last ? data[data.ndim() - 1] : data[1];
  const int first = plan.channel_last ? 1 : 2;
  for (int d = 0; d < spatial; ++d) g.in[d] = data[first + d];
  const bool global = params.Bool("global_pool");
  const std::string& convention = params.Str("pooling_convention");
  std::vector<int64_t> kernel = params.Ints("kernel"), stride = params.Ints("stride"), pad = params.Ints("pad");
  if (global) {
    kernel.assign(g.in, g.in + spatial);
    stride.assign(spatial, 1);
    pad.assign(spatial, 0);
  } else {
    PMX_CHECK(static_cast<int>(kernel.size()) == spatial, kValueError,
              "[%s] kernel has %d values but data of shape %s has %d spatial axes", op,
              static_cast<int>(kernel.size()), data.ToString(), spatial);
    if (stride.empty()) stride.assign(spatial, 1);
    if (pad.empty()) pad.assign(spatial, 0);
    PMX_CHECK(static_cast<int>(stride.size()) == spatial && static_cast<int>(pad.size()) == spatial, kValueError,
              "[%s] stride and pad need %d values each, given %d and %d", op, spatial,
              static_cast<int>(stride.size()), static_cast<int>(pad.size()));
  }
  if (convention == "same") {
    PMX_CHECK(spatial == 1, kValueError, "[%s] pooling_convention 'same' supports 1-d data only, given %s", op,
              data.ToString());
    for (int64_t value : pad) {
      PMX_CHECK(value == 0, kValueError, "[%s] pooling_convention 'same' does not take a pad", op);
    }
  }
  for (int d = 0; d < spatial; ++d) {
    PMX_CHECK(kernel[d] > 0 && stride[d] > 0 && pad[d] >= 0, kValueError,
              "[%s] kernel, stride and pad must be positive, positive and non-negative", op);
    PMX_CHECK(kernel[d] <= g.in[d] + 2 * pad[d], kValueError,
              "[%s] kernel size %d on axis %d exceeds the input extent %d padded to %d", op,
              static_cast<int>(kernel[d]), d, static_cast<int>(g.in[d]), static_cast<int>(g.in[d] + 2 * pad[d]));
    g.kernel[d] = kernel[d];
    g.stride[d] = stride[d];
    g.pad_l[d] = pad[d];
    const int64_t room = g.in[d] + 2 * pad[d] - kernel[d];
    if (global) {
      g.out[d] = 1;
    } else if (convention == "valid") {
      g.out[d] = room / stride[d] + 1;
    } else if (convention == "full") {
      g.out[d] = (room + stride[d] - 1) / stride[d] + 1;
    } else {
      g.out[d] = (g.in[d] + 2 * pad[d] + stride[d] - 1) / stride[d];
    }
    g.pad_r[d] = (g.out[d] - 1) * stride[d] + kernel[d] - g.in[d] - pad[d];
  }
  return plan;
}

Shape OutputShape(const PoolPlan& plan, const Shape& data) {
  std::vector<int64_t> dims(data.dims().begin(), data.dims().end());
  const int first = plan.channel_last ? 1 : 2;
  for (int d = 0; d < plan.g.spatial; ++d) dims[first + d] = plan.g.out[d];
  return Shape(dims);
}

// Note [Pooling loops]
// The loops see every call as 3-d: a 1-d or 2-d pooling gets leading axes of extent 1 (kernel 1, stride 1,
// no padding), and channel-last layouts are planes whose elements are `channels` apart. Each (n, c) plane is
// one task for cpu::ParallelFor, and every window is walked in place from its clipped bounds, so nothing is
// allocated per window or per plane. Gradients of float32 and float64 accumulate straight into dx (zeroed
// first unless the write mode is kAdd); float16 and bfloat16 accumulate in a float plane reused by the
// thread's chunk and are stored once, so overlapping windows do not round at every step.

// Note [Max pooling backward]
// Like MXNet's CPU kernel, the gradient recomputes each window's argmax instead of keeping one from the
// forward: the window is scanned in row-major order and dy goes to the first element equal to Pooling's
// output y (a window with no such element, e.g. one lying wholly in padding, contributes nothing). oneDNN's
// max-pool backward needs the workspace its training forward writes, which this op does not keep.

// One pooling call's geometry as 3 axes (Note [Pooling loops]) with element strides.
struct Loops {
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, kernel[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, pad[3] = {0, 0, 0};
  int64_t in_step[3] = {0, 0, 0}, out_step[3] = {0, 0, 0};  // Element strides of the axes in x and in y.
  int64_t in_n = 0, in_c = 0, out_n = 0, out_c = 0;           // Element strides of batch and channel.
  int64_t planes = 0, channels = 1;                           // N * C, and C.
  int64_t in_positions = 1, out_positions = 1, kernel_size = 1;

  // Offset of plane `row` (= n * C + c) in x (input) or y (output).
  int64_t InBase(int64_t row) const { return row / channels * in_n + row % channels * in_c; }
  int64_t OutBase(int64_t row) const { return row / channels * out_n + row % channels * out_c; }
};

Loops LoopsOf(const PoolPlan& plan) {
  const cpu::PoolGeometry& g = plan.g;
  Loops loops;
  const int skip = 3 - g.spatial;
  const int64_t lane = plan.channel_last ? g.channels : 1;
  int64_t in_running = lane, out_running = lane;
  for (int d = g.spatial - 1; d >= 0; --d) {
    const int a = skip + d;
    loops.in[a] = g.in[d];
    loops.out[a] = g.out[d];
    loops.kernel[a] = g.kernel[d];
    loops.stride[a] = g.stride[d];
    loops.pad[a] = g.pad_l[d];
    loops.in_step[a] = in_running;
    loops.out_step[a] = out_running;
    in_running *= g.in[d];
    out_running *= g.out[d];
    loops.in_positions *= g.in[d];
    loops.out_positions *= g.out[d];
    loops.kernel_size *= g.kernel[d];
  }
  loops.in_c = plan.channel_last ? 1 : in_running;
  loops.out_c = plan.channel_last ? 1 : out_running;
  loops.in_n = plan.channel_last ? in_running : in_running * g.channels;
  loops.out_n = plan.channel_last ? out_running : out_running * g.channels;
  loops.channels = g.channels;
  loops.planes = g.batch * g.channels;
  return loops;
}

// The clipped window of output position `o` along axis `a`: input [lo, hi) and the padded extent it spans.
struct Span1 {
  int64_t lo, hi, padded;
};

inline Span1 WindowAlong(const Loops& l, int a, int64_t o) {
  const int64_t begin = o * l.stride[a] - l.pad[a];
  const int64_t stop = std::min(begin + l.kernel[a], l.in[a] + l.pad[a]);
  return {std::max<int64_t>(begin, 0), std::min(stop, l.in[a]), stop - begin};
}

// Calls fn(out_offset, w0, w1, w2, divisor) for every output position of a plane, where w0..w2 are the
// clipped windows along the three axes, out_offset is relative to the plane's base and divisor is avg's.
template <typename Fn>
void ForEachWindow(const Loops& l, bool count_include_pad, Fn&& fn) {
  for (int64_t o0 = 0; o0 < l.out[0]; ++o0) {
    const Span1 w0 = WindowAlong(l, 0, o0);
    for (int64_t o1 = 0; o1 < l.out[1]; ++o1) {
      const Span1 w1 = WindowAlong(l, 1, o1);
      for (int64_t o2 = 0; o2 < l.out[2]; ++o2) {
        const Span1 w2 = WindowAlong(l, 2, o2);
        const int64_t divisor =
            count_include_pad ? w0.padded * w1.padded * w2.padded
                              : std::max<int64_t>(w0.hi - w0.lo, 0) * std::max<int64_t>(w1.hi - w1.lo, 0) *
                                    std::max<int64_t>(w2.hi - w2.lo, 0);
        fn(o0 * l.out_step[0] + o1 * l.out_step[1] + o2 * l.out_step[2], w0, w1, w2, divisor);
      }
    }
  }
}

// Calls fn(offset) for the offsets (relative to a plane's base, with strides `step`) inside one window.
template <typename Fn>
inline void ForEachInWindow(const int64_t* step, const Span1& w0, const Span1& w1, const Span1& w2, Fn&& fn) {
  for (int64_t i0 = w0.lo; i0 < w0.hi; ++i0) {
    for (int64_t i1 = w1.lo; i1 < w1.hi; ++i1) {
      const int64_t row = i0 * step[0] + i1 * step[1];
      for (int64_t i2 = w2.lo; i2 < w2.hi; ++i2) fn(row + i2 * step[2]);
    }
  }
}

// Finds the first element (row-major) of the window equal to `target` and sets *i0, *i1, *i2 to its
// position; false when there is none (Note [Max pooling backward]). Where the maximum sits is random, so
// a mispredicted early exit costs more than the few extra compares of a small window: the scan runs
// backwards over the whole window and the last match it sees (a conditional move) is the first one.
template <typename T, typename C>
inline bool FirstEqual(const T* x, const int64_t* step, const Span1& w0, const Span1& w1, const Span1& w2,
                       C target, int64_t* i0, int64_t* i1, int64_t* i2) {
  int64_t f0 = -1, f1 = 0, f2 = 0;
  for (int64_t j0 = w0.hi - 1; j0 >= w0.lo; --j0) {
    for (int64_t j1 = w1.hi - 1; j1 >= w1.lo; --j1) {
      const T* row = x + j0 * step[0] + j1 * step[1];
      for (int64_t j2 = w2.hi - 1; j2 >= w2.lo; --j2) {
        const bool take = static_cast<C>(row[j2 * step[2]]) == target;
        f0 = take ? j0 : f0;
        f1 = take ? j1 : f1;
        f2 = take ? j2 : f2;
      }
    }
  }
  *i0 = f0;
  *i1 = f1;
  *i2 = f2;
  return f0 >= 0;
}

// `value` when `keep`, else +0, without a branch: the compiler turns a float select into a branch in scalar
// code, which mispredicts on random data; a bit mask does not (and vectorizes).
template <typename T>
inline T KeepIf(bool keep, T value) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  static_assert(sizeof(T) == sizeof(Bits), "KeepIf takes float or double");
  Bits bits;
  std::memcpy(&bits, &value, sizeof(T));
  bits &= Bits(0) - static_cast<Bits>(keep);
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

// Max-pooling gradient of one contiguous (H, W) plane for 2x2 windows with stride 2 and no padding, the
// layout of most CNNs: every full window is resolved with compares and selects only (no branch on data, so
// the compiler vectorizes the row), and windows clipped by the 'full' convention take FirstEqual. `dx` already holds the values to add to.
template <typename T>
void MaxBackward2x2(const Loops& l, const T* x, const T* y, const T* dy, T* dx) {
  const int64_t height = l.in[1], width = l.in[2], out_w = l.out[2];
  const int64_t full_h = std::min(l.out[1], height / 2), full_w = std::min(out_w, width / 2);
  for (int64_t oh = 0; oh < l.out[1]; ++oh) {
    const T* top = x + 2 * oh * width;
    T* dtop = dx + 2 * oh * width;
    const T* result = y + oh * out_w;
    const T* grad = dy + oh * out_w;
    int64_t ow = 0;
    if (oh < full_h) {
      const T* bottom = top + width;
      T* dbottom = dtop + width;
      for (; ow < full_w; ++ow) {
        // The gradient passes along the window in row-major order until an element equals the maximum.
        const T target = result[ow], g = grad[ow];
        const T a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
        const T after_a = KeepIf(a != target, g), after_b = KeepIf(b != target, after_a);
        const T after_c = KeepIf(c != target, after_b);
        dtop[2 * ow] += KeepIf(a == target, g);
        dtop[2 * ow + 1] += KeepIf(b == target, after_a);
        dbottom[2 * ow] += KeepIf(c == target, after_b);
        dbottom[2 * ow + 1] += KeepIf(d == target, after_c);
      }
    }
    for (ow = oh < full_h ? full_w : 0; ow < out_w; ++ow) {
      const Span1 w0{0, 1, 1}, w1 = WindowAlong(l, 1, oh), w2 = WindowAlong(l, 2, ow);
      int64_t i0, i1, i2;
      if (FirstEqual(x, l.in_step, w0, w1, w2, result[ow], &i0, &i1, &i2)) dx[i1 * width + i2] += grad[ow];
    }
  }
}

// Whether MaxBackward2x2 applies: float32/float64, channel-first 2-d, 2x2 windows, stride 2, no padding.
template <typename T>
bool Is2x2(const PoolPlan& plan, const Loops& l) {
  return std::is_same_v<T, ComputeType<T>> && plan.type == PoolType::kMax && !plan.channel_last &&
         plan.g.spatial == 2 && l.kernel[1] == 2 && l.kernel[2] == 2 && l.stride[1] == 2 && l.stride[2] == 2 &&
         l.pad[1] == 0 && l.pad[2] == 0;
}

double PowP(double x, int p) { return p == 1 ? x : p == 2 ? x * x : x * x * x; }
double RootP(double x, int p) { return p == 1 ? x : p == 2 ? std::sqrt(x) : std::cbrt(x); }

// Planes per parallel chunk: roughly kElementwiseGrain elements of work each.
int64_t PlaneGrain(const Loops& l) { return RowGrain(l.in_positions + l.out_positions * l.kernel_size); }

template <typename T>
void LoopForward(const PoolPlan& plan, const T* x, T* y, bool add) {
  using C = ComputeType<T>;
  const Loops l = LoopsOf(plan);
  cpu::ParallelFor(l.planes, PlaneGrain(l), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const T* in = x + l.InBase(row);
      T* out = y + l.OutBase(row);
      ForEachWindow(l, plan.count_include_pad, [&](int64_t o, const Span1& w0, const Span1& w1, const Span1& w2,
                                                   int64_t divisor) {
        if (plan.type == PoolType::kMax) {
          // `v > best` skips NaN, as MXNet's loop does; a select rather than a branch (random data).
          C best = std::numeric_limits<C>::lowest();
          ForEachInWindow(l.in_step, w0, w1, w2, [&](int64_t i) {
            const C v = static_cast<C>(in[i]);
            best = v > best ? v : best;
          });
          Store<T, C>(out + o, best, add);
          return;
        }
        double sum = 0;
        ForEachInWindow(l.in_step, w0, w1, w2, [&](int64_t i) {
          const double v = static_cast<double>(static_cast<C>(in[i]));
          sum += plan.type == PoolType::kLp ? PowP(v, plan.p) : v;
        });
        const double result = plan.type == PoolType::kAvg  ? sum / static_cast<double>(divisor)
                              : plan.type == PoolType::kLp ? RootP(sum, plan.p)
                                                           : sum;
        Store<T, C>(out + o, static_cast<C>(result), add);
      });
    }
  });
}

template <typename T>
void LoopBackward(const PoolPlan& plan, const T* dy, const T* x, const T* y, T* dx, bool add) {
  using C = ComputeType<T>;
  // Note [Pooling loops]: float32/float64 accumulate in dx itself, 16-bit floats in a float plane.
  constexpr bool kDirect = std::is_same_v<T, C>;
  const Loops l = LoopsOf(plan);
  const int64_t dense_step[3] = {l.in[1] * l.in[2], l.in[2], 1};
  const bool fast_2x2 = Is2x2<T>(plan, l);
  cpu::ParallelFor(l.planes, PlaneGrain(l), [&](int64_t begin, int64_t end) {
    std::vector<C> scratch(kDirect ? 0 : static_cast<size_t>(l.in_positions));
    for (int64_t row = begin; row < end; ++row) {
      const T* in = x + l.InBase(row);
      const T* grad = dy + l.OutBase(row);
      const T* result = y + l.OutBase(row);
      C* acc;
      const int64_t* acc_step;
      if constexpr (kDirect) {
        acc = dx + l.InBase(row);
        acc_step = l.in_step;
        if (!add) {
          if (!plan.channel_last) {
            std::fill(acc, acc + l.in_positions, C(0));
          } else {
            for (int64_t i = 0; i < l.in_positions; ++i) acc[i * l.channels] = C(0);
          }
        }
      } else {
        acc = scratch.data();
        acc_step = dense_step;
        std::fill(scratch.begin(), scratch.end(), C(0));
      }
      // The accumulator's element for input position (i0, i1, i2) of the plane.
      auto at = [&](int64_t i0, int64_t i1, int64_t i2) {
        return i0 * acc_step[0] + i1 * acc_step[1] + i2 * acc_step[2];
      };
      if constexpr (kDirect) {
        if (fast_2x2) {
          MaxBackward2x2(l, in, result, grad, acc);
          continue;
        }
      }
      ForEachWindow(l, plan.count_include_pad, [&](int64_t o, const Span1& w0, const Span1& w1, const Span1& w2,
                                                   int64_t divisor) {
        const C g = static_cast<C>(grad[o]);
        if (plan.type == PoolType::kMax) {
          int64_t i0, i1, i2;
          if (FirstEqual(in, l.in_step, w0, w1, w2, static_cast<C>(result[o]), &i0, &i1, &i2)) {
            acc[at(i0, i1, i2)] += g;
          }
          return;
        }
        const C share = plan.type == PoolType::kAvg ? static_cast<C>(g / static_cast<C>(divisor)) : g;
        const bool lp_power = plan.type == PoolType::kLp && plan.p > 1;
        const C out_value = static_cast<C>(result[o]);
        for (int64_t i0 = w0.lo; i0 < w0.hi; ++i0) {
          for (int64_t i1 = w1.lo; i1 < w1.hi; ++i1) {
            for (int64_t i2 = w2.lo; i2 < w2.hi; ++i2) {
              C value = share;
              if (lp_power) {
                const C ratio = static_cast<C>(in[i0 * l.in_step[0] + i1 * l.in_step[1] + i2 * l.in_step[2]]) /
                                out_value;
                value = g * (plan.p == 2 ? ratio : ratio * ratio);
              }
              acc[at(i0, i1, i2)] += value;
            }
          }
        }
      });
      if constexpr (!kDirect) {
        T* target = dx + l.InBase(row);
        for (int64_t i0 = 0; i0 < l.in[0]; ++i0) {
          for (int64_t i1 = 0; i1 < l.in[1]; ++i1) {
            for (int64_t i2 = 0; i2 < l.in[2]; ++i2) {
              Store<T, C>(target + i0 * l.in_step[0] + i1 * l.in_step[1] + i2 * l.in_step[2],
                          scratch[static_cast<size_t>(at(i0, i1, i2))], add);
            }
          }
        }
      }
    }
  });
}

// The oneDNN algorithm reproducing `plan` exactly, or false (Note [MXNet pooling windows]).
bool DnnlAlgorithmFor(const PoolPlan& plan, cpu::PoolAlgorithm* algorithm) {
  if (plan.channel_last) return false;
  bool windows_within_padding = true, windows_touch_input = true;
  for (int d = 0; d < plan.g.spatial; ++d) {
    windows_within_padding = windows_within_padding && plan.g.pad_r[d] <= plan.g.pad_l[d];
    windows_touch_input = windows_touch_input && (plan.g.out[d] - 1) * plan.g.stride[d] - plan.g.pad_l[d] < plan.g.in[d];
    if (plan.g.pad_r[d] < 0) return false;
  }
  if (!windows_touch_input) return false;
  switch (plan.type) {
    case PoolType::kMax:
      *algorithm = cpu::PoolAlgorithm::kMax;
      return true;
    case PoolType::kAvg:
      if (!plan.count_include_pad) {
        *algorithm = cpu::PoolAlgorithm::kAvgExcludePad;
        return true;
      }
      *algorithm = cpu::PoolAlgorithm::kAvgIncludePad;
      return windows_within_padding;
    default:
      return false;
  }
}

PMX_REGISTER_OP(Pooling) {
  OpDef def;
  def.name = "Pooling";
  def.family = "nn/pooling";
  def.doc = "Pools windows of 1-d, 2-d or 3-d data (N, C, spatial...) or its channel-last layouts: max, avg "
            "(count_include_pad decides whether padding counts in the divisor), sum, or lp (p_value 1, 2, 3). "
            "Output extent per axis: floor((x + 2 * pad - kernel) / stride) + 1 for 'valid', ceil for 'full', "
            "ceil((x + 2 * pad) / stride) for 'same' (1-d); global_pool pools each whole plane.";
  def.inputs = {"data"};
  def.params = PoolParamDefs();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[0]) return false;
    (*out)[0] = OutputShape(MakePlan("Pooling", params, *(*in)[0]), *(*in)[0]);
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("Pooling", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const PoolPlan plan = MakePlan("Pooling", *context.params, in[0].shape);
    const bool add = context.modes[0] == WriteMode::kAdd;
    cpu::PoolAlgorithm algorithm;
    if (in[0].dtype == DType::kFloat32 && !add && out[0].size() > 0 && DnnlAlgorithmFor(plan, &algorithm) &&
        cpu::DnnlPoolingForward(algorithm, plan.g, in[0].As<float>(), out[0].As<float>())) {
      return;
    }
    DispatchAllowed<DTypes::kFloat>("Pooling", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      LoopForward<T>(plan, in[0].As<T>(), out[0].As<T>(), add);
    });
  };
  def.gradient = [](GradientBuilder& b, const GradientArgs& args) -> Grads {
    return {b.Call1("_pooling_backward", {args.output_grads[0], args.inputs[0], args.outputs[0]},
                    args.params->ToStrings())};
  };
  return def;
}

PMX_REGISTER_OP(_pooling_backward) {
  OpDef def;
  def.name = "_pooling_backward";
  def.family = "nn/pooling";
  def.doc = "The gradient of Pooling with respect to its data, from out_grad, the data and Pooling's output "
            "(max pooling routes each window's gradient to its first maximal element). Takes Pooling's "
            "parameters. Not differentiable (Note [Helper gradients]).";
  def.inputs = {"out_grad", "data", "output"};
  def.params = PoolParamDefs();
  def.infer_shape = [](const OpParams& params, std::vector<MaybeShape>* in, std::vector<MaybeShape>* out) {
    if (!(*in)[1]) return false;
    const Shape expected = OutputShape(MakePlan("_pooling_backward", params, *(*in)[1]), *(*in)[1]);
    AssignInputShape("_pooling_backward", "out_grad", &(*in)[0], expected);
    AssignInputShape("_pooling_backward", "output", &(*in)[2], expected);
    (*out)[0] = *(*in)[1];
    return true;
  };
  def.infer_type = [](const OpParams&, std::vector<MaybeDType>* in, std::vector<MaybeDType>* out) {
    return InferSameDType("_pooling_backward", DTypes::kFloat, in, out);
  };
  def.kernels[DeviceType::kCPU] = [](const KernelContext& context, absl::Span<const TensorRef> in,
                                     absl::Span<const TensorRef> out) {
    const PoolPlan plan = MakePlan("_pooling_backward", *context.params, in[1].shape);
    const bool add = context.modes[0] == WriteMode::kAdd;
    cpu::PoolAlgorithm algorithm;
    if (in[0].dtype == DType::kFloat32 && !add && in[0].size() > 0 && DnnlAlgorithmFor(plan, &algorithm) &&
        cpu::DnnlPoolingBackward(algorithm, plan.g, in[0].As<float>(), out[0].As<float>())) {
      return;
    }
    DispatchAllowed<DTypes::kFloat>("_pooling_backward", in[0].dtype, [&](auto tag) {
      using T = decltype(tag);
      LoopBackward<T>(plan, in[0].As<T>(), in[1].As<T>(), in[2].As<T>(), out[0].As<T>(), add);
    });
  };
  return def;
}

}  // namespace
}  // namespace nn
}  // namespace ops
}  // namespace pmx
