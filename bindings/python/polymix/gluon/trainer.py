"""Gluon's Trainer (MXNet 1.x's mx.gluon.Trainer): applies an mx.optimizer Optimizer to a set of Parameters.

step(batch_size) = allreduce_grads() (sums gradients across devices when a parameter lives on several) followed
by update(batch_size) (the optimizer's update with rescale_grad = optimizer.rescale_grad / batch_size, one Updater
per device). Key-value stores are not implemented yet: `kvstore` is accepted and ignored, and multi-device
reduction is done here, as MXNet's 'device' store would.
"""

import warnings

from .. import ndarray, optimizer as opt
from .parameter import Parameter, ParameterDict

__all__ = ["Trainer"]


class Trainer:
    """Updates `params` (a ParameterDict, dict or list of Parameters) with `optimizer` (a name such as 'sgd' or
    an Optimizer) and its `optimizer_params` ({'learning_rate': 0.1, ...})."""

    def __init__(self, params, optimizer, optimizer_params=None, kvstore="device", compression_params=None,
                 update_on_kvstore=None):
        if isinstance(params, (dict, ParameterDict)):
            params = [params[key] for key in sorted(list(params.keys()))]
        if not isinstance(params, (list, tuple)):
            raise ValueError("First argument must be a list or dict of Parameters, got %s." % type(params))
        self._params = []
        self._param2idx = {}
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise ValueError("First argument must be a list or dict of Parameters, got list of %s."
                                 % type(param))
            self._param2idx[param.name] = i
            self._params.append(param)
            param._set_trainer(self)
        if update_on_kvstore:
            raise NotImplementedError("Trainer(update_on_kvstore=True): key-value stores are not implemented yet")
        _warn_kvstore(kvstore)
        self._kvstore_type = kvstore
        self._compression_params = compression_params
        self._update_on_kvstore = False
        self._kvstore = None
        self._kv_initialized = False
        self._distributed = False
        self._contexts = self._check_contexts()
        self._init_optimizer(optimizer, optimizer_params if optimizer_params else {})
        self._scale = self._optimizer.rescale_grad

    def _check_contexts(self):
        """The devices of the parameters, which must all be the same (or deferred)."""
        contexts = None
        for param in self._params:
            try:
                ctx = param.list_ctx()
            except RuntimeError:
                continue
            if contexts is not None and contexts != ctx:
                raise ValueError("All Parameters must be initialized on the same set of contexts, but Parameter %s "
                                 "is initialized on %s while previous Parameters are initialized on %s."
                                 % (param.name, str(ctx), str(contexts)))
            contexts = ctx
        return contexts

    def _init_optimizer(self, optimizer, optimizer_params):
        param_dict = {i: param for i, param in enumerate(self._params)}
        if isinstance(optimizer, opt.Optimizer):
            if optimizer_params:
                raise ValueError("optimizer_params must be None if optimizer is an instance of Optimizer instead of "
                                 "str")
            self._optimizer = optimizer
            self._optimizer.param_dict = param_dict
        else:
            self._optimizer = opt.create(optimizer, param_dict=param_dict, **optimizer_params)
        self._updaters = [opt.get_updater(self._optimizer) for _ in (self._contexts or [None])]

    def _init_kvstore(self):
        """Resolves the devices once every parameter is initialized (no store is created yet)."""
        self._contexts = self._check_contexts()
        if self._contexts is not None and len(self._updaters) != len(self._contexts):
            self._updaters = [opt.get_updater(self._optimizer) for _ in self._contexts]
        self._kv_initialized = True

    @property
    def learning_rate(self):
        """The optimizer's current learning rate."""
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate can be accessed.")
        return self._optimizer.learning_rate

    @property
    def optimizer(self):
        """The Optimizer."""
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has not been initialized yet")
        return self._optimizer

    def set_learning_rate(self, lr):
        """Sets the optimizer's learning rate (not allowed with an lr_scheduler)."""
        if not isinstance(self._optimizer, opt.Optimizer):
            raise UserWarning("Optimizer has to be defined before its learning rate is mutated.")
        self._optimizer.set_learning_rate(lr)

    def _check_and_rescale_grad(self, scale):
        self._optimizer.rescale_grad = scale

    def step(self, batch_size, ignore_stale_grad=False):
        """One optimization step: reduces the gradients across devices, then updates every parameter with
        gradients normalized by 1/batch_size."""
        self._check_and_rescale_grad(self._scale / batch_size)
        if not self._kv_initialized:
            self._init_kvstore()
        self._allreduce_grads()
        self._update(ignore_stale_grad)

    def allreduce_grads(self):
        """Sums every parameter's gradient across its devices (for updating with update() afterwards, e.g. after
        clipping)."""
        if not self._kv_initialized:
            self._init_kvstore()
        self._allreduce_grads()

    def _allreduce_grads(self):
        for param in self._params:
            if param.grad_req == "null":
                continue
            grads = param.list_grad()
            if len(grads) < 2:
                continue
            total = ndarray.add_n(*[grad.as_in_context(grads[0].context) for grad in grads])
            for grad in grads:
                total.copyto(grad)

    def update(self, batch_size, ignore_stale_grad=False):
        """Updates the parameters from their (already reduced) gradients, normalized by 1/batch_size."""
        if not self._kv_initialized:
            self._init_kvstore()
        self._check_and_rescale_grad(self._scale / batch_size)
        self._update(ignore_stale_grad)

    def _update(self, ignore_stale_grad=False):
        # As MXNet: a parameter whose gradient no backward has written since the last update is an error
        # (raised as UserWarning) unless ignore_stale_grad, which skips it instead (no momentum, no weight decay).
        # Unlike MXNet, every parameter is checked before any flag is cleared, so a raising step changes nothing.
        params = [(i, param) for i, param in enumerate(self._params) if param.grad_req != "null"]
        if not ignore_stale_grad:
            for _, param in params:
                for weight in param.list_data():
                    if not weight._fresh_grad:
                        raise UserWarning(
                            "Gradient of Parameter `%s` on context %s has not been updated by backward since the "
                            "last `step`: the model used only some of its Parameters (Blocks) in this iteration, "
                            "which may be a bug. If that is intended, call step with ignore_stale_grad=True, "
                            "which skips the Parameters with stale gradients." % (param.name, str(weight.context)))
        updates = [[] for _ in self._updaters]
        for i, param in params:
            for device_updates, weight, grad in zip(updates, param.list_data(), param.list_grad()):
                if weight._fresh_grad:
                    device_updates.append((i, grad, weight))
                    weight._fresh_grad = False
        for updater, device_updates in zip(self._updaters, updates):
            if device_updates:
                indices, grads, weights = zip(*device_updates)
                updater(list(indices), list(grads), list(weights))

    def save_states(self, fname):
        """Writes the optimizer's state (momenta, update counts, the optimizer itself) to `fname`."""
        if not self._kv_initialized:
            self._init_kvstore()
        with open(fname, "wb") as stream:
            stream.write(self._updaters[0].get_states(dump_optimizer=True))

    def load_states(self, fname):
        """Reads the optimizer's state written by save_states."""
        if not self._kv_initialized:
            self._init_kvstore()
        with open(fname, "rb") as stream:
            states = stream.read()
        for updater in self._updaters:
            updater.set_states(states)
            updater.optimizer = self._updaters[0].optimizer
        self._optimizer = self._updaters[0].optimizer
        self._optimizer.param_dict = {i: param for i, param in enumerate(self._params)}


def _warn_kvstore(kvstore):
    """Says once per Trainer that a distributed or custom store is not used."""
    if kvstore not in (None, "device", "local"):
        warnings.warn("Trainer(kvstore=%r): key-value stores are not implemented yet; gradients are reduced "
                      "locally" % (kvstore,))
