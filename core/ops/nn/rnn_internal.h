// Shared pieces of the fused recurrent operator (RNN, _rnn_backward): the layout of MXNet's flat parameter
// vector, the layout of the saved forward activations, and the float/double kernels that rnn.cc dispatches to.
#ifndef POLYMIX_CORE_OPS_NN_RNN_INTERNAL_H_
#define POLYMIX_CORE_OPS_NN_RNN_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "core/ops/op.h"

namespace pmx {
namespace ops {
namespace nn {

// The recurrence of one RNN call (MXNet's `mode` parameter).
enum class RnnMode {
  kRelu,  // h = relu(W x + b + U h' + c).
  kTanh,  // h = tanh(W x + b + U h' + c).
  kLstm,  // Four gates i, f, g, o and a cell state.
  kGru,   // Three gates r, z, n (n with the reset gate applied to U_n h' + c_n, as cuDNN and MXNet).
};

// Note [RNN parameter layout]
// MXNet keeps every weight and bias of a fused RNN in one flat vector, so that .params files written by MXNet
// load unchanged. With G gates (1, 1, 4, 3 for relu, tanh, lstm, gru), state size H, D directions and the
// input size of layer l being I for l = 0 and D*H above:
//   first every weight, for l = 0..L-1 and d = 0..D-1: W_x[l, d] (G*H, input of l), then W_h[l, d] (G*H, H);
//   then every bias, in the same order: b_x[l, d] (G*H), then b_h[l, d] (G*H).
// Gate blocks inside each matrix or bias are stacked in MXNet's order: LSTM i, f, g, o; GRU r, z, n.

// Note [RNN saved activations]
// The forward writes what backpropagation through time needs into a hidden 1-D output ("reserve") of the
// compute dtype (float32, or float64 for float64 data); _rnn_backward reads it back. Its layout, in elements:
//   for each layer l and direction d (block l*D + d):
//     h[T, N, H]      the hidden state after step t (the previous state, unchanged, at padded steps);
//     c[T, N, H]      LSTM only: the cell state after step t (after clipping);
//     gates[T, N, 4H] LSTM: i, f, g, o after their activations; GRU: r, z, n and U_n h' + c_n; nothing for
//                     relu/tanh, whose derivative comes from h;
//   then for each layer boundary l = 0..L-2:
//     input[T, N, D*H] the input of layer l+1 (layer l's output after dropout);
//     mask[T, N, D*H]  only when p > 0: the dropout factor (0 or 1/(1-p) while training, 1 otherwise).
// Padded steps (t >= sequence_length[n]) have zero outputs and zero gate entries.

// Everything a kernel needs to know about one call, from the parameters and the data shape.
struct RnnConfig {
  RnnMode mode = RnnMode::kLstm;  // The recurrence.
  int64_t steps = 0;              // T: sequence length.
  int64_t batch = 0;              // N: batch size.
  int64_t input = 0;              // I: features of the data.
  int64_t hidden = 0;             // H: state_size.
  int64_t layers = 1;             // L: num_layers.
  int64_t dirs = 1;               // D: 2 when bidirectional.
  double dropout = 0;             // p: dropout between layers (training only).
  bool use_lengths = false;       // Whether a sequence_length input is given.
  bool clip = false;              // Whether LSTM cell states are clipped to [clip_min, clip_max].
  double clip_min = 0, clip_max = 0;  // The clipping range.
  bool clip_nan = false;          // Whether a NaN cell state becomes clip_min instead of propagating.

  // Gates per step: 1, 1, 4, 3.
  int64_t Gates() const;
  // Input features of layer `layer`.
  int64_t LayerInput(int64_t layer) const { return layer == 0 ? input : dirs * hidden; }
  // Offset of W_x[layer, dir] in the parameter vector (W_h follows it).
  int64_t WeightOffset(int64_t layer, int64_t dir) const;
  // Offset of b_x[layer, dir] in the parameter vector (b_h follows it).
  int64_t BiasOffset(int64_t layer, int64_t dir) const;
  // Length of the parameter vector (MXNet's count).
  int64_t ParamCount() const;
  // Saved gate values per step and hidden unit: 4 for LSTM and GRU, 0 for relu/tanh.
  int64_t SavedGates() const;
  // Elements of one layer/direction block of the reserve.
  int64_t CellBlock() const;
  // Elements of one layer-boundary block of the reserve.
  int64_t BoundaryBlock() const;
  // Offset of the block of (layer, dir) in the reserve.
  int64_t CellOffset(int64_t layer, int64_t dir) const { return (layer * dirs + dir) * CellBlock(); }
  // Offset of the boundary block after layer `layer` (< L-1) in the reserve.
  int64_t BoundaryOffset(int64_t layer) const { return layers * dirs * CellBlock() + layer * BoundaryBlock(); }
  // Length of the reserve.
  int64_t ReserveCount() const;
};

// Reads the parameters of RNN (or _rnn_backward) for data of shape `data`; throws ValueError naming `op` on
// bad values and NotImplementedError for projection_size.
RnnConfig ConfigFrom(const char* op, const OpParams& params, const Shape& data);

// Checks the parameters alone (what can be checked before the data shape is known).
void CheckRnnParams(const char* op, const OpParams& params);

// The operands of a forward call, in the compute type C (float or double). Optional ones are nullptr.
template <typename C>
struct RnnForwardArgs {
  const C* data = nullptr;        // (T, N, I).
  const C* params = nullptr;      // Note [RNN parameter layout].
  const C* state = nullptr;       // (L*D, N, H).
  const C* cell = nullptr;        // (L*D, N, H), LSTM only.
  const int64_t* lengths = nullptr;  // (N,), when use_lengths.
  C* out = nullptr;               // (T, N, D*H).
  C* state_out = nullptr;         // (L*D, N, H) or nullptr.
  C* cell_out = nullptr;          // (L*D, N, H) or nullptr.
  C* reserve = nullptr;           // Note [RNN saved activations].
  bool train = false;             // Whether dropout is applied.
  uint64_t seed = 0;              // Dropout's random stream.
};

// The operands of a backward call. Gradients are overwritten.
template <typename C>
struct RnnBackwardArgs {
  const C* data = nullptr;        // Forward inputs.
  const C* params = nullptr;
  const C* state = nullptr;
  const C* cell = nullptr;
  const int64_t* lengths = nullptr;
  const C* reserve = nullptr;     // What the forward saved.
  const C* out_grad = nullptr;    // (T, N, D*H).
  const C* state_out_grad = nullptr;  // (L*D, N, H) or nullptr (zero).
  const C* cell_out_grad = nullptr;   // (L*D, N, H) or nullptr (zero).
  C* data_grad = nullptr;         // (T, N, I).
  C* params_grad = nullptr;       // Like params.
  C* state_grad = nullptr;        // (L*D, N, H).
  C* cell_grad = nullptr;         // (L*D, N, H), LSTM only.
};

// Scratch memory for kernels: returns at least `bytes`, valid until the kernel returns.
using Scratch = std::function<void*(size_t bytes)>;

// Runs the forward recurrence (C is float or double).
template <typename C>
void RnnForward(const RnnConfig& config, const RnnForwardArgs<C>& args, const Scratch& scratch);

// Backpropagation through time over the saved activations (C is float or double).
template <typename C>
void RnnBackward(const RnnConfig& config, const RnnBackwardArgs<C>& args, const Scratch& scratch);

// c = alpha * op(a) * op(b) + beta * c for row-major matrices (op = transpose when the flag is set); c is
// m x n and op(a) is m x k; beta = 0 never reads c (Note [RNN GEMM] in rnn_cell.cc).
template <typename C>
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, C alpha, const C* a, int64_t lda, const C* b,
          int64_t ldb, C beta, C* c, int64_t ldc);

}  // namespace nn
}  // namespace ops
}  // namespace pmx

#endif  // POLYMIX_CORE_OPS_NN_RNN_INTERNAL_H_
