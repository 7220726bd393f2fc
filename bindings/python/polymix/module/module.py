"""Module: MXNet 1.x's symbolic training module (mx.mod.Module) on one device, over Symbol.simple_bind and
mx.executor.Executor.

Note [One device, no executor group]
MXNet's Module drives a DataParallelExecutorGroup that slices each batch over several contexts and a KVStore
that reduces their gradients. Polymix binds one executor on one context, so the group collapses to that
executor and no KVStore is needed: kvstore='local'/'device'/None are accepted and ignored, and more than one
context is a NotImplementedError. What stays MXNet's: the grad_req of each argument (parameters 'write' unless
fixed, data only with inputs_need_grad, labels and states 'null'), the optimizer's parameter indices
(position in the parameter list, fixed ones included) and rescale_grad = 1 / batch_size, re-binding by
reshape from the first executor when a batch's shape changes (parameters, gradients and auxiliary states
stay shared), and the (arg_params, aux_params) copies that get_params keeps in sync lazily.
"""

import logging
import warnings
from collections import OrderedDict

from .. import context as ctx
from .. import optimizer as opt
from ..base import MXNetValueError, dtype_type
from ..initializer import InitDesc, Uniform
from ..io import DataDesc
from ..model import load_checkpoint
from ..ndarray import NDArray, zeros
from .base_module import BaseModule, _check_input_names, _parse_data_desc

__all__ = ["Module"]

# The kvstore values that mean "no reduction across devices" for one device (Note [One device, no executor
# group]); anything else is accepted with a warning.
_LOCAL_KVSTORES = (None, "local", "device")


def _one_context(context):
    """The module's single Context from a Context or a list of one."""
    if isinstance(context, ctx.Context):
        return context
    if isinstance(context, (list, tuple)):
        if len(context) == 1 and isinstance(context[0], ctx.Context):
            return context[0]
        if len(context) > 1:
            raise NotImplementedError("Module on more than one context is not implemented: Polymix binds one "
                                      "executor on one device (got %d contexts: %s); pass one context"
                                      % (len(context), ", ".join(str(c) for c in context)))
    raise TypeError("context must be a Context or a list of one Context, got %r" % (context,))


class Module(BaseModule):
    """A module over a Symbol (MXNet's mx.mod.Module): data_names and label_names are the symbol's inputs
    fed from data batches, state_names inputs kept between batches, fixed_param_names parameters left out
    of training; every other argument is a parameter. One context (Note [One device, no executor group])."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",), logger=logging,
                 context=ctx.cpu(), work_load_list=None, fixed_param_names=None, state_names=None,
                 group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        self._context = _one_context(context)
        if work_load_list is not None and len(work_load_list) != 1:
            raise ValueError("work_load_list must have one entry per context (1), got %d" % len(work_load_list))
        self._symbol = symbol
        data_names = list(data_names) if data_names is not None else []
        label_names = list(label_names) if label_names is not None else []
        state_names = list(state_names) if state_names is not None else []
        fixed_param_names = list(fixed_param_names) if fixed_param_names is not None else []
        _check_input_names(symbol, data_names, "data", True)
        _check_input_names(symbol, label_names, "label", False)
        _check_input_names(symbol, state_names, "state", True)
        _check_input_names(symbol, fixed_param_names, "fixed_param", True)

        input_names = data_names + label_names + state_names
        self._param_names = [name for name in symbol.list_arguments() if name not in input_names]
        self._fixed_param_names = fixed_param_names
        self._aux_names = symbol.list_auxiliary_states()
        self._data_names = data_names
        self._label_names = label_names
        self._state_names = state_names
        self._output_names = symbol.list_outputs()

        self._arg_params = None
        self._aux_params = None
        self._params_dirty = False
        self._compression_params = compression_params
        self._optimizer = None
        self._kvstore = None
        self._update_on_kvstore = False
        self._updater = None
        self._preload_opt_states = None
        self._grad_req = None
        self._exec = None
        self._default_exec = None
        self._data_shapes = None
        self._label_shapes = None
        self._batch_size = None

    # ---- Checkpoints ----------------------------------------------------------------------------------------

    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        """A Module over `prefix-symbol.json` with the parameters of `prefix-%04d.params` (bind it before
        use); load_optimizer_states reads `prefix-%04d.states` at init_optimizer. kwargs go to Module()."""
        symbol, arg_params, aux_params = load_checkpoint(prefix, epoch)
        mod = Module(symbol=symbol, **kwargs)
        mod._arg_params = arg_params
        mod._aux_params = aux_params
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        """Writes `prefix-symbol.json`, `prefix-%04d.params` and, with save_optimizer_states,
        `prefix-%04d.states`."""
        self._symbol.save("%s-symbol.json" % prefix, remove_amp_cast=remove_amp_cast)
        param_name = "%s-%04d.params" % (prefix, epoch)
        self.save_params(param_name)
        logging.info('Saved checkpoint to "%s"', param_name)
        if save_optimizer_states:
            state_name = "%s-%04d.states" % (prefix, epoch)
            self.save_optimizer_states(state_name)
            logging.info('Saved optimizer state to "%s"', state_name)

    # ---- Names and shapes ---------------------------------------------------------------------------------

    def _reset_bind(self):
        self.binded = False
        self._exec = None
        self._default_exec = None
        self._data_shapes = None
        self._label_shapes = None

    @property
    def data_names(self):
        """The names of the data inputs."""
        return self._data_names

    @property
    def label_names(self):
        """The names of the label inputs."""
        return self._label_names

    @property
    def output_names(self):
        """The symbol's output names."""
        return self._output_names

    def _check_bound(self, what):
        if not self.binded:
            raise RuntimeError("%s needs a bound module: call bind() (or fit()) first" % what)

    @property
    def data_shapes(self):
        """DataDescs of the data inputs as bound (or last reshaped)."""
        self._check_bound("data_shapes")
        return self._data_shapes

    @property
    def label_shapes(self):
        """DataDescs of the labels as bound (None when bound without labels)."""
        self._check_bound("label_shapes")
        return self._label_shapes

    @property
    def output_shapes(self):
        """(name, shape) pairs of the outputs."""
        self._check_bound("output_shapes")
        return [(name, tuple(out.shape)) for name, out in zip(self._output_names, self._exec.outputs)]

    # ---- Parameters ---------------------------------------------------------------------------------------

    def get_params(self):
        """(arg_params, aux_params): the module's copies of the parameters, synced from the executor."""
        if not self.params_initialized:
            raise RuntimeError("get_params needs initialized parameters: call init_params() (or fit()) first")
        if self._params_dirty:
            self._sync_params_from_devices()
        return (self._arg_params, self._aux_params)

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Fills each parameter from arg_params/aux_params (a missing one is a RuntimeError unless
        allow_missing, then `initializer` fills it), or with `initializer` (called with an InitDesc carrying
        the variable's attributes); then copies them into the executor. allow_extra: names the symbol lacks
        are ignored instead of a ValueError."""
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. init_params call ignored.",
                          stacklevel=2)
            return
        self._check_bound("init_params")

        def _init_one(desc, array, cache):
            if cache is not None:
                if desc in cache:
                    if cache[desc] is not array:
                        cache[desc].copyto(array)
                    return
                if not allow_missing:
                    raise RuntimeError("%s is not presented" % desc)
            if initializer is not None:
                initializer(desc, array)

        attrs = self._symbol.attr_dict()
        for name, array in sorted(self._arg_params.items()):
            _init_one(InitDesc(name, attrs.get(name, None)), array, arg_params)
        for name, array in sorted(self._aux_params.items()):
            _init_one(InitDesc(name, attrs.get(name, None)), array, aux_params)
        self.params_initialized = True
        self._params_dirty = False
        self._exec.copy_params_from(self._arg_params, self._aux_params, allow_extra_params=allow_extra)

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        """Sets the parameters from dicts name -> NDArray (with allow_missing, straight into the executor,
        leaving the others as they are)."""
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. set_params call ignored.",
                          stacklevel=2)
            return
        self._check_bound("set_params")
        self._exec.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    def _sync_params_from_devices(self):
        for name in self._param_names:
            self._exec.arg_dict[name].astype(self._arg_params[name].dtype).copyto(self._arg_params[name])
        for name in self._aux_names:
            self._exec.aux_dict[name].astype(self._aux_params[name].dtype).copyto(self._aux_params[name])
        self._params_dirty = False

    # ---- Binding -----------------------------------------------------------------------------------------------

    def _grad_reqs(self, grad_req, data_names):
        """grad_req per argument, as MXNet's executor group decides it."""
        arg_names = self._symbol.list_arguments()
        if not self.for_training:
            grad_req = "null"

        def default(name, req):
            if name in self._param_names:
                return "null" if name in self._fixed_param_names else req
            if name in data_names:
                return req if self.inputs_need_grad else "null"
            return "null"

        if isinstance(grad_req, str):
            return {name: default(name, grad_req) for name in arg_names}
        if isinstance(grad_req, (list, tuple)):
            if len(grad_req) != len(arg_names):
                raise ValueError("grad_req has %d entries for %d arguments (%s)"
                                 % (len(grad_req), len(arg_names), ", ".join(arg_names)))
            return dict(zip(arg_names, grad_req))
        if isinstance(grad_req, dict):
            reqs = {name: default(name, "write") for name in arg_names}
            reqs.update(grad_req)
            return reqs
        raise ValueError("grad_req must be one of str, list, tuple, or dict, got %s" % type(grad_req).__name__)

    @staticmethod
    def _input_shapes(data_shapes, label_shapes):
        """name -> shape of the inputs; all must share one batch size along their layout's 'N' axis."""
        shapes, batch_size = {}, None
        for desc in list(data_shapes) + list(label_shapes or []):
            axis = DataDesc.get_batch_axis(getattr(desc, "layout", "NCHW"))
            if axis >= 0:
                if axis >= len(desc.shape):
                    raise ValueError("%s has shape %s, with no batch axis %d" % (desc.name, desc.shape, axis))
                if batch_size is None:
                    batch_size = desc.shape[axis]
                elif desc.shape[axis] != batch_size:
                    raise ValueError("all data must have the same batch size: batch_size = %d, but %s has shape "
                                     "%s" % (batch_size, desc.name, desc.shape))
            shapes[desc.name] = tuple(int(dim) for dim in desc.shape)
        return shapes, batch_size

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Binds an executor for data_shapes and label_shapes (DataDescs or (name, shape) pairs).
        for_training=False binds without gradients; inputs_need_grad also computes the data's gradients;
        force_rebind binds again even if bound; shared_module: a bound, initialized Module whose parameters
        (and memory) this one shares."""
        if force_rebind:
            self._reset_bind()
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        if not for_training and inputs_need_grad:
            raise ValueError("inputs_need_grad=True needs for_training=True")
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        self._data_shapes, self._label_shapes = _parse_data_desc(self._data_names, self._label_names, data_shapes,
                                                                 label_shapes)
        shapes, self._batch_size = self._input_shapes(self._data_shapes, self._label_shapes)
        reqs = self._grad_reqs(grad_req, [desc.name for desc in self._data_shapes])

        if shared_module is not None:
            if not (isinstance(shared_module, Module) and shared_module.binded and shared_module.params_initialized):
                raise ValueError("shared_module must be a bound Module with initialized parameters")
            # As MXNet's shared executors: this module's executor uses the shared one's parameter, gradient
            # and auxiliary arrays (a reshape of it keeps them), so both modules see every update.
            self._exec = shared_module._default_exec.reshape(partial_shaping=True, allow_up_sizing=True, **shapes)
            self._check_param_shapes(shared_module._default_exec, self._exec, shapes)
        else:
            types = {desc.name: desc.dtype for desc in self._data_shapes + list(self._label_shapes or [])}
            attrs = self._symbol.attr_dict()
            for name in self._data_names:
                # A variable declared with a dtype keeps it, as MXNet's executor group does.
                declared = attrs.get(name, {}).get("__dtype__")
                if declared is not None and declared != "-1":
                    types[name] = dtype_type(int(declared))
            self._exec = self._symbol.simple_bind(ctx=self._context, grad_req=reqs, type_dict=types, **shapes)
        self._default_exec = self._exec

        if shared_module is not None:
            self.params_initialized = True
            self._arg_params = shared_module._arg_params
            self._aux_params = shared_module._aux_params
        elif self.params_initialized:
            # Re-binding (or Module.load): the parameters we hold go into the new executor.
            self._exec.copy_params_from(self._arg_params, self._aux_params)
        else:
            self._arg_params = {name: zeros(self._exec.arg_dict[name].shape, dtype=self._exec.arg_dict[name].dtype)
                                for name in self._param_names}
            self._aux_params = {name: zeros(self._exec.aux_dict[name].shape, dtype=self._exec.aux_dict[name].dtype)
                                for name in self._aux_names}
        if shared_module is not None and shared_module.optimizer_initialized:
            self.borrow_optimizer(shared_module)
        self.binded = True

    def _check_param_shapes(self, before, after, shapes):
        """A reshape must keep every parameter's shape (MXNet refuses one that changes them)."""
        for name in self._param_names + self._aux_names:
            old = before.arg_dict[name] if name in self._param_names else before.aux_dict[name]
            new = after.arg_dict[name] if name in self._param_names else after.aux_dict[name]
            if tuple(old.shape) != tuple(new.shape):
                given = ", ".join("%s: %s" % item for item in sorted(shapes.items()))
                raise MXNetValueError("Module: the input shapes (%s) give parameter '%s' the shape %s, but it was "
                                      "bound with shape %s; inputs must keep the shapes the parameters were made "
                                      "for (only the batch size may change)" % (given, name, tuple(new.shape),
                                                                                tuple(old.shape)))

    def reshape(self, data_shapes, label_shapes=None):
        """Re-binds for new input shapes (a new batch size), sharing the parameters, gradients and auxiliary
        states of the first executor."""
        self._check_bound("reshape")
        data_shapes, label_shapes = _parse_data_desc(self._data_names, self._label_names, data_shapes,
                                                     label_shapes)
        shapes, batch_size = self._input_shapes(data_shapes, label_shapes)
        if data_shapes == self._data_shapes and label_shapes == self._label_shapes:
            return
        # partial_shaping: labels left out (a batch without labels) may change shape with the batch; the
        # parameter check below refuses what partial shaping would otherwise allow.
        new_exec = self._default_exec.reshape(partial_shaping=True, allow_up_sizing=True, **shapes)
        self._check_param_shapes(self._default_exec, new_exec, shapes)
        self._exec = new_exec
        self._data_shapes, self._label_shapes, self._batch_size = data_shapes, label_shapes, batch_size

    # ---- Optimizer ----------------------------------------------------------------------------------------------

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Creates the optimizer (a registered name with optimizer_params, rescale_grad defaulting to
        1 / batch_size; or an Optimizer) and its Updater. kvstore: 'local', 'device' and None need nothing on
        one device; others are ignored with a warning."""
        if not (self.binded and self.params_initialized):
            raise RuntimeError("init_optimizer needs a bound module with initialized parameters: call bind() and "
                               "init_params() first")
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        if self._params_dirty:
            self._sync_params_from_devices()
        if not (kvstore is None or isinstance(kvstore, str) and kvstore in _LOCAL_KVSTORES):
            warnings.warn("kvstore %r is ignored: Polymix's Module trains on one device and updates locally "
                          "(no KVStore)" % (kvstore,), stacklevel=2)
        rescale_grad = 1.0 / self._batch_size if self._batch_size else 1.0
        idx2name = dict(enumerate(self._param_names))
        if isinstance(optimizer, str):
            optimizer_params = dict(optimizer_params)
            optimizer_params.setdefault("rescale_grad", rescale_grad)
            optimizer = opt.create(optimizer, sym=self._symbol, param_idx2name=idx2name, **optimizer_params)
        elif isinstance(optimizer, opt.Optimizer):
            if optimizer.rescale_grad != rescale_grad:
                warnings.warn("Optimizer created manually outside Module but rescale_grad is not normalized to "
                              "1.0/batch_size/num_workers (%s vs. %s). Is this intended?"
                              % (optimizer.rescale_grad, rescale_grad), stacklevel=2)
            if not optimizer.idx2name:
                optimizer.idx2name = idx2name.copy()
        else:
            raise TypeError("optimizer must be a registered name or an mx.optimizer.Optimizer, got %s"
                            % type(optimizer).__name__)
        self._optimizer = optimizer
        self._kvstore = None
        self._update_on_kvstore = False
        self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    def borrow_optimizer(self, shared_module):
        """Uses shared_module's optimizer and updater (states included)."""
        if not shared_module.optimizer_initialized:
            raise RuntimeError("borrow_optimizer: the shared module has no optimizer yet")
        self._optimizer = shared_module._optimizer
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self._updater = shared_module._updater
        self.optimizer_initialized = True

    def save_optimizer_states(self, fname):
        """Writes the updater's states (pickled, as MXNet's Module does without a KVStore) to `fname`."""
        if not self.optimizer_initialized:
            raise RuntimeError("save_optimizer_states needs an optimizer: call init_optimizer() (or fit()) first")
        with open(fname, "wb") as fout:
            fout.write(self._updater.get_states())

    def load_optimizer_states(self, fname):
        """Restores the updater's states from a file written by save_optimizer_states."""
        if not self.optimizer_initialized:
            raise RuntimeError("load_optimizer_states needs an optimizer: call init_optimizer() (or fit()) first")
        with open(fname, "rb") as fin:
            self._updater.set_states(fin.read())

    # ---- Computation --------------------------------------------------------------------------------------

    def _batch_shapes(self, data_batch):
        data = data_batch.data
        if not isinstance(data, (list, tuple)) or len(data) != len(self._data_shapes):
            raise ValueError("the batch has %s data arrays, but the module has %d data inputs (%s)"
                             % (len(data) if isinstance(data, (list, tuple)) else "no list of",
                                len(self._data_shapes), ", ".join(desc.name for desc in self._data_shapes)))
        return tuple(tuple(array.shape) for array in data)

    def forward(self, data_batch, is_train=None):
        """Copies the batch's data (and labels, when it has them) into the executor and runs forward
        (is_train None: as bound). A batch whose shapes differ from the bound ones re-binds first."""
        if not (self.binded and self.params_initialized):
            raise RuntimeError("forward needs a bound module with initialized parameters: call bind() and "
                               "init_params() first")
        if isinstance(data_batch, list):
            raise NotImplementedError("a list of DataBatch (one per device) is not supported: Polymix's Module "
                                      "runs on one device")
        new_shapes = self._batch_shapes(data_batch)
        if tuple(tuple(desc.shape) for desc in self._data_shapes) != new_shapes:
            if getattr(data_batch, "provide_data", None):
                new_dshape = data_batch.provide_data
            else:
                new_dshape = [DataDesc(desc.name, shape, desc.dtype, desc.layout)
                              for desc, shape in zip(self._data_shapes, new_shapes)]
            if getattr(data_batch, "provide_label", None):
                new_lshape = data_batch.provide_label
            elif getattr(data_batch, "label", None) and self._label_shapes:
                new_lshape = [DataDesc(desc.name, array.shape, desc.dtype, desc.layout)
                              for desc, array in zip(self._label_shapes, data_batch.label)]
            elif self._label_shapes:
                # A batch without labels (inference): the bound labels follow the new batch size, where MXNet
                # would fail on their unchanged shape.
                new_lshape = [self._resized(desc, new_dshape) for desc in self._label_shapes]
            else:
                new_lshape = None
            self.reshape(new_dshape, new_lshape)
        arg_dict = self._exec.arg_dict
        for desc, array in zip(self._data_shapes, data_batch.data):
            self._copy_in(array, arg_dict[desc.name], desc.name)
        if self._label_shapes is not None and getattr(data_batch, "label", None):
            for desc, array in zip(self._label_shapes, data_batch.label):
                self._copy_in(array, arg_dict[desc.name], desc.name)
        self._exec.forward(is_train=self.for_training if is_train is None else is_train)

    @staticmethod
    def _resized(desc, data_descs):
        """`desc` with its batch axis set to the batch size of data_descs."""
        axis = DataDesc.get_batch_axis(desc.layout)
        data = data_descs[0] if isinstance(data_descs[0], DataDesc) else DataDesc(*data_descs[0])
        data_axis = DataDesc.get_batch_axis(data.layout)
        if axis < 0 or data_axis < 0:
            return desc
        shape = list(desc.shape)
        shape[axis] = data.shape[data_axis]
        return DataDesc(desc.name, tuple(shape), desc.dtype, desc.layout)

    @staticmethod
    def _copy_in(source, target, name):
        if tuple(source.shape) != tuple(target.shape):
            raise ValueError("input '%s' has shape %s, but the module is bound for %s"
                             % (name, tuple(source.shape), tuple(target.shape)))
        if isinstance(source, NDArray):
            source.copyto(target)
        else:
            target[:] = source

    def backward(self, out_grads=None):
        """The backward pass of the last forward (out_grads: gradients of outputs that are not losses)."""
        if not (self.binded and self.params_initialized):
            raise RuntimeError("backward needs a bound module with initialized parameters")
        if not self.for_training:
            raise RuntimeError("re-bind with for_training=True to run backward")
        if isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        self._exec.backward(out_grads=out_grads)

    def update(self):
        """One optimizer step: updater(index, grad, weight) for every trained parameter."""
        if not (self.binded and self.params_initialized and self.optimizer_initialized):
            raise RuntimeError("update needs a bound module with initialized parameters and optimizer: call "
                               "init_optimizer() (or fit()) first")
        self._params_dirty = True
        arg_dict, grad_dict = self._exec.arg_dict, self._exec.grad_dict
        indices, grads, weights = [], [], []
        for index, name in enumerate(self._param_names):
            grad = grad_dict.get(name)
            if grad is None:
                continue  # A fixed parameter (grad_req 'null').
            indices.append(index)
            grads.append(grad)
            weights.append(arg_dict[name])
        if indices:
            self._updater(indices, grads, weights)

    def get_outputs(self, merge_multi_context=True):
        """The outputs of the last forward: a list of NDArrays (merge_multi_context=False: a list of
        one-element lists, one device's)."""
        if not (self.binded and self.params_initialized):
            raise RuntimeError("get_outputs needs a bound module with initialized parameters")
        outputs = self._exec.outputs
        return list(outputs) if merge_multi_context else [[out] for out in outputs]

    def get_input_grads(self, merge_multi_context=True):
        """The gradients of the data inputs (bound with inputs_need_grad=True)."""
        if not (self.binded and self.params_initialized and self.inputs_need_grad):
            raise RuntimeError("get_input_grads needs a module bound with inputs_need_grad=True")
        grads = [self._exec.grad_dict[desc.name] for desc in self._data_shapes]
        return grads if merge_multi_context else [[grad] for grad in grads]

    def get_states(self, merge_multi_context=True):
        """The state input arrays (merge_multi_context must be False, as in MXNet)."""
        self._check_ready("get_states")
        if merge_multi_context:
            raise ValueError("merge_multi_context=True is not supported for get_states yet.")
        return [[self._exec.arg_dict[name]] for name in self._state_names]

    def set_states(self, states=None, value=None):
        """Sets the state inputs from `states` (as get_states returns them) or to the number `value`."""
        self._check_ready("set_states")
        if (states is None) == (value is None):
            raise ValueError("give exactly one of states and value")
        for index, name in enumerate(self._state_names):
            target = self._exec.arg_dict[name]
            if states is not None:
                source = states[index]
                source = source[0] if isinstance(source, (list, tuple)) else source
                source.copyto(target)
            else:
                target[:] = value

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Accumulates the last outputs against `labels` (a list in label_names order) into eval_metric
        (through update_dict, by label and output name)."""
        if pre_sliced:
            labels = labels[0]
        label_names = [desc.name for desc in self._label_shapes] if self._label_shapes else self._label_names
        eval_metric.update_dict(OrderedDict(zip(label_names, labels or [])),
                                OrderedDict(zip(self._output_names, self._exec.outputs)))

    def install_monitor(self, mon):
        """Monitors are not available: Polymix's executors have no monitor callbacks yet."""
        raise NotImplementedError("Module.install_monitor is not implemented: Polymix's executors have no "
                                  "monitor callbacks yet")

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Nothing to prepare on one device (sparse_row_id_fn needs a KVStore: a warning)."""
        self._check_bound("prepare")
        if sparse_row_id_fn is not None:
            warnings.warn(UserWarning("Parameters are not updated in the KVStore. No need to call "
                                      "sparse_row_id_fn."), stacklevel=2)
