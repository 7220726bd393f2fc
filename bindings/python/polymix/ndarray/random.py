"""mx.nd.random: sampling with MXNet 1.x's signatures. Number parameters draw `shape` samples from one
distribution (_random_<name>); NDArray parameters draw `shape` samples per parameter element
(_sample_<name>). The *_like samplers are generated from the schema (_gen_random)."""

from ..base import _Null, numeric_types
from ..context import current_context
from . import _internal
from ._gen_random import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from ._gen_random import __all__ as _like_names
from .ndarray import NDArray

__all__ = ["uniform", "normal", "randn", "poisson", "exponential", "gamma", "multinomial", "negative_binomial",
           "generalized_negative_binomial", "shuffle", "randint"] + list(_like_names)


def _random_helper(random, sampler, params, shape, dtype, ctx, out, kwargs):
    """Calls `sampler` when the parameters are NDArrays, `random` when they are numbers (as MXNet does)."""
    if isinstance(params[0], NDArray):
        for param in params[1:]:
            if not isinstance(param, NDArray):
                raise TypeError("Distribution parameters must all have the same type, but got both %s and %s."
                                % (type(params[0]).__name__, type(param).__name__))
        return sampler(*params, shape=shape, dtype=dtype, out=out, **kwargs)
    if isinstance(params[0], numeric_types):
        if ctx is None:
            ctx = current_context()
        if shape is _Null and out is None:
            shape = 1
        for param in params[1:]:
            if not isinstance(param, numeric_types):
                raise TypeError("Distribution parameters must all have the same type, but got both %s and %s."
                                % (type(params[0]).__name__, type(param).__name__))
        return random(*params, shape=shape, dtype=dtype, ctx=ctx, out=out, **kwargs)
    raise ValueError("Distribution parameters must be either NDArray or numbers, but got %s."
                     % type(params[0]).__name__)


def uniform(low=0, high=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from U[low, high)."""
    return _random_helper(_internal._random_uniform, _internal._sample_uniform, [low, high], shape, dtype, ctx,
                          out, kwargs)


def normal(loc=0, scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from N(loc, scale^2)."""
    return _random_helper(_internal._random_normal, _internal._sample_normal, [loc, scale], shape, dtype, ctx,
                          out, kwargs)


def randn(*shape, **kwargs):
    """Samples of the given shape from N(loc, scale^2): randn(2, 3, loc=0, scale=1)."""
    loc = kwargs.pop("loc", 0)
    scale = kwargs.pop("scale", 1)
    dtype = kwargs.pop("dtype", _Null)
    ctx = kwargs.pop("ctx", None)
    out = kwargs.pop("out", None)
    return _random_helper(_internal._random_normal, _internal._sample_normal, [loc, scale], shape, dtype, ctx,
                          out, kwargs)


def poisson(lam=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a Poisson distribution with rate lam."""
    return _random_helper(_internal._random_poisson, _internal._sample_poisson, [lam], shape, dtype, ctx, out,
                          kwargs)


def exponential(scale=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from an exponential distribution with mean `scale` (rate 1/scale)."""
    return _random_helper(_internal._random_exponential, _internal._sample_exponential, [1.0 / scale], shape,
                          dtype, ctx, out, kwargs)


def gamma(alpha=1, beta=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a gamma distribution with shape alpha and scale beta."""
    return _random_helper(_internal._random_gamma, _internal._sample_gamma, [alpha, beta], shape, dtype, ctx,
                          out, kwargs)


def negative_binomial(k=1, p=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a negative binomial distribution (k failures, success probability p)."""
    return _random_helper(_internal._random_negative_binomial, _internal._sample_negative_binomial, [k, p], shape,
                          dtype, ctx, out, kwargs)


def generalized_negative_binomial(mu=1, alpha=1, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Samples from a generalized negative binomial distribution (mean mu, dispersion alpha)."""
    return _random_helper(_internal._random_generalized_negative_binomial,
                          _internal._sample_generalized_negative_binomial, [mu, alpha], shape, dtype, ctx, out,
                          kwargs)


def multinomial(data, shape=_Null, get_prob=False, out=None, dtype="int32", **kwargs):
    """Samples category indices from the distributions in the last axis of `data`."""
    return _internal._sample_multinomial(data, shape=shape, get_prob=get_prob, out=out, dtype=dtype, **kwargs)


def shuffle(data, **kwargs):
    """A copy of `data` with its first axis randomly permuted."""
    return _internal._shuffle(data, **kwargs)


def randint(low, high, shape=_Null, dtype=_Null, ctx=None, out=None, **kwargs):
    """Integers sampled uniformly from [low, high)."""
    return _random_helper(_internal._random_randint, None, [low, high], shape, dtype, ctx, out, kwargs)
