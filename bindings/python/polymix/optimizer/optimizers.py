"""The built-in optimizers (MXNet 1.9.1's classes, names and defaults; AdamW as in MXNet 2): SGD, ccSGD, NAG,
Signum, Adam, AdamW, RMSProp, AdaGrad, AdaDelta, Ftrl, LAMB.

Each is an Optimizer whose update rule runs in the core (core/optim, through _core.Optimizer.update_with):
Python counts the update and computes the index's learning rate and weight decay as MXNet does
(optimizer.py), the core runs the registered update operators. Hyper-parameters are plain attributes as in
MXNet (opt.momentum, opt.rescale_grad, ...); setting one also sets it in the core. States have MXNet's
shapes: None or one NDArray for SGD, NAG and Signum, one NDArray for AdaGrad, a tuple otherwise, and
(master copy, state) under multi_precision — (state, master copy) for SGD and NAG.
"""

import warnings

import numpy as np

from .. import _core
from ..base import _param_str
from ..ndarray import NDArray
from .optimizer import Optimizer, register

__all__ = ["SGD", "ccSGD", "NAG", "Signum", "Adam", "AdamW", "RMSProp", "AdaGrad", "AdaDelta", "Ftrl", "LAMB"]

# Python attribute -> core hyper-parameter, for every optimizer (lr and wd travel with each step).
_COMMON_PARAMS = {"rescale_grad": "rescale_grad", "clip_gradient": "clip_gradient"}


class _CoreOptimizer(Optimizer):
    """An optimizer whose update rule is core/optim's `_core_name`."""

    _core_name = None
    _core_params = {}           # This optimizer's own Python attribute -> core hyper-parameter.
    _single_state = False       # States are None / one NDArray rather than a tuple.
    _master_copy_last = False   # Multi-precision state (state, master copy) rather than (master copy, state).

    def _start_core(self):
        """Creates the core optimizer and gives it every hyper-parameter set so far."""
        core = _core.create_optimizer(self._core_name, {})
        for attribute, param in self._param_map().items():
            if attribute in self.__dict__:
                core.set_param(param, _param_str(self.__dict__[attribute]))
        object.__setattr__(self, "_core", core)

    @classmethod
    def _param_map(cls):
        return dict(_COMMON_PARAMS, **cls._core_params)

    def __setattr__(self, name, value):
        core = self.__dict__.get("_core")
        if core is not None:
            param = self._param_map().get(name)
            if param is not None:
                core.set_param(param, _param_str(value))  # Validates before the attribute changes.
        object.__setattr__(self, name, value)

    # ---- States ---------------------------------------------------------------------------------------

    def _state_from(self, handles):
        arrays = [NDArray._from_handle(handle) for handle in handles]
        if self._single_state:
            return arrays[0] if arrays else None
        return tuple(arrays)

    @staticmethod
    def _handles_of(state):
        if state is None:
            return []
        if isinstance(state, NDArray):
            return [state.handle]
        return [array.handle for array in state]

    def create_state(self, index, weight):
        return self._state_from(self._core.create_state(_core_index(index), weight.handle))

    def create_state_multi_precision(self, index, weight):
        if self.multi_precision and weight.dtype == np.float16:
            master_copy = weight.astype(np.float32)
            state = self.create_state(index, master_copy)
            return (state, master_copy) if self._master_copy_last else (master_copy, state)
        if weight.dtype == np.float16:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow convergence. "
                          "Consider using multi_precision=True option of the %s optimizer" % type(self).__name__)
        return self.create_state(index, weight)

    # ---- Updates --------------------------------------------------------------------------------------

    def _step(self, index, weight, grad, state_handles, master_copy):
        if not isinstance(weight, NDArray) or not isinstance(grad, NDArray):
            raise TypeError("%s.update: weight and grad must be NDArrays, got %s and %s"
                            % (type(self).__name__, type(weight).__name__, type(grad).__name__))
        self._update_count(index)
        lr = self._get_lr(index)
        wd = self._get_wd(index)
        self._core.update_with(_core_index(index), lr, wd, self._index_update_count[index], weight.handle,
                               grad.handle, state_handles, None if master_copy is None else master_copy.handle)

    def update(self, index, weight, grad, state):
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update(i, w, g, s)
            return
        self._step(index, weight, grad, self._handles_of(state), None)

    def update_multi_precision(self, index, weight, grad, state):
        if isinstance(index, (list, tuple)):
            for i, w, g, s in zip(index, weight, grad, state):
                self.update_multi_precision(i, w, g, s)
            return
        if not (self.multi_precision and weight.dtype == np.float16 and isinstance(state, (tuple, list))):
            self.update(index, weight, grad, state)
            return
        inner, master_copy = (state[0], state[1]) if self._master_copy_last else (state[1], state[0])
        self._step(index, weight, grad, self._handles_of(inner), master_copy)

    # ---- Pickling: the core optimizer is rebuilt from the attributes ----------------------------------

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_core", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._start_core()


def _core_index(index):
    """The index the core names in its messages (kvstore keys may be strings)."""
    return index if isinstance(index, (int, np.integer)) else -1


@register
class SGD(_CoreOptimizer):
    """SGD with momentum and weight decay:
    state = momentum * state - lr * (rescale_grad * clip(grad) + wd * weight); weight += state
    (momentum 0: weight -= lr * (rescale_grad * clip(grad) + wd * weight)). lazy_update only matters for
    sparse gradients, which Polymix does not have."""

    _core_name = "sgd"
    _core_params = {"momentum": "momentum", "lazy_update": "lazy_update"}
    _single_state = True
    _master_copy_last = True

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.lazy_update = lazy_update
        self._start_core()


@register
class ccSGD(SGD):  # pylint: disable=invalid-name
    """[Deprecated] The same as SGD."""


@register
class NAG(_CoreOptimizer):
    """Nesterov accelerated gradient (nag_mom_update; sgd_update without momentum)."""

    _core_name = "nag"
    _core_params = {"momentum": "momentum"}
    _single_state = True
    _master_copy_last = True

    def __init__(self, momentum=0.0, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self._start_core()


@register
class Signum(_CoreOptimizer):
    """signSGD (momentum 0) and Signum: state = momentum * state + (1 - momentum) * (rescale_grad * clip(grad)
    + wd * weight); weight = (1 - lr * wd_lh) * weight - lr * sign(state)."""

    _core_name = "signum"
    _core_params = {"momentum": "momentum", "wd_lh": "wd_lh"}
    _single_state = True

    def __init__(self, learning_rate=0.01, momentum=0.9, wd_lh=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum
        self.wd_lh = wd_lh
        self._start_core()


@register
class Adam(_CoreOptimizer):
    """Adam (adam_update) with the bias correction sqrt(1 - beta2**t) / (1 - beta1**t) folded into lr, t the
    weight's update count. State: (mean, variance)."""

    _core_name = "adam"
    _core_params = {"beta1": "beta1", "beta2": "beta2", "epsilon": "epsilon", "lazy_update": "lazy_update"}

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lazy_update = lazy_update
        self._start_core()


@register
class AdamW(_CoreOptimizer):
    """Adam with decoupled weight decay (MXNet 2's AdamW; MXNet 1.x had only the operator):
    weight -= eta * (mean / (sqrt(var) + epsilon) + wd * weight), eta the learning rate, bias-corrected when
    correct_bias. use_fused_step is accepted for MXNet 2 code; the step is always the core's."""

    _core_name = "adamw"
    _core_params = {"beta1": "beta1", "beta2": "beta2", "epsilon": "epsilon", "correct_bias": "correct_bias"}

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6, correct_bias=True,
                 use_fused_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.correct_bias = correct_bias
        self.use_fused_step = use_fused_step
        self._start_core()


@register
class RMSProp(_CoreOptimizer):
    """RMSProp: Tieleman & Hinton's (rmsprop_update, state (n,)) or, centered, Graves' (rmspropalex_update,
    state (n, g, delta)); clip_weights clips the weights after each step."""

    _core_name = "rmsprop"
    _core_params = {"gamma1": "gamma1", "gamma2": "gamma2", "epsilon": "epsilon", "centered": "centered",
                    "clip_weights": "clip_weights"}

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8, centered=False,
                 clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1 = gamma1
        self.gamma2 = gamma2
        self.centered = centered
        self.epsilon = epsilon
        self.clip_weights = clip_weights
        self._start_core()


@register
class AdaGrad(_CoreOptimizer):
    """AdaGrad: history += g**2; weight -= lr * (g / sqrt(history + eps) + wd * weight), g the rescaled,
    clipped gradient. State: the history NDArray."""

    _core_name = "adagrad"
    _core_params = {"float_stable_eps": "eps"}
    _single_state = True

    def __init__(self, eps=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.float_stable_eps = eps
        self._start_core()


@register
class AdaDelta(_CoreOptimizer):
    """AdaDelta (no learning rate): acc_g = rho * acc_g + (1 - rho) * g**2; delta = sqrt(acc_delta + eps) /
    sqrt(acc_g + eps) * g; acc_delta = rho * acc_delta + (1 - rho) * delta**2; weight -= delta + wd * weight.
    State: (acc_g, acc_delta)."""

    _core_name = "adadelta"
    _core_params = {"rho": "rho", "epsilon": "epsilon"}

    def __init__(self, rho=0.90, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.rho = rho
        self.epsilon = epsilon
        self._start_core()


@register
class Ftrl(_CoreOptimizer):
    """FTRL-Proximal (ftrl_update). State: (z, n)."""

    _core_name = "ftrl"
    _core_params = {"lamda1": "lamda1", "beta": "beta"}

    def __init__(self, lamda1=0.01, learning_rate=0.1, beta=1, **kwargs):
        super().__init__(**kwargs)
        self.lamda1 = lamda1
        self.beta = beta
        self.lr = learning_rate
        self._start_core()


@register
class LAMB(_CoreOptimizer):
    """LAMB: lamb_update_phase1 (Adam-style direction plus wd * weight), lamb_update_phase2 (scaled by the
    trust ratio |weight| / |direction|, |weight| clipped to [lower_bound, upper_bound]). State: (mean, var).
    Under multi_precision the master copy is updated (MXNet's only reads it; docs/optim.md)."""

    _core_name = "lamb"
    _core_params = {"beta1": "beta1", "beta2": "beta2", "epsilon": "epsilon", "lower_bound": "lower_bound",
                    "upper_bound": "upper_bound", "bias_correction": "bias_correction"}

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-6, lower_bound=None,
                 upper_bound=None, bias_correction=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self.bias_correction = bias_correction
        self._start_core()
