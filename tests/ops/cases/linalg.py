"""Oracles for the matrix-product and linear-algebra families: core/ops/dot.cc (dot, batch_dot and their
gradient helper) and core/ops/linalg*.cc (the _linalg_* operators and khatri_rao).

One Case per operator covers one parameter setting; test_linalg_extra.py sweeps the rest (every transpose
combination, N-d and 1-d operands, the `axis` of gemm, lower/upper triangles, float16)."""

import numpy as np

from cases.common import Case

CASES = {}


def _case(name, oracle, **kwargs):
    assert name not in CASES, name
    CASES[name] = Case(oracle, **kwargs)


# ---- NumPy references shared with test_linalg_extra.py ---------------------------------------------------

def dot(a, b, transpose_a=False, transpose_b=False, forward_stype=None):
    """MXNet's dot: 2-d views of N-d operands (see Note [dot on N-d arrays] in core/ops/dot.cc)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if a.ndim == 1 and b.ndim == 1:
        return np.array([np.dot(a64, b64)]).astype(a.dtype)
    a2 = a64.reshape(a.shape[0], -1).T if transpose_a else a64.reshape(-1, a.shape[-1])
    b2 = b64.reshape(-1, b.shape[-1]).T if transpose_b else b64.reshape(b.shape[0], -1)
    keep_a = (a.shape[1:] if transpose_a else a.shape[:-1]) if a.ndim > 1 else ()
    keep_b = (b.shape[:-1] if transpose_b else b.shape[1:]) if b.ndim > 1 else ()
    return (a2 @ b2).reshape(tuple(keep_a) + tuple(keep_b)).astype(a.dtype)


def batch_dot(a, b, transpose_a=False, transpose_b=False, forward_stype=None):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if transpose_a:
        a64 = np.swapaxes(a64, -1, -2)
    if transpose_b:
        b64 = np.swapaxes(b64, -1, -2)
    return np.matmul(a64, b64).astype(a.dtype)


def dot_output_2d(data, lhs, transpose_a=False):
    k = lhs.shape[0] if transpose_a else lhs.shape[-1]
    return data.reshape(lhs.size // k, -1)


_case("dot", dot, shapes=((2, 3, 4), (4, 5)))
_case("batch_dot", batch_dot, shapes=((2, 4, 3), (2, 5, 4)), params=dict(transpose_a=True, transpose_b=True))
_case("_dot_output_2d", dot_output_2d, shapes=((3, 2, 5), (3, 2, 4)), params=dict(transpose_a=False))


# ---- _linalg_* ------------------------------------------------------------------------------------------

def _rows_last(x, axis):
    return np.swapaxes(x.astype(np.float64), axis, -2)


def _op(x, transpose):
    return np.swapaxes(x, -1, -2) if transpose else x


def gemm(a, b, c, transpose_a=False, transpose_b=False, alpha=1.0, beta=1.0, axis=-2):
    out = alpha * _op(_rows_last(a, axis), transpose_a) @ _op(_rows_last(b, axis), transpose_b) \
        + beta * _rows_last(c, axis)
    return np.swapaxes(out, axis, -2).astype(a.dtype)


def gemm2(a, b, transpose_a=False, transpose_b=False, alpha=1.0, axis=-2):
    out = alpha * _op(_rows_last(a, axis), transpose_a) @ _op(_rows_last(b, axis), transpose_b)
    return np.swapaxes(out, axis, -2).astype(a.dtype)


def _symmetric_from(a, lower):
    t = np.tril(a) if lower else np.triu(a)
    return t + np.swapaxes(t, -1, -2) - np.einsum("...ii->...i", t)[..., None] * np.eye(a.shape[-1])


def potrf(a, lower=True):
    factor = np.linalg.cholesky(_symmetric_from(a.astype(np.float64), lower))
    return (factor if lower else np.swapaxes(factor, -1, -2)).astype(a.dtype)


def potri(a, lower=True):
    t = np.tril(a.astype(np.float64)) if lower else np.triu(a.astype(np.float64))
    product = t @ np.swapaxes(t, -1, -2) if lower else np.swapaxes(t, -1, -2) @ t
    return np.linalg.inv(product).astype(a.dtype)


def _triangular(a, lower, transpose):
    t = np.tril(a.astype(np.float64)) if lower else np.triu(a.astype(np.float64))
    return _op(t, transpose)


def trmm(a, b, transpose=False, rightside=False, lower=True, alpha=1.0):
    t = _triangular(a, lower, transpose)
    out = b.astype(np.float64) @ t if rightside else t @ b.astype(np.float64)
    return (alpha * out).astype(b.dtype)


def trsm(a, b, transpose=False, rightside=False, lower=True, alpha=1.0):
    inv = np.linalg.inv(_triangular(a, lower, transpose))
    out = b.astype(np.float64) @ inv if rightside else inv @ b.astype(np.float64)
    return (alpha * out).astype(b.dtype)


def syrk(a, transpose=False, alpha=1.0):
    v = a.astype(np.float64)
    out = np.swapaxes(v, -1, -2) @ v if transpose else v @ np.swapaxes(v, -1, -2)
    return (alpha * out).astype(a.dtype)


def _per_matrix(values, a):
    return np.asarray(values).reshape(a.shape[:-2] if a.ndim > 2 else (1,)).astype(a.dtype)


def sumlogdiag(a):
    return _per_matrix(np.log(np.einsum("...ii->...i", a.astype(np.float64))).sum(axis=-1), a)


def det(a):
    return _per_matrix(np.linalg.det(a.astype(np.float64)), a)


def slogdet(a):
    sign, logdet = np.linalg.slogdet(a.astype(np.float64))
    return [_per_matrix(sign, a), _per_matrix(logdet, a)]


def inverse(a):
    return np.linalg.inv(a.astype(np.float64)).astype(a.dtype)


def extractdiag(a, offset=0):
    return np.diagonal(a, offset=offset, axis1=-2, axis2=-1).copy()


def makediag(a, offset=0):
    n = a.shape[-1] + abs(offset)
    out = np.zeros(a.shape[:-1] + (n, n), dtype=a.dtype)
    for index in np.ndindex(*a.shape[:-1]):
        out[index] = np.diag(a[index], k=offset)
    return out


def _trian_positions(n, offset, lower):
    """(row, col) of the packed entries in order (Note [Packed triangles] in linalg_shape.cc)."""
    k = abs(offset)
    if offset < 0 or (offset == 0 and lower):
        return [(r, c) for r in range(k, n) for c in range(r - k + 1)]
    return [(r, c) for c in range(k, n) for r in range(c - k + 1)]


def extracttrian(a, offset=0, lower=True):
    positions = _trian_positions(a.shape[-1], offset, lower)
    return np.stack([a[..., r, c] for r, c in positions], axis=-1)


def maketrian(a, offset=0, lower=True):
    m = int(round((np.sqrt(8 * a.shape[-1] + 1) - 1) / 2))
    n = m + abs(offset)
    out = np.zeros(a.shape[:-1] + (n, n), dtype=a.dtype)
    for index, (r, c) in enumerate(_trian_positions(n, offset, lower)):
        out[..., r, c] = a[..., index]
    return out


def khatri_rao(*matrices, num_args=None):
    out = matrices[0].astype(np.float64)
    for m in matrices[1:]:
        out = np.einsum("ik,jk->ijk", out, m.astype(np.float64)).reshape(-1, m.shape[1])
    return out.astype(matrices[0].dtype)


def spd_inputs(shape):
    """Symmetric positive-definite matrices of `shape` (..., n, n)."""
    def make(rng, dtype):
        x = rng.uniform(-1, 1, size=shape)
        return [x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])]
    return make


def _factor_inputs(shape):
    def make(rng, dtype):
        return [potrf(spd_inputs(shape)(rng, dtype)[0])]
    return make


def _well_conditioned(shape, extra=None):
    """Matrices with a dominant diagonal (plus, optionally, more random inputs of the `extra` shapes)."""
    def make(rng, dtype):
        a = rng.uniform(-1, 1, size=shape) + 3 * np.eye(shape[-1])
        return [a] + [rng.uniform(-1, 1, size=s) for s in (extra or [])]
    return make


_case("_linalg_gemm", gemm, shapes=((3, 2, 4), (4, 2, 5), (3, 2, 5)), params=dict(alpha=0.5, beta=2.0, axis=0))
_case("_linalg_gemm2", gemm2, shapes=((2, 4, 3), (2, 5, 4)),
      params=dict(transpose_a=True, transpose_b=True, alpha=1.5))
_case("_linalg_potrf", potrf, make_inputs=spd_inputs((2, 3, 3)), grad=False)
_case("_linalg_potri", potri, make_inputs=_factor_inputs((2, 3, 3)))
_case("_linalg_trmm", trmm, shapes=((2, 3, 3), (2, 2, 3)), params=dict(rightside=True, transpose=True, alpha=2.0))
_case("_linalg_trsm", trsm, make_inputs=_well_conditioned((2, 3, 3), [(2, 3, 2)]),
      params=dict(lower=False, alpha=0.5))
_case("_linalg_syrk", syrk, shapes=((2, 3, 2),), params=dict(alpha=0.5))
_case("_linalg_sumlogdiag", sumlogdiag, make_inputs=_well_conditioned((2, 3, 3)))
_case("_linalg_inverse", inverse, make_inputs=_well_conditioned((2, 3, 3)))
_case("_linalg_det", det, make_inputs=_well_conditioned((3, 3)))
_case("_linalg_slogdet", slogdet, make_inputs=_well_conditioned((2, 3, 3)))
_case("_linalg_extractdiag", extractdiag, shapes=((2, 4, 4),), params=dict(offset=-1))
_case("_linalg_makediag", makediag, shapes=((2, 3),), params=dict(offset=1))
_case("_linalg_extracttrian", extracttrian, shapes=((2, 4, 4),), params=dict(offset=0, lower=False))
_case("_linalg_maketrian", maketrian, shapes=((2, 6),), params=dict(offset=-1))
_case("khatri_rao", khatri_rao, shapes=((2, 3), (4, 3), (2, 3)), params=dict(num_args=3))


def gelqf(a):
    """LQ through NumPy's (LAPACK) QR of A^T: A^T = Q' R, so A = R^T Q'^T with LAPACK's sign convention."""
    q, r = np.linalg.qr(np.swapaxes(a.astype(np.float64), -1, -2))
    return [np.swapaxes(q, -1, -2).astype(a.dtype), np.swapaxes(r, -1, -2).astype(a.dtype)]


def syevd(a):
    values, vectors = np.linalg.eigh(a.astype(np.float64), UPLO="L")
    u = np.swapaxes(vectors, -1, -2)
    largest = np.take_along_axis(u, np.abs(u).argmax(axis=-1)[..., None], axis=-1)
    return [(u * np.where(largest < 0, -1.0, 1.0)).astype(a.dtype), values.astype(a.dtype)]


_case("_linalg_gelqf", gelqf, shapes=((2, 2, 4),))
_case("_linalg_syevd", syevd, make_inputs=spd_inputs((2, 3, 3)), grad=False)
