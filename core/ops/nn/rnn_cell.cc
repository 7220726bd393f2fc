// The fused RNN's kernels: GEMM, the forward recurrence and backpropagation through time, in float and double.
// rnn.cc declares the operators and converts the 16-bit float dtypes to float around these kernels.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/ops/internal/gemm.h"
#include "core/ops/nn/layers_common.h"
#include "core/ops/nn/rnn_internal.h"

namespace pmx {
namespace ops {
namespace nn {

// ---- Layouts ---------------------------------------------------------------------------------------------

int64_t RnnConfig::Gates() const {
  switch (mode) {
    case RnnMode::kLstm: return 4;
    case RnnMode::kGru: return 3;
    default: return 1;
  }
}

int64_t RnnConfig::WeightOffset(int64_t layer, int64_t dir) const {
  const int64_t rows = Gates() * hidden;
  int64_t offset = 0;
  for (int64_t l = 0; l < layer; ++l) offset += dirs * rows * (LayerInput(l) + hidden);
  return offset + dir * rows * (LayerInput(layer) + hidden);
}

int64_t RnnConfig::BiasOffset(int64_t layer, int64_t dir) const {
  return WeightOffset(layers, 0) + (layer * dirs + dir) * 2 * Gates() * hidden;
}

int64_t RnnConfig::ParamCount() const { return BiasOffset(layers, 0); }

int64_t RnnConfig::SavedGates() const { return mode == RnnMode::kLstm || mode == RnnMode::kGru ? 4 : 0; }

int64_t RnnConfig::CellBlock() const {
  const int64_t per_step = hidden * (1 + (mode == RnnMode::kLstm ? 1 : 0) + SavedGates());
  return steps * batch * per_step;
}

int64_t RnnConfig::BoundaryBlock() const { return steps * batch * dirs * hidden * (dropout > 0 ? 2 : 1); }

int64_t RnnConfig::ReserveCount() const { return layers * dirs * CellBlock() + (layers - 1) * BoundaryBlock(); }

// ---- GEMM ------------------------------------------------------------------------------------------------

// Note [RNN GEMM]
// Every matrix product runs on the shared ops::Gemm (internal/gemm.h): oneDNN's sgemm for float, a blocked,
// threaded loop for double (oneDNN has no double GEMM; float64 serves gradient checks and exact references).
// The 16-bit floats never reach it: rnn.cc widens them to float around the whole recurrence.
template <typename C>
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, C alpha, const C* a, int64_t lda, const C* b,
          int64_t ldb, C beta, C* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // An empty sum: C = beta * C (oneDNN does not accept the zero leading dimensions it implies).
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == C(0) ? C(0) : beta * c[i * ldc + j];
    }
    return;
  }
  GemmShape shape;
  shape.m = m, shape.n = n, shape.k = k;
  shape.trans_a = trans_a, shape.trans_b = trans_b;
  shape.lda = lda, shape.ldb = ldb, shape.ldc = ldc;
  ops::Gemm<C>(shape, alpha, a, b, beta, c);
}

template void Gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void Gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

// ---- Forward ---------------------------------------------------------------------------------------------

namespace {

// Note [RNN activations]
// The gates' sigmoid and tanh run once per element and step, so their cost rivals the GEMMs'. glibc's tanhf
// goes through the slow expm1f; in float, tanh is computed from the fast expf instead, within 2 ulp of the exact
// value (an odd polynomial near 0, where (1 - e^-2|x|) / (1 + e^-2|x|) would cancel). double keeps std::tanh:
// float64 runs are the exact references of the gradient checks.
inline float Tanh(float x) {
  const float a = std::abs(x);
  if (a < 0.125f) {
    const float x2 = x * x;
    return x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
  }
  if (a > 9.0f) return std::copysign(1.0f, x);
  const float e = std::exp(-2 * a);
  return std::copysign((1 - e) / (1 + e), x);
}
inline double Tanh(double x) { return std::tanh(x); }

template <typename C>
inline C Sigmoid(C x) { return C(1) / (C(1) + std::exp(-x)); }

// Clips an LSTM cell state as cuDNN does (Note [LSTM state clipping] in rnn.cc).
template <typename C>
inline C ClipCell(const RnnConfig& config, C c) {
  if (!config.clip) return c;
  if (std::isnan(c)) return config.clip_nan ? static_cast<C>(config.clip_min) : c;
  return std::min(std::max(c, static_cast<C>(config.clip_min)), static_cast<C>(config.clip_max));
}

// Whether gradient flows through the clipping of a saved (clipped) cell state.
template <typename C>
inline bool ClipPasses(const RnnConfig& config, C c) {
  return !config.clip || (c > static_cast<C>(config.clip_min) && c < static_cast<C>(config.clip_max));
}

// Whether step t of sequence n is inside its length.
inline bool Active(const int64_t* lengths, int64_t t, int64_t n) { return lengths == nullptr || t < lengths[n]; }

// Views of one layer/direction block of the reserve (Note [RNN saved activations]).
template <typename C>
struct CellBlockView {
  C* h;      // (T, N, H).
  C* c;      // (T, N, H), LSTM only.
  C* gates;  // (T, N, SavedGates * H).
};

template <typename C>
CellBlockView<C> BlockOf(const RnnConfig& config, C* reserve, int64_t layer, int64_t dir) {
  const int64_t plane = config.steps * config.batch * config.hidden;
  C* base = reserve + config.CellOffset(layer, dir);
  const bool lstm = config.mode == RnnMode::kLstm;
  return {base, lstm ? base + plane : nullptr, base + plane * (lstm ? 2 : 1)};
}

// The weights and biases of one layer/direction.
template <typename C>
struct CellWeights {
  const C* wx;  // (G*H, input).
  const C* wh;  // (G*H, H).
  const C* bx;  // (G*H).
  const C* bh;  // (G*H).
};

template <typename C>
CellWeights<C> WeightsOf(const RnnConfig& config, const C* params, int64_t layer, int64_t dir) {
  const int64_t rows = config.Gates() * config.hidden;
  const C* wx = params + config.WeightOffset(layer, dir);
  const C* bx = params + config.BiasOffset(layer, dir);
  return {wx, wx + rows * config.LayerInput(layer), bx, bx + rows};
}

// The step order of a direction: forward runs t = 0..T-1, backward t = T-1..0.
inline int64_t StepTime(const RnnConfig& config, int64_t dir, int64_t s) {
  return dir == 0 ? s : config.steps - 1 - s;
}

// One step of one sequence n: reads the input projection xp (G*H) and recurrent projection hp (G*H, no
// bias), the previous state; writes h, c, the saved gates and the layer output row.
template <typename C>
void ForwardStep(const RnnConfig& config, const CellWeights<C>& w, const C* xp, const C* hp, const C* h_prev,
                 const C* c_prev, C* h, C* c, C* gates, C* y) {
  const int64_t H = config.hidden;
  switch (config.mode) {
    case RnnMode::kRelu:
    case RnnMode::kTanh:
      for (int64_t j = 0; j < H; ++j) {
        const C a = xp[j] + w.bx[j] + hp[j] + w.bh[j];
        h[j] = config.mode == RnnMode::kTanh ? Tanh(a) : std::max(a, C(0));
      }
      break;
    case RnnMode::kLstm:
      for (int64_t j = 0; j < H; ++j) {
        const C i = Sigmoid(xp[j] + w.bx[j] + hp[j] + w.bh[j]);
        const C f = Sigmoid(xp[H + j] + w.bx[H + j] + hp[H + j] + w.bh[H + j]);
        const C g = Tanh(xp[2 * H + j] + w.bx[2 * H + j] + hp[2 * H + j] + w.bh[2 * H + j]);
        const C o = Sigmoid(xp[3 * H + j] + w.bx[3 * H + j] + hp[3 * H + j] + w.bh[3 * H + j]);
        c[j] = ClipCell(config, f * c_prev[j] + i * g);
        h[j] = o * Tanh(c[j]);
        gates[j] = i, gates[H + j] = f, gates[2 * H + j] = g, gates[3 * H + j] = o;
      }
      break;
    case RnnMode::kGru:
      for (int64_t j = 0; j < H; ++j) {
        const C r = Sigmoid(xp[j] + w.bx[j] + hp[j] + w.bh[j]);
        const C z = Sigmoid(xp[H + j] + w.bx[H + j] + hp[H + j] + w.bh[H + j]);
        const C hn = hp[2 * H + j] + w.bh[2 * H + j];
        const C n = Tanh(xp[2 * H + j] + w.bx[2 * H + j] + r * hn);
        h[j] = (C(1) - z) * n + z * h_prev[j];
        gates[j] = r, gates[H + j] = z, gates[2 * H + j] = n, gates[3 * H + j] = hn;
      }
      break;
  }
  std::copy(h, h + H, y);
}

// Runs direction `dir` of layer `layer` over input x (T, N, input); writes its half of y (T, N, D*H).
template <typename C>
void ForwardDirection(const RnnConfig& config, const RnnForwardArgs<C>& args, int64_t layer, int64_t dir,
                      const C* x, C* y, C* projection, C* recurrent) {
  const int64_t T = config.steps, N = config.batch, H = config.hidden, D = config.dirs;
  const int64_t GH = config.Gates() * H, SG = config.SavedGates() * H, in = config.LayerInput(layer);
  const CellWeights<C> w = WeightsOf(config, args.params, layer, dir);
  const CellBlockView<C> saved = BlockOf(config, args.reserve, layer, dir);
  // The input projection of every step at once: one large GEMM instead of T small ones.
  Gemm<C>(false, true, T * N, GH, in, C(1), x, in, w.wx, in, C(0), projection, GH);
  const int64_t cell_index = layer * D + dir;
  const C* h0 = args.state + cell_index * N * H;
  const C* c0 = args.cell ? args.cell + cell_index * N * H : nullptr;
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = StepTime(config, dir, s), previous = StepTime(config, dir, s - 1);
    const C* h_prev = s == 0 ? h0 : saved.h + previous * N * H;
    const C* c_prev = saved.c == nullptr ? nullptr : s == 0 ? c0 : saved.c + previous * N * H;
    Gemm<C>(false, true, N, GH, H, C(1), h_prev, H, w.wh, H, C(0), recurrent, GH);
    cpu::ParallelFor(N, RowGrain(GH * 8), [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n) {
        const int64_t row = t * N + n;
        C* h = saved.h + row * H;
        C* c = saved.c ? saved.c + row * H : nullptr;
        C* gates = saved.gates + row * SG;
        C* y_row = y + row * D * H + dir * H;
        if (!Active(args.lengths, t, n)) {  // Padding: carry the state, output zeros.
          std::copy(h_prev + n * H, h_prev + (n + 1) * H, h);
          if (c) std::copy(c_prev + n * H, c_prev + (n + 1) * H, c);
          std::fill(gates, gates + SG, C(0));
          std::fill(y_row, y_row + H, C(0));
          continue;
        }
        ForwardStep(config, w, projection + row * GH, recurrent + n * GH, h_prev + n * H,
                    c_prev ? c_prev + n * H : nullptr, h, c, gates, y_row);
      }
    });
  }
  // The final states: after the last step of the direction (the initial ones for empty sequences).
  const int64_t last = StepTime(config, dir, T - 1);
  if (args.state_out) {
    const C* source = T > 0 ? saved.h + last * N * H : h0;
    std::copy(source, source + N * H, args.state_out + cell_index * N * H);
  }
  if (args.cell_out && c0) {
    const C* source = T > 0 ? saved.c + last * N * H : c0;
    std::copy(source, source + N * H, args.cell_out + cell_index * N * H);
  }
}

}  // namespace

template <typename C>
void RnnForward(const RnnConfig& config, const RnnForwardArgs<C>& args, const Scratch& scratch) {
  const int64_t TN = config.steps * config.batch, GH = config.Gates() * config.hidden;
  const int64_t width = config.dirs * config.hidden;
  C* projection = static_cast<C*>(scratch(std::max<int64_t>(TN * GH, 1) * sizeof(C)));
  C* recurrent = static_cast<C*>(scratch(std::max<int64_t>(config.batch * GH, 1) * sizeof(C)));
  for (int64_t layer = 0; layer < config.layers; ++layer) {
    const C* x = layer == 0 ? args.data : args.reserve + config.BoundaryOffset(layer - 1);
    const bool top = layer == config.layers - 1;
    C* y = top ? args.out : args.reserve + config.BoundaryOffset(layer);
    for (int64_t dir = 0; dir < config.dirs; ++dir) {
      ForwardDirection(config, args, layer, dir, x, y, projection, recurrent);
    }
    if (top || config.dropout <= 0) continue;
    // Dropout between layers; the factor is saved so the backward scales the same elements.
    C* mask = y + TN * width;
    const double keep = 1 - config.dropout;
    const C scale = static_cast<C>(1 / keep);
    const int64_t stream_offset = layer * TN * width;
    cpu::ParallelFor(TN * width, kElementwiseGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const C factor = !args.train ? C(1) : UniformAt(args.seed, stream_offset + i) < keep ? scale : C(0);
        mask[i] = factor;
        y[i] *= factor;
      }
    });
  }
}

template void RnnForward<float>(const RnnConfig&, const RnnForwardArgs<float>&, const Scratch&);
template void RnnForward<double>(const RnnConfig&, const RnnForwardArgs<double>&, const Scratch&);

// ---- Backward --------------------------------------------------------------------------------------------

namespace {

// Scratch buffers of one backward call.
template <typename C>
struct BackwardBuffers {
  C* gates_x;   // (T*N, G*H): gradients of the pre-activations fed by W_x x + b_x.
  C* gates_h;   // (T*N, G*H): the same for U h' + b_h (differs from gates_x only for GRU's n gate).
  C* h_prev;    // (T, N, H): the previous state of every step, for U's gradient.
  C* dh;        // (N, H): gradient flowing into the current state.
  C* dc;        // (N, H): the same for the LSTM cell state.
};

// Backward of one step of sequence n: dh_in is the gradient reaching h_t (from t+1 and from the output).
// Writes the pre-activation gradients and, into dh_out/dc, the part of the previous states' gradients that
// does not go through U (U's part is added by a GEMM afterwards).
template <typename C>
void BackwardStep(const RnnConfig& config, const C* h, const C* c, const C* gates, const C* h_prev,
                  const C* c_prev, const C* dh_in, C* dh_out, C* dc, C* dgx, C* dgh) {
  const int64_t H = config.hidden;
  switch (config.mode) {
    case RnnMode::kRelu:
    case RnnMode::kTanh:
      for (int64_t j = 0; j < H; ++j) {
        const C derivative = config.mode == RnnMode::kTanh ? C(1) - h[j] * h[j] : C(h[j] > C(0) ? 1 : 0);
        dgx[j] = dh_in[j] * derivative;
        dh_out[j] = C(0);
      }
      break;
    case RnnMode::kLstm:
      for (int64_t j = 0; j < H; ++j) {
        const C i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
        const C tanh_c = Tanh(c[j]);
        C dc_total = dc[j] + dh_in[j] * o * (C(1) - tanh_c * tanh_c);
        if (!ClipPasses(config, c[j])) dc_total = C(0);
        dgx[j] = dc_total * g * i * (C(1) - i);
        dgx[H + j] = dc_total * c_prev[j] * f * (C(1) - f);
        dgx[2 * H + j] = dc_total * i * (C(1) - g * g);
        dgx[3 * H + j] = dh_in[j] * tanh_c * o * (C(1) - o);
        dc[j] = dc_total * f;
        dh_out[j] = C(0);
      }
      break;
    case RnnMode::kGru:
      for (int64_t j = 0; j < H; ++j) {
        const C r = gates[j], z = gates[H + j], n = gates[2 * H + j], hn = gates[3 * H + j];
        const C dn = dh_in[j] * (C(1) - z) * (C(1) - n * n);  // Through n's tanh.
        const C dr = dn * hn * r * (C(1) - r);
        const C dz = dh_in[j] * (h_prev[j] - n) * z * (C(1) - z);
        dgx[j] = dgh[j] = dr;
        dgx[H + j] = dgh[H + j] = dz;
        dgx[2 * H + j] = dn;
        dgh[2 * H + j] = dn * r;
        dh_out[j] = dh_in[j] * z;
      }
      break;
  }
}

// Adds the column sums of the rows x cols matrix m to out.
template <typename C>
void AddColumnSums(const C* m, int64_t rows, int64_t cols, C* out) {
  cpu::ParallelFor(cols, RowGrain(rows), [&](int64_t begin, int64_t end) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = begin; j < end; ++j) out[j] += m[r * cols + j];
    }
  });
}

// Backpropagates direction `dir` of layer `layer`: adds into the parameter gradients and into dx (T, N, in),
// the gradient of the layer's input; dy (T, N, D*H) is the gradient of the layer's output.
template <typename C>
void BackwardDirection(const RnnConfig& config, const RnnBackwardArgs<C>& args, int64_t layer, int64_t dir,
                       const C* x, const C* dy, C* dx, const BackwardBuffers<C>& buffers) {
  const int64_t T = config.steps, N = config.batch, H = config.hidden, D = config.dirs;
  const int64_t GH = config.Gates() * H, SG = config.SavedGates() * H, in = config.LayerInput(layer);
  const bool gru = config.mode == RnnMode::kGru, lstm = config.mode == RnnMode::kLstm;
  const CellWeights<C> w = WeightsOf(config, args.params, layer, dir);
  const CellBlockView<const C> saved = BlockOf(config, args.reserve, layer, dir);
  C* gates_h = gru ? buffers.gates_h : buffers.gates_x;
  const int64_t cell_index = layer * D + dir;
  const C* h0 = args.state + cell_index * N * H;
  const C* c0 = lstm ? args.cell + cell_index * N * H : nullptr;
  auto init = [&](const C* head, C* target) {
    if (head) {
      std::copy(head + cell_index * N * H, head + (cell_index + 1) * N * H, target);
    } else {
      std::fill(target, target + N * H, C(0));
    }
  };
  init(args.state_out_grad, buffers.dh);
  if (lstm) init(args.cell_out_grad, buffers.dc);

  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = StepTime(config, dir, s), previous = StepTime(config, dir, s - 1);
    const C* h_prev = s == 0 ? h0 : saved.h + previous * N * H;
    const C* c_prev = !lstm ? nullptr : s == 0 ? c0 : saved.c + previous * N * H;
    std::copy(h_prev, h_prev + N * H, buffers.h_prev + t * N * H);
    cpu::ParallelFor(N, RowGrain(GH * 8), [&](int64_t begin, int64_t end) {
      std::vector<C> dh_in(H);
      for (int64_t n = begin; n < end; ++n) {
        const int64_t row = t * N + n;
        C* dgx = buffers.gates_x + row * GH;
        C* dgh = gates_h + row * GH;
        C* dh = buffers.dh + n * H;
        if (!Active(args.lengths, t, n)) {  // Padding: the state passed through unchanged.
          std::fill(dgx, dgx + GH, C(0));
          if (gru) std::fill(dgh, dgh + GH, C(0));
          continue;
        }
        const C* dy_row = dy + row * D * H + dir * H;
        for (int64_t j = 0; j < H; ++j) dh_in[j] = dh[j] + dy_row[j];
        BackwardStep(config, saved.h + row * H, lstm ? saved.c + row * H : nullptr, saved.gates + row * SG,
                     h_prev + n * H, c_prev ? c_prev + n * H : nullptr, dh_in.data(), dh,
                     lstm ? buffers.dc + n * H : nullptr, dgx, dgh);
      }
    });
    // dh_prev += dgates_h U (padded rows have zero gate gradients, so their dh passes unchanged).
    Gemm<C>(false, false, N, H, GH, C(1), gates_h + t * N * GH, GH, w.wh, H, C(1), buffers.dh, H);
  }
  std::copy(buffers.dh, buffers.dh + N * H, args.state_grad + cell_index * N * H);
  if (lstm) std::copy(buffers.dc, buffers.dc + N * H, args.cell_grad + cell_index * N * H);

  // Parameter and input gradients for all steps at once.
  C* dwx = args.params_grad + config.WeightOffset(layer, dir);
  C* dwh = dwx + GH * in;
  C* dbx = args.params_grad + config.BiasOffset(layer, dir);
  Gemm<C>(true, false, GH, in, T * N, C(1), buffers.gates_x, GH, x, in, C(1), dwx, in);
  Gemm<C>(true, false, GH, H, T * N, C(1), gates_h, GH, buffers.h_prev, H, C(1), dwh, H);
  AddColumnSums(buffers.gates_x, T * N, GH, dbx);
  AddColumnSums(gates_h, T * N, GH, dbx + GH);
  Gemm<C>(false, false, T * N, in, GH, C(1), buffers.gates_x, GH, w.wx, in, C(1), dx, in);
}

}  // namespace

template <typename C>
void RnnBackward(const RnnConfig& config, const RnnBackwardArgs<C>& args, const Scratch& scratch) {
  const int64_t TN = config.steps * config.batch, N = config.batch, H = config.hidden;
  const int64_t GH = config.Gates() * H, width = config.dirs * H;
  auto buffer = [&](int64_t count) { return static_cast<C*>(scratch(std::max<int64_t>(count, 1) * sizeof(C))); };
  BackwardBuffers<C> buffers{buffer(TN * GH), config.mode == RnnMode::kGru ? buffer(TN * GH) : nullptr,
                             buffer(TN * H), buffer(N * H), buffer(N * H)};
  // Gradients of the inner layers' outputs alternate between two buffers.
  C* between[2] = {config.layers > 1 ? buffer(TN * width) : nullptr,
                   config.layers > 2 ? buffer(TN * width) : nullptr};
  std::fill(args.params_grad, args.params_grad + config.ParamCount(), C(0));
  for (int64_t layer = config.layers - 1; layer >= 0; --layer) {
    const C* dy = layer == config.layers - 1 ? args.out_grad : between[layer % 2];
    C* dx = layer == 0 ? args.data_grad : between[(layer - 1) % 2];
    const int64_t in = config.LayerInput(layer);
    std::fill(dx, dx + TN * in, C(0));
    const C* x = layer == 0 ? args.data : args.reserve + config.BoundaryOffset(layer - 1);
    for (int64_t dir = 0; dir < config.dirs; ++dir) BackwardDirection(config, args, layer, dir, x, dy, dx, buffers);
    if (layer == 0 || config.dropout <= 0) continue;
    const C* mask = args.reserve + config.BoundaryOffset(layer - 1) + TN * width;
    for (int64_t i = 0; i < TN * width; ++i) dx[i] *= mask[i];
  }
}

template void RnnBackward<float>(const RnnConfig&, const RnnBackwardArgs<float>&, const Scratch&);
template void RnnBackward<double>(const RnnConfig&, const RnnBackwardArgs<double>&, const Scratch&);

}  // namespace nn
}  // namespace ops
}  // namespace pmx
