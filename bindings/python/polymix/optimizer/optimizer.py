"""The Optimizer base class, the optimizer registry and the Updater (MXNet 1.9.1's mx.optimizer).

The bookkeeping is MXNet's, in Python, so that subclasses, Gluon's Trainer and pickled states behave as in
MXNet (Note [Python keeps MXNet's bookkeeping] in bindings/python/src/optim.cc): update counts per device,
num_update, lr/wd multipliers by index, name or Parameter (param_dict), the learning-rate schedule. The
built-in optimizers (optimizers.py) run their update rule in the core with the lr, wd and count computed here.
"""

import pickle
import warnings

import numpy as np

from ..ndarray import NDArray
from ..ndarray import op as _op

__all__ = ["Optimizer", "Updater", "create", "get_updater", "register"]


class Optimizer:
    """The base class of every optimizer (MXNet's mx.optimizer.Optimizer).

    Parameters: rescale_grad (multiplies gradients, often 1/batch_size), param_idx2name (index -> name, which
    sets wd_mult 0 for names not ending in _weight or _gamma), wd (weight decay), clip_gradient (clips
    gradients to [-c, c]; None or <= 0 is off), learning_rate (None: the schedule's, else 0.01), lr_scheduler,
    sym (a Symbol whose __lr_mult__ / __wd_mult__ attributes give multipliers), begin_num_update,
    multi_precision (keep a float32 master copy of float16 weights), param_dict (index -> gluon Parameter
    whose lr_mult / wd_mult apply).
    """

    opt_registry = {}

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None, learning_rate=None,
                 lr_scheduler=None, sym=None, begin_num_update=0, multi_precision=False, param_dict=None):
        self.rescale_grad = rescale_grad
        self.lr_scheduler = lr_scheduler
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        if lr_scheduler is not None and learning_rate is not None and lr_scheduler.base_lr != learning_rate:
            warnings.warn("learning rate from ``lr_scheduler`` has been overwritten by ``learning_rate`` in "
                          "optimizer.", UserWarning, stacklevel=2)
            lr_scheduler.base_lr = learning_rate
        self.wd = wd
        self.lr_mult = {}
        self.wd_mult = {}
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        # Per device id: index -> update count (Updater switches with _set_current_context).
        self._all_index_update_counts = {0: {}}
        self._index_update_count = self._all_index_update_counts[0]
        self.clip_gradient = clip_gradient
        self.multi_precision = multi_precision
        self.aggregate_num = 0
        if param_idx2name is None:
            param_idx2name = {}
        if not isinstance(param_idx2name, dict):
            raise TypeError("param_idx2name should be a dict of param indexes to names.")
        self.idx2name = param_idx2name.copy()
        self.sym_info = (sym.attr_dict(), sym.list_arguments()) if sym is not None else ()
        self.param_dict = param_dict if param_dict else {}
        self.allow_np_array = False
        self.set_lr_mult({})
        self.set_wd_mult({})

    # ---- Registry ------------------------------------------------------------------------------------

    @staticmethod
    def register(klass):
        """Registers an optimizer class under its lower-case name, for create('name')."""
        if not isinstance(klass, type):
            raise TypeError("register expects a class, got %r" % (klass,))
        name = klass.__name__.lower()
        existing = Optimizer.opt_registry.get(name)
        if existing is not None and existing is not klass:
            warnings.warn("WARNING: New optimizer %s.%s is overriding existing optimizer %s.%s"
                          % (klass.__module__, klass.__name__, existing.__module__, existing.__name__))
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        """An optimizer by registered name (case-insensitive) with constructor arguments."""
        klass = Optimizer.opt_registry.get(name.lower())
        if klass is None:
            raise ValueError("Cannot find optimizer %s (registered: %s)"
                             % (name, ", ".join(sorted(Optimizer.opt_registry))))
        return klass(**kwargs)

    # ---- Learning rate and multipliers ---------------------------------------------------------------

    @property
    def learning_rate(self):
        """The current learning rate: the schedule's at num_update, else lr."""
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr):
        """Sets lr; UserWarning (raised, as MXNet does) when a schedule decides the rate."""
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of the optimizer "
                              "only when the LRScheduler of the optimizer is undefined.")
        self.lr = lr

    def set_lr_scale(self, args_lrscale):  # pylint: disable=unused-argument
        """[DEPRECATED] Use set_lr_mult."""
        raise DeprecationWarning

    def set_lr_mult(self, args_lr_mult):
        """Replaces the lr multipliers (by parameter name, or by index) with the symbol's __lr_mult__
        attributes plus `args_lr_mult`."""
        self.lr_mult = {}
        if self.sym_info:
            attr, arg_names = self.sym_info
            for name in arg_names:
                if name in attr and "__lr_mult__" in attr[name]:
                    self.lr_mult[name] = float(attr[name]["__lr_mult__"])
        self.lr_mult.update(args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        """Replaces the wd multipliers: 0 for named parameters not ending in _weight or _gamma, the symbol's
        __wd_mult__ attributes, then `args_wd_mult`."""
        self.wd_mult = {}
        for name in self.idx2name.values():
            if not (name.endswith("_weight") or name.endswith("_gamma")):
                self.wd_mult[name] = 0.0
        if self.sym_info:
            attr, arg_names = self.sym_info
            for name in arg_names:
                if name in attr and "__wd_mult__" in attr[name]:
                    self.wd_mult[name] = float(attr[name]["__wd_mult__"])
        self.wd_mult.update(args_wd_mult)

    def _set_current_context(self, device_id):
        """Switches the update counts to those of device `device_id` (one set per device, as MXNet)."""
        if device_id not in self._all_index_update_counts:
            self._all_index_update_counts[device_id] = {}
        self._index_update_count = self._all_index_update_counts[device_id]

    def _update_count(self, index):
        """Counts an update of `index` (an int or a list of them) and raises num_update to the largest count."""
        for idx in index if isinstance(index, (list, tuple)) else [index]:
            if idx not in self._index_update_count:
                self._index_update_count[idx] = self.begin_num_update
            self._index_update_count[idx] += 1
            self.num_update = max(self._index_update_count[idx], self.num_update)

    def _multiplier(self, index, attribute, by_key):
        if index in self.param_dict:
            return getattr(self.param_dict[index], attribute)
        if index in by_key:
            return by_key[index]
        if index in self.idx2name:
            return by_key.get(self.idx2name[index], 1.0)
        return 1.0

    def _get_lrs(self, indices):
        """The learning rates of `indices`: current rate times each one's multiplier."""
        lr = self.lr_scheduler(self.num_update) if self.lr_scheduler is not None else self.lr
        return [lr * self._multiplier(index, "lr_mult", self.lr_mult) for index in indices]

    def _get_lr(self, index):
        """The learning rate of `index`."""
        return self._get_lrs([index])[0]

    def _get_wds(self, indices):
        """The weight decays of `indices`: wd times each one's multiplier."""
        return [self.wd * self._multiplier(index, "wd_mult", self.wd_mult) for index in indices]

    def _get_wd(self, index):
        """The weight decay of `index`."""
        return self._get_wds([index])[0]

    # ---- States and updates (subclasses override create_state and update) ------------------------------

    def create_state(self, index, weight):
        """The optimizer state of a weight (momentum, moments, ...); None when it has none."""
        return None

    def create_state_multi_precision(self, index, weight):
        """create_state, plus a float32 master copy of a float16 weight under multi_precision:
        (master copy, state)."""
        if self.multi_precision and weight.dtype == np.float16:
            weight_master_copy = weight.astype(np.float32)
            return (weight_master_copy,) + (self.create_state(index, weight_master_copy),)
        if weight.dtype == np.float16 and not self.multi_precision:
            warnings.warn("Accumulating with float16 in optimizer can lead to poor accuracy or slow convergence. "
                          "Consider using multi_precision=True option of the optimizer")
        return self.create_state(index, weight)

    def update(self, index, weight, grad, state):
        """Updates `weight` in place from `grad` and the state of create_state."""
        raise NotImplementedError()

    def update_multi_precision(self, index, weight, grad, state):
        """update, through the float32 master copy for a float16 weight under multi_precision."""
        if self.multi_precision and weight.dtype == np.float16:
            weight_master_copy, original_state = state[0], state[1]
            self.update(index, weight_master_copy, grad.astype(np.float32), original_state)
            _op.cast(weight_master_copy, dtype=weight.dtype, out=weight)
        else:
            self.update(index, weight, grad, state)

    # ---- Pickling (Trainer.save_states dumps the optimizer with its states) ------------------------------

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("param_dict", None)  # Parameters are not pickled; the Trainer sets them again.
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.param_dict = {}


register = Optimizer.register  # pylint: disable=invalid-name
create = Optimizer.create_optimizer  # pylint: disable=invalid-name


class Updater:
    """Applies an optimizer to (index, grad, weight) triples, creating and keeping one state per index
    (MXNet's mx.optimizer.Updater, what get_updater returns and Gluon's Trainer calls)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}
        self.states_synced = {}
        self.aggregate_updates = optimizer.aggregate_num > 0

    def __call__(self, index, grad, weight):
        """Updates `weight` from `grad`; index, grad and weight may be lists of the same length."""
        if isinstance(index, (list, tuple)):
            indices, grads, weights = list(index), list(grad), list(weight)
        else:
            indices, grads, weights = [index], [grad], [weight]
        if weights:
            self.optimizer._set_current_context(weights[0].context.device_id)
        for i, idx in enumerate(indices):
            if isinstance(idx, bytes):
                idx = indices[i] = idx.decode()
            if idx not in self.states:
                self.states[idx] = self.optimizer.create_state_multi_precision(idx, weights[i])
                self.states_synced[idx] = True
            elif not self.states_synced[idx]:
                self.states[idx] = self.sync_state_context(self.states[idx], weights[i].context)
                self.states_synced[idx] = True
        if self.aggregate_updates:
            self._aggregated(indices, weights, grads)
        else:
            for i, w, g in zip(indices, weights, grads):
                self.optimizer.update_multi_precision(i, w, g, self.states[i])

    def _aggregated(self, indices, weights, grads):
        """Updates in chunks of aggregate_num weights of one dtype (optimizers with multi-tensor updates)."""
        by_dtype = {}
        for i, w, g in zip(indices, weights, grads):
            by_dtype.setdefault(w.dtype, []).append((i, w, g))
        size = self.optimizer.aggregate_num
        for group in by_dtype.values():
            for start in range(0, len(group), size):
                chunk = group[start:start + size]
                chunk_indices, chunk_weights, chunk_grads = (list(items) for items in zip(*chunk))
                self.optimizer.update_multi_precision(chunk_indices, chunk_weights, chunk_grads,
                                                      [self.states[i] for i in chunk_indices])

    def sync_state_context(self, state, context):
        """The state with every array moved to `context`."""
        if isinstance(state, NDArray):
            return state.as_in_context(context)
        if isinstance(state, (tuple, list)):
            synced = [self.sync_state_context(item, context) for item in state]
            return tuple(synced) if isinstance(state, tuple) else synced
        return state

    def set_states(self, states):
        """Restores states (and the optimizer, when it was dumped with them) from get_states' bytes."""
        states = pickle.loads(states)
        if isinstance(states, tuple) and len(states) == 2:
            self.states, self.optimizer = states
        else:
            self.states = states
        self.states_synced = dict.fromkeys(self.states.keys(), False)

    def get_states(self, dump_optimizer=False):
        """The pickled states (with the optimizer when dump_optimizer), for Trainer.save_states."""
        return pickle.dumps((self.states, self.optimizer) if dump_optimizer else self.states)


def get_updater(optimizer):
    """An Updater for `optimizer`: updater(index, grad, weight)."""
    return Updater(optimizer)
