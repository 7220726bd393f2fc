#include "core/backend/cpu/dnnl_pool_norm.h"

#include <cstring>

#include "core/backend/cpu/dnnl_common.h"

namespace pmx {
namespace cpu {
namespace {

using dnnl::memory;

// A primitive with the descriptors its arguments need.
struct Prepared {
  dnnl::primitive primitive;
  memory::desc scratchpad, workspace;
};

memory::dims Dims(const int64_t* values, int count) { return memory::dims(values, values + count); }

dnnl::algorithm PoolKind(PoolAlgorithm algorithm) {
  switch (algorithm) {
    case PoolAlgorithm::kMax: return dnnl::algorithm::pooling_max;
    case PoolAlgorithm::kAvgIncludePad: return dnnl::algorithm::pooling_avg_include_padding;
    default: return dnnl::algorithm::pooling_avg_exclude_padding;
  }
}

PrimitiveKey PoolKey(bool backward, PoolAlgorithm algorithm, const PoolGeometry& g) {
  PrimitiveKey key;
  key.Add(backward).Add(static_cast<int64_t>(algorithm)).Add(g.spatial).Add(g.batch).Add(g.channels);
  for (int d = 0; d < g.spatial; ++d) {
    key.Add(g.in[d]).Add(g.out[d]).Add(g.kernel[d]).Add(g.stride[d]).Add(g.pad_l[d]).Add(g.pad_r[d]);
  }
  return key;
}

memory::desc PoolSrc(const PoolGeometry& g) {
  memory::dims dims = {g.batch, g.channels};
  for (int d = 0; d < g.spatial; ++d) dims.push_back(g.in[d]);
  return PlainDesc(dims);
}

memory::desc PoolDst(const PoolGeometry& g) {
  memory::dims dims = {g.batch, g.channels};
  for (int d = 0; d < g.spatial; ++d) dims.push_back(g.out[d]);
  return PlainDesc(dims);
}

dnnl::pooling_forward::desc PoolForwardDesc(dnnl::prop_kind kind, PoolAlgorithm algorithm, const PoolGeometry& g) {
  return dnnl::pooling_forward::desc(kind, PoolKind(algorithm), PoolSrc(g), PoolDst(g), Dims(g.stride, g.spatial),
                                     Dims(g.kernel, g.spatial), Dims(g.pad_l, g.spatial), Dims(g.pad_r, g.spatial));
}

// A cached primitive, or null when oneDNN rejects the configuration (also cached, so it is asked once).
template <typename Make>
std::shared_ptr<const Prepared> CachedOrNull(PrimitiveCache<Prepared>* cache, const PrimitiveKey& key, Make make) {
  auto prepared = cache->Get(key, [&] {
    try {
      return make();
    } catch (const dnnl::error&) {
      return Prepared{};
    }
  });
  return prepared->primitive ? prepared : nullptr;
}

memory::desc ChannelDesc(int64_t channels) { return PlainDesc({channels}); }

memory::desc BatchNormData(const BatchNormProblem& p) { return PlainDesc({p.outer, p.channels, 1, p.inner}); }

dnnl::normalization_flags BatchNormFlags(const BatchNormProblem& p) {
  auto flags = dnnl::normalization_flags::use_shift;
  if (p.use_scale) flags |= dnnl::normalization_flags::use_scale;
  if (p.global_stats) flags |= dnnl::normalization_flags::use_global_stats;
  return flags;
}

PrimitiveKey BatchNormKey(bool backward, const BatchNormProblem& p) {
  PrimitiveKey key;
  int32_t eps_bits;
  std::memcpy(&eps_bits, &p.eps, sizeof(eps_bits));
  key.Add(backward).Add(p.outer).Add(p.channels).Add(p.inner).Add(eps_bits).Add(p.global_stats).Add(p.use_scale);
  return key;
}

dnnl::batch_normalization_forward::primitive_desc BatchNormForwardPd(const BatchNormProblem& p, bool training) {
  return dnnl::batch_normalization_forward::primitive_desc(
      dnnl::batch_normalization_forward::desc(
          training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, BatchNormData(p), p.eps,
          BatchNormFlags(p)),
      DnnlAttr(), DnnlEngine());
}

memory::desc LrnData(const LrnProblem& p) { return PlainDesc({p.batch, p.channels, 1, p.inner}); }

dnnl::lrn_forward::primitive_desc LrnForwardPd(const LrnProblem& p, bool training) {
  return dnnl::lrn_forward::primitive_desc(
      dnnl::lrn_forward::desc(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                              dnnl::algorithm::lrn_across_channels, LrnData(p), p.size, p.alpha, p.beta, p.k),
      DnnlAttr(), DnnlEngine());
}

PrimitiveKey LrnKey(int pass, const LrnProblem& p) {
  PrimitiveKey key;
  int32_t bits[3];
  std::memcpy(&bits[0], &p.alpha, 4);
  std::memcpy(&bits[1], &p.beta, 4);
  std::memcpy(&bits[2], &p.k, 4);
  key.Add(pass).Add(p.batch).Add(p.channels).Add(p.inner).Add(p.size).Add(bits[0]).Add(bits[1]).Add(bits[2]);
  return key;
}

}  // namespace

bool DnnlPoolingForward(PoolAlgorithm algorithm, const PoolGeometry& g, const float* src, float* dst) {
  static auto* cache = new PrimitiveCache<Prepared>(32);
  auto pool = CachedOrNull(cache, PoolKey(false, algorithm, g), [&] {
    dnnl::pooling_forward::primitive_desc pd(PoolForwardDesc(dnnl::prop_kind::forward_inference, algorithm, g),
                                             DnnlAttr(), DnnlEngine());
    return Prepared{dnnl::pooling_forward(pd), pd.scratchpad_desc(), memory::desc()};
  });
  if (!pool) return false;
  DnnlExecute(pool->primitive, {{DNNL_ARG_SRC, WrapMemory(PoolSrc(g), src)}, {DNNL_ARG_DST, WrapMemory(PoolDst(g), dst)}},
              pool->scratchpad);
  return true;
}

bool DnnlPoolingBackward(PoolAlgorithm algorithm, const PoolGeometry& g, const float* diff_dst, float* diff_src) {
  if (algorithm == PoolAlgorithm::kMax) return false;  // Needs the forward workspace; callers use loops.
  static auto* cache = new PrimitiveCache<Prepared>(32);
  auto pool = CachedOrNull(cache, PoolKey(true, algorithm, g), [&] {
    dnnl::pooling_forward::primitive_desc hint(PoolForwardDesc(dnnl::prop_kind::forward_training, algorithm, g),
                                               DnnlAttr(), DnnlEngine());
    dnnl::pooling_backward::primitive_desc pd(
        dnnl::pooling_backward::desc(PoolKind(algorithm), PoolSrc(g), PoolDst(g), Dims(g.stride, g.spatial),
                                     Dims(g.kernel, g.spatial), Dims(g.pad_l, g.spatial), Dims(g.pad_r, g.spatial)),
        DnnlAttr(), DnnlEngine(), hint);
    return Prepared{dnnl::pooling_backward(pd), pd.scratchpad_desc(), memory::desc()};
  });
  if (!pool) return false;
  DnnlExecute(pool->primitive,
              {{DNNL_ARG_DIFF_DST, WrapMemory(PoolDst(g), diff_dst)}, {DNNL_ARG_DIFF_SRC, WrapMemory(PoolSrc(g), diff_src)}},
              pool->scratchpad);
  return true;
}

void DnnlBatchNormForward(const BatchNormProblem& p, const float* src, const float* scale, const float* shift,
                          float* mean, float* variance, float* dst) {
  static auto* cache = new PrimitiveCache<Prepared>(32);
  auto bn = cache->Get(BatchNormKey(false, p), [&] {
    auto pd = BatchNormForwardPd(p, !p.global_stats);
    return Prepared{dnnl::batch_normalization_forward(pd), pd.scratchpad_desc(), memory::desc()};
  });
  const memory::desc data = BatchNormData(p), channel = ChannelDesc(p.channels);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, WrapMemory(data, src)},
                                          {DNNL_ARG_DST, WrapMemory(data, dst)},
                                          {DNNL_ARG_MEAN, WrapMemory(channel, mean)},
                                          {DNNL_ARG_VARIANCE, WrapMemory(channel, variance)},
                                          {DNNL_ARG_SHIFT, WrapMemory(channel, shift)}};
  if (p.use_scale) args.emplace(DNNL_ARG_SCALE, WrapMemory(channel, scale));
  DnnlExecute(bn->primitive, std::move(args), bn->scratchpad);
}

void DnnlBatchNormBackward(const BatchNormProblem& p, const float* src, const float* diff_dst, const float* scale,
                           const float* mean, const float* variance, float* diff_src, float* diff_scale,
                           float* diff_shift) {
  static auto* cache = new PrimitiveCache<Prepared>(32);
  auto bn = cache->Get(BatchNormKey(true, p), [&] {
    auto hint = BatchNormForwardPd(p, true);
    dnnl::batch_normalization_backward::primitive_desc pd(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, BatchNormData(p), BatchNormData(p), p.eps,
                                                 BatchNormFlags(p)),
        DnnlAttr(), DnnlEngine(), hint);
    return Prepared{dnnl::batch_normalization_backward(pd), pd.scratchpad_desc(), memory::desc()};
  });
  const memory::desc data = BatchNormData(p), channel = ChannelDesc(p.channels);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, WrapMemory(data, src)},
                                          {DNNL_ARG_DIFF_DST, WrapMemory(data, diff_dst)},
                                          {DNNL_ARG_DIFF_SRC, WrapMemory(data, diff_src)},
                                          {DNNL_ARG_MEAN, WrapMemory(channel, mean)},
                                          {DNNL_ARG_VARIANCE, WrapMemory(channel, variance)},
                                          {DNNL_ARG_DIFF_SHIFT, WrapMemory(channel, diff_shift)}};
  // oneDNN lists the shift among the backward pass's inputs although the result does not depend on it.
  args.emplace(DNNL_ARG_SHIFT, WrapMemory(channel, ThreadBuffer(6, channel.get_size())));
  if (p.use_scale) {
    args.emplace(DNNL_ARG_SCALE, WrapMemory(channel, scale));
    args.emplace(DNNL_ARG_DIFF_SCALE, WrapMemory(channel, diff_scale));
  }
  DnnlExecute(bn->primitive, std::move(args), bn->scratchpad);
}

void DnnlLrnForward(const LrnProblem& p, const float* src, float* dst) {
  static auto* cache = new PrimitiveCache<Prepared>(16);
  auto lrn = cache->Get(LrnKey(0, p), [&] {
    auto pd = LrnForwardPd(p, false);
    return Prepared{dnnl::lrn_forward(pd), pd.scratchpad_desc(), memory::desc()};
  });
  DnnlExecute(lrn->primitive, {{DNNL_ARG_SRC, WrapMemory(LrnData(p), src)}, {DNNL_ARG_DST, WrapMemory(LrnData(p), dst)}},
              lrn->scratchpad);
}

void DnnlLrnBackward(const LrnProblem& p, const float* src, const float* diff_dst, float* diff_src) {
  // The backward primitive reads the forward's workspace, so the training forward runs first into buffers.
  struct LrnPair {
    Prepared forward, backward;
  };
  static auto* cache = new PrimitiveCache<LrnPair>(16);
  auto pair = cache->Get(LrnKey(1, p), [&] {
    auto forward = LrnForwardPd(p, true);
    dnnl::lrn_backward::primitive_desc backward(
        dnnl::lrn_backward::desc(dnnl::algorithm::lrn_across_channels, LrnData(p), LrnData(p), p.size, p.alpha, p.beta,
                                 p.k),
        DnnlAttr(), DnnlEngine(), forward);
    return LrnPair{Prepared{dnnl::lrn_forward(forward), forward.scratchpad_desc(), forward.workspace_desc()},
                   Prepared{dnnl::lrn_backward(backward), backward.scratchpad_desc(), backward.workspace_desc()}};
  });
  const memory::desc data = LrnData(p);
  const memory workspace = WrapMemory(pair->forward.workspace, ThreadBuffer(4, pair->forward.workspace.get_size() + 1));
  const memory scratch_dst = WrapMemory(data, ThreadBuffer(5, data.get_size()));
  std::unordered_map<int, memory> forward_args = {
      {DNNL_ARG_SRC, WrapMemory(data, src)}, {DNNL_ARG_DST, scratch_dst}};
  if (pair->forward.workspace.get_size() > 0) forward_args.emplace(DNNL_ARG_WORKSPACE, workspace);
  DnnlExecute(pair->forward.primitive, std::move(forward_args), pair->forward.scratchpad);
  std::unordered_map<int, memory> backward_args = {{DNNL_ARG_SRC, WrapMemory(data, src)},
                                                   {DNNL_ARG_DIFF_DST, WrapMemory(data, diff_dst)},
                                                   {DNNL_ARG_DIFF_SRC, WrapMemory(data, diff_src)}};
  if (pair->forward.workspace.get_size() > 0) backward_args.emplace(DNNL_ARG_WORKSPACE, workspace);
  DnnlExecute(pair->backward.primitive, std::move(backward_args), pair->backward.scratchpad);
}

}  // namespace cpu
}  // namespace pmx
