"""mx.lr_scheduler: learning-rate schedules (MXNet 1.9.1's classes): the LRScheduler base (with warmup) for
custom schedules, and FactorScheduler, MultiFactorScheduler, PolyScheduler, CosineScheduler computed by
core/optim's schedules.

Schedules are stateful callables as in MXNet (Note [Scheduler state] in core/optim/lr_scheduler.h): Factor
and MultiFactor decay `base_lr` in place, and an optimizer overwrites `base_lr` with its learning_rate. A
built-in schedule pickles its constructor arguments, its current base_lr and the largest update count it has
seen, which rebuild the core schedule's state exactly.
"""

from . import _core
from .base import _param_str

__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler", "CosineScheduler"]


class LRScheduler:
    """The base of every schedule: __call__(num_update) returns the learning rate after num_update updates
    (the largest update count of any weight). Warmup covers num_update < warmup_steps: 'linear' goes from
    warmup_begin_lr towards base_lr in equal steps, 'constant' stays at warmup_begin_lr."""

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        if not isinstance(warmup_steps, int):
            raise TypeError("warmup_steps must be an int, got %s" % type(warmup_steps).__name__)
        if warmup_begin_lr > base_lr:
            raise ValueError("Base lr has to be higher than warmup_begin_lr")
        if warmup_steps < 0:
            raise ValueError("Warmup steps has to be positive or 0")
        if warmup_mode not in ("linear", "constant"):
            raise ValueError("Supports only linear and constant modes of warmup")
        self.base_lr = base_lr
        self.warmup_steps = warmup_steps
        self.warmup_final_lr = base_lr
        self.warmup_begin_lr = warmup_begin_lr
        self.warmup_mode = warmup_mode

    def get_warmup_lr(self, num_update):
        """The learning rate at update num_update < warmup_steps."""
        if num_update >= self.warmup_steps:
            raise ValueError("num_update %d is past the warmup (%d steps)" % (num_update, self.warmup_steps))
        if self.warmup_mode == "constant":
            return self.warmup_begin_lr
        increase = (self.warmup_final_lr - self.warmup_begin_lr) * float(num_update) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, num_update):
        """The learning rate after num_update updates."""
        raise NotImplementedError("must override this")


class _CoreScheduler(LRScheduler):
    """A schedule computed by core/optim's schedule `_core_name` from the constructor's keyword arguments."""

    _core_name = None

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._max_seen = None  # The largest num_update asked for (Note [Scheduler state]).
        self._make_core()
        warmup = {key: kwargs[key] for key in ("base_lr", "warmup_steps", "warmup_begin_lr", "warmup_mode")}
        LRScheduler.__init__(self, **warmup)

    def _make_core(self):
        core = _core.create_lr_scheduler(self._core_name, {key: _param_str(value)
                                                           for key, value in self._kwargs.items()})
        self.__dict__["_core"] = core

    @property
    def base_lr(self):
        """The current base learning rate (decayed in place by Factor and MultiFactor)."""
        return self._core.base_lr

    @base_lr.setter
    def base_lr(self, value):
        self._core.base_lr = float(value)

    def __call__(self, num_update):
        if self._max_seen is None or num_update > self._max_seen:
            self._max_seen = num_update
        return self._core(int(num_update))

    def __getstate__(self):
        state = {key: value for key, value in self.__dict__.items() if key != "_core"}
        state["_base_lr"] = self.base_lr
        return state

    def __setstate__(self, state):
        state = dict(state)
        base_lr = state.pop("_base_lr")
        self.__dict__.update(state)
        self._make_core()
        # Replaying the largest update count restores the decay steps passed; then the base rate itself.
        if self._max_seen is not None:
            self._core(int(self._max_seen))
        self.base_lr = base_lr


class FactorScheduler(_CoreScheduler):
    """base_lr * factor**k after k whole `step`s of updates, never below stop_factor_lr."""

    _core_name = "factor"

    def __init__(self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(step=step, factor=factor, stop_factor_lr=stop_factor_lr, base_lr=base_lr,
                         warmup_steps=warmup_steps, warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        self.step = step
        self.factor = factor
        self.stop_factor_lr = stop_factor_lr


class MultiFactorScheduler(_CoreScheduler):
    """base_lr * factor**k once num_update has passed k of the increasing `step` list."""

    _core_name = "multifactor"

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear"):
        if not isinstance(step, list) or not step:
            raise ValueError("step must be a non-empty list of update counts, got %r" % (step,))
        super().__init__(step=step, factor=factor, base_lr=base_lr, warmup_steps=warmup_steps,
                         warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        self.step = step
        self.factor = factor


class PolyScheduler(_CoreScheduler):
    """final_lr + (base_lr - final_lr) * (1 - (n - warmup_steps) / (max_update - warmup_steps))**pwr up to
    max_update, then final_lr."""

    _core_name = "poly"

    def __init__(self, max_update, base_lr=0.01, pwr=2, final_lr=0, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        if not isinstance(max_update, int):
            raise TypeError("max_update must be an int, got %s" % type(max_update).__name__)
        super().__init__(max_update=max_update, base_lr=base_lr, pwr=pwr, final_lr=final_lr,
                         warmup_steps=warmup_steps, warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        self.power = pwr
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = max_update - warmup_steps


class CosineScheduler(_CoreScheduler):
    """final_lr + (base_lr - final_lr) * (1 + cos(pi * (n - warmup_steps) / (max_update - warmup_steps))) / 2
    up to max_update, then final_lr."""

    _core_name = "cosine"

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        if not isinstance(max_update, int):
            raise TypeError("max_update must be an int, got %s" % type(max_update).__name__)
        super().__init__(max_update=max_update, base_lr=base_lr, final_lr=final_lr, warmup_steps=warmup_steps,
                         warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        self.base_lr_orig = base_lr
        self.max_update = max_update
        self.final_lr = final_lr
        self.max_steps = max_update - warmup_steps
