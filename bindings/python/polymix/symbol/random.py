"""mx.sym.random: sampling nodes with MXNet 1.x's signatures. Number parameters make a _random_<name> node;
Symbol parameters a _sample_<name> node (samples per parameter element). *_like come from _gen_random."""

from ..base import _Null, numeric_types
from . import _internal
from ._gen_random import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import
from ._gen_random import __all__ as _like_names
from .symbol import Symbol

__all__ = ["uniform", "normal", "poisson", "exponential", "gamma", "multinomial", "negative_binomial",
           "generalized_negative_binomial", "shuffle", "randint"] + list(_like_names)


def _random_helper(random, sampler, params, shape, dtype, kwargs):
    kinds = (Symbol,) if isinstance(params[0], Symbol) else numeric_types
    if not isinstance(params[0], (Symbol,) + numeric_types):
        raise ValueError("Distribution parameters must be either Symbol or numbers, but got %s."
                         % type(params[0]).__name__)
    for param in params[1:]:
        if not isinstance(param, kinds):
            raise TypeError("Distribution parameters must all have the same type, but got both %s and %s."
                            % (type(params[0]).__name__, type(param).__name__))
    function = sampler if kinds == (Symbol,) else random
    return function(*params, shape=shape, dtype=dtype, **kwargs)


def uniform(low=0, high=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from U[low, high)."""
    return _random_helper(_internal._random_uniform, _internal._sample_uniform, [low, high], shape, dtype, kwargs)


def normal(loc=0, scale=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from N(loc, scale^2)."""
    return _random_helper(_internal._random_normal, _internal._sample_normal, [loc, scale], shape, dtype, kwargs)


def poisson(lam=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a Poisson distribution with rate lam."""
    return _random_helper(_internal._random_poisson, _internal._sample_poisson, [lam], shape, dtype, kwargs)


def exponential(scale=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from an exponential distribution with mean `scale`."""
    return _random_helper(_internal._random_exponential, _internal._sample_exponential, [1.0 / scale], shape,
                          dtype, kwargs)


def gamma(alpha=1, beta=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a gamma distribution with shape alpha and scale beta."""
    return _random_helper(_internal._random_gamma, _internal._sample_gamma, [alpha, beta], shape, dtype, kwargs)


def negative_binomial(k=1, p=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a negative binomial distribution."""
    return _random_helper(_internal._random_negative_binomial, _internal._sample_negative_binomial, [k, p], shape,
                          dtype, kwargs)


def generalized_negative_binomial(mu=1, alpha=1, shape=_Null, dtype=_Null, **kwargs):
    """Samples from a generalized negative binomial distribution."""
    return _random_helper(_internal._random_generalized_negative_binomial,
                          _internal._sample_generalized_negative_binomial, [mu, alpha], shape, dtype, kwargs)


def multinomial(data, shape=_Null, get_prob=True, dtype="int32", **kwargs):
    """Samples category indices from the distributions in the last axis of `data`."""
    return _internal._sample_multinomial(data, shape=shape, get_prob=get_prob, dtype=dtype, **kwargs)


def shuffle(data, **kwargs):
    """`data` with its first axis randomly permuted."""
    return _internal._shuffle(data, **kwargs)


def randint(low, high, shape=_Null, dtype=_Null, **kwargs):
    """Integers sampled uniformly from [low, high)."""
    return _internal._random_randint(low, high, shape=shape, dtype=dtype, **kwargs)
