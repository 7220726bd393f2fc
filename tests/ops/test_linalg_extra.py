"""Checks of the _linalg_* operators beyond one Case per operator: every transpose/side/triangle flag, the
row `axis` of gemm/gemm2, upper Cholesky factors, the symmetric gradient of potrf (Note [Cholesky gradients
are symmetric] in core/ops/linalg_factor.cc), packed-triangle offsets, and clear errors."""

import itertools

import numpy as np
import pytest

import pmx_ctypes as pmx
from cases import linalg as la
from test_nn_dnnl_extra import _check_forward, _gradient_check, _uniform


@pytest.mark.parametrize("ta,tb,axis", list(itertools.product([False, True], [False, True], [-2, 0, 1])))
def test_gemm_transposes_and_axis(ta, tb, axis):
    rng = np.random.default_rng(1)
    # Matrices (rows on `axis`, columns last) in a 4-d tensor; the other two axes are batch axes (2 and 3).
    def tensor(rows, cols):
        position = axis % 4
        return [2, 3][:position] + [rows] + [2, 3][position:] + [cols]
    a = _uniform(rng, *tensor(*((4, 3) if ta else (3, 4))))
    b = _uniform(rng, *tensor(*((5, 4) if tb else (4, 5))))
    c = _uniform(rng, *tensor(3, 5))
    params = dict(transpose_a=ta, transpose_b=tb, alpha=0.7, axis=axis)
    _check_forward("_linalg_gemm2", la.gemm2, [a, b], params)
    _check_forward("_linalg_gemm", la.gemm, [a, b, c], dict(params, beta=-1.5))
    small = [v[:1] if axis != 0 else v[:, :1] for v in (a, b, c)]
    _gradient_check("_linalg_gemm", small, dict(params, beta=-1.5))


def test_gemm_alias_and_errors():
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(pmx.invoke("linalg_gemm2", [a, b])[0], np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match=r"^\[_linalg_gemm2\] A and B have shapes \(2, 3\) and \(2, 4\)"):
        pmx.invoke("_linalg_gemm2", [a, np.ones((2, 4), np.float32)])


@pytest.mark.parametrize("lower", [True, False])
def test_potrf_and_potri_both_triangles(lower):
    rng = np.random.default_rng(2)
    (spd,) = la.spd_inputs((2, 4, 4))(rng, "float64")
    _check_forward("_linalg_potrf", la.potrf, [spd], dict(lower=lower))
    (factor,) = pmx.invoke("_linalg_potrf", [spd], lower=lower)
    _check_forward("_linalg_potri", la.potri, [factor], dict(lower=lower))
    np.testing.assert_allclose(pmx.invoke("_linalg_potri", [factor], lower=lower)[0], np.linalg.inv(spd), rtol=1e-8)
    _gradient_check("_linalg_potri", [factor[:1, :3, :3]], dict(lower=lower))


@pytest.mark.parametrize("lower", [True, False])
def test_potrf_gradient_along_symmetric_directions(lower):
    rng = np.random.default_rng(3)
    (a,) = la.spd_inputs((3, 3))(rng, "float64")
    (out,) = pmx.invoke("_linalg_potrf", [a], lower=lower)
    head = np.tril(_uniform(rng, 3, 3)) if lower else np.triu(_uniform(rng, 3, 3))
    (grad,) = pmx.gradient("_linalg_potrf", [a], [head], lower=lower)
    np.testing.assert_allclose(grad, grad.T, atol=1e-12)  # MXNet's symmetric convention.
    step = 1e-6
    for i, j in itertools.product(range(3), repeat=2):
        direction = np.zeros((3, 3))
        direction[i, j] += 1
        direction[j, i] += 1 if i != j else 0
        plus = pmx.invoke("_linalg_potrf", [a + step * direction], lower=lower)[0]
        minus = pmx.invoke("_linalg_potrf", [a - step * direction], lower=lower)[0]
        numeric = float(((plus - minus) * head).sum()) / (2 * step)
        np.testing.assert_allclose((grad * direction).sum(), numeric, rtol=1e-5, atol=1e-7)


def test_potrf_rejects_indefinite_matrices():
    with pytest.raises(ValueError, match=r"^\[_linalg_potrf\] matrix 1 of the batch is not positive definite"):
        pmx.invoke("_linalg_potrf", [np.stack([np.eye(2), -np.eye(2)]).astype(np.float32)])


@pytest.mark.parametrize("transpose,rightside,lower", list(itertools.product([False, True], repeat=3)))
def test_trmm_and_trsm_every_flag(transpose, rightside, lower):
    rng = np.random.default_rng(4)
    a = _uniform(rng, 2, 3, 3) + 3 * np.eye(3)
    b = _uniform(rng, 2, *((2, 3) if rightside else (3, 2)))
    params = dict(transpose=transpose, rightside=rightside, lower=lower, alpha=1.5)
    for op, oracle in (("_linalg_trmm", la.trmm), ("_linalg_trsm", la.trsm)):
        _check_forward(op, oracle, [a, b], params)
        _gradient_check(op, [a[:1], b[:1]], params)


@pytest.mark.parametrize("transpose", [False, True])
def test_syrk_both_ways(transpose):
    rng = np.random.default_rng(5)
    a = _uniform(rng, 2, 3, 4)
    _check_forward("_linalg_syrk", la.syrk, [a], dict(transpose=transpose, alpha=2.0))
    _gradient_check("_linalg_syrk", [a[:1]], dict(transpose=transpose, alpha=2.0))


@pytest.mark.parametrize("offset,lower", [(0, True), (0, False), (1, True), (2, False), (-1, True), (-2, False)])
def test_packed_triangles_round_trip(offset, lower):
    rng = np.random.default_rng(6)
    a = _uniform(rng, 2, 4, 4)
    params = dict(offset=offset, lower=lower)
    _check_forward("_linalg_extracttrian", la.extracttrian, [a], params)
    (packed,) = pmx.invoke("_linalg_extracttrian", [a], **params)
    _check_forward("_linalg_maketrian", la.maketrian, [packed], params)
    (rebuilt,) = pmx.invoke("_linalg_maketrian", [packed], **params)
    (again,) = pmx.invoke("_linalg_extracttrian", [rebuilt], **params)
    np.testing.assert_array_equal(again, packed)


def test_packed_upper_triangle_is_column_major():
    a = np.arange(9, dtype=np.float32).reshape(3, 3)
    np.testing.assert_array_equal(pmx.invoke("_linalg_extracttrian", [a], lower=False)[0], [0, 1, 4, 2, 5, 8])
    np.testing.assert_array_equal(pmx.invoke("_linalg_extracttrian", [a])[0], [0, 3, 4, 6, 7, 8])


@pytest.mark.parametrize("offset", [-2, 0, 1])
def test_diagonals(offset):
    rng = np.random.default_rng(7)
    a = _uniform(rng, 2, 4, 4)
    _check_forward("_linalg_extractdiag", la.extractdiag, [a], dict(offset=offset))
    _check_forward("_linalg_makediag", la.makediag, [a[:, 0]], dict(offset=offset))


def test_determinants_of_singular_and_single_matrices():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    sign, logdet = pmx.invoke("_linalg_slogdet", [singular])
    assert sign.shape == (1,) and sign[0] == 0 and logdet[0] == -np.inf
    (det,) = pmx.invoke("_linalg_det", [np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)])
    np.testing.assert_allclose(det, [5.0], rtol=1e-6)
    with pytest.raises(ValueError, match=r"^\[_linalg_inverse\] matrix 0 of the batch is singular"):
        pmx.invoke("_linalg_inverse", [singular])


def test_khatri_rao_matches_mxnet_example():
    a = np.array([[1, -1], [2, -3]], np.float32)
    b = np.array([[1, 4], [2, 5], [3, 6]], np.float32)
    (c,) = pmx.invoke("khatri_rao", [a, b], num_args=2)
    np.testing.assert_array_equal(c, [[1, -4], [2, -5], [3, -6], [2, -12], [4, -15], [6, -18]])


def test_syevd_gradient_along_symmetric_directions():
    rng = np.random.default_rng(8)
    x = _uniform(rng, 3, 3)
    a = x + x.T + np.diag([3.0, 0.0, -3.0])  # Well separated eigenvalues.
    heads = [_uniform(rng, 3, 3), _uniform(rng, 3)]
    (grad,) = pmx.gradient("_linalg_syevd", [a], heads)
    np.testing.assert_allclose(grad, grad.T, atol=1e-12)
    step = 1e-6
    for i, j in itertools.product(range(3), repeat=2):
        if j > i:
            continue
        direction = np.zeros((3, 3))
        direction[i, j] = direction[j, i] = 1
        plus = pmx.invoke("_linalg_syevd", [a + step * direction])
        minus = pmx.invoke("_linalg_syevd", [a - step * direction])
        numeric = sum(float(((p - m) * h).sum()) for p, m, h in zip(plus, minus, heads)) / (2 * step)
        np.testing.assert_allclose((grad * direction).sum(), numeric, rtol=1e-5, atol=1e-7)


def test_syevd_reconstructs_and_gelqf_factors():
    rng = np.random.default_rng(9)
    (a,) = la.spd_inputs((2, 4, 4))(rng, "float64")
    u, values = pmx.invoke("_linalg_syevd", [a])
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ (values[..., None] * u), a, atol=1e-10)
    b = _uniform(rng, 2, 3, 5)
    q, l = pmx.invoke("_linalg_gelqf", [b])
    np.testing.assert_allclose(l @ q, b, atol=1e-12)
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)
    with pytest.raises(ValueError, match=r"^\[_linalg_gelqf\] A has shape \(4, 3\)"):
        pmx.invoke("_linalg_gelqf", [np.ones((4, 3))])
