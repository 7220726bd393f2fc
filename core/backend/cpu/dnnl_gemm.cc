#include "core/backend/cpu/dnnl_gemm.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "core/backend/cpu/dnnl_common.h"

namespace pmx {
namespace cpu {
namespace {

using dnnl::memory;

struct MatmulPrimitive {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
};

// A (batch, rows, cols) descriptor of a row-major batch stored as (batch, cols, rows) when `transposed`.
memory::desc MatrixDesc(int64_t batch, int64_t rows, int64_t cols, bool transposed, bool broadcast) {
  const int64_t batch_stride = broadcast ? 0 : rows * cols;
  if (transposed) return StridedDesc({batch, rows, cols}, {batch_stride, 1, rows});
  return StridedDesc({batch, rows, cols}, {batch_stride, cols, 1});
}

MatmulPrimitive MakeMatmul(const MatmulProblem& p) {
  if (p.has_bias && p.alpha != 1.0f) throw std::invalid_argument("DnnlMatmul: alpha != 1 with a bias");
  const memory::desc a = MatrixDesc(p.batch, p.m, p.k, p.trans_a, false);
  // A broadcast B has batch dimension 1 in oneDNN's terms.
  const memory::desc b = p.broadcast_b ? MatrixDesc(1, p.k, p.n, p.trans_b, false)
                                       : MatrixDesc(p.batch, p.k, p.n, p.trans_b, false);
  const memory::desc c = PlainDesc({p.batch, p.m, p.n});
  dnnl::primitive_attr attr = DnnlAttr();
  if (p.alpha != 1.0f) attr.set_output_scales(0, {p.alpha});
  if (p.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::primitive_desc pd =
      p.has_bias ? dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, PlainDesc({1, 1, p.n}), c), attr, DnnlEngine())
                 : dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, DnnlEngine());
  return MatmulPrimitive{pd, dnnl::matmul(pd)};
}

}  // namespace

void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // dnnl_sgemm rejects k = 0 (lda would be 0): C = beta * C.
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    }
    return;
  }
  const dnnl_status_t status =
      dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (status != dnnl_success) throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(status));
}

void DnnlMatmul(const MatmulProblem& p, const float* a, const float* b, const float* bias, float* c) {
  if (p.batch == 0 || p.m == 0 || p.n == 0) return;
  if (p.k == 0) {  // oneDNN rejects empty products: the result is the bias (or nothing) alone.
    for (int64_t row = 0; row < p.batch * p.m; ++row) {
      for (int64_t j = 0; j < p.n; ++j) {
        float& out = c[row * p.n + j];
        out = (p.accumulate ? out : 0.0f) + (p.has_bias ? bias[j] : 0.0f);
      }
    }
    return;
  }
  static auto* cache = new PrimitiveCache<MatmulPrimitive>(64);
  PrimitiveKey key;
  key.Add(p.batch).Add(p.m).Add(p.n).Add(p.k).Add(p.trans_a).Add(p.trans_b).Add(p.broadcast_b).Add(p.has_bias);
  int32_t alpha_bits;
  std::memcpy(&alpha_bits, &p.alpha, sizeof(alpha_bits));
  key.Add(p.accumulate).Add(alpha_bits);
  auto matmul = cache->Get(key, [&] { return MakeMatmul(p); });
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, WrapMemory(matmul->pd.src_desc(), a)},
      {DNNL_ARG_WEIGHTS, WrapMemory(matmul->pd.weights_desc(), b)},
      {DNNL_ARG_DST, WrapMemory(matmul->pd.dst_desc(), c)}};
  if (p.has_bias) args.emplace(DNNL_ARG_BIAS, WrapMemory(matmul->pd.bias_desc(), bias));
  DnnlExecute(matmul->primitive, std::move(args), matmul->pd.scratchpad_desc());
}

}  // namespace cpu
}  // namespace pmx
