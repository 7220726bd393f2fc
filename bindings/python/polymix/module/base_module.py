"""BaseModule: the high-level part of MXNet 1.x's module API (fit, score, predict, iter_predict, parameter
files), written once over the intermediate-level methods a module implements (bind, init_params,
init_optimizer, forward, backward, update, update_metric, get_outputs, get_params, set_params).

The training loop follows MXNet 1.9.1's step for step (prefetching the next batch before the batch callbacks,
the train metric logged from its global sums at epoch end, parameters synced before epoch_end_callback, the
validation pass after it), so callbacks observe the same sequence of calls and log lines.
"""

import logging
import time
import warnings

import numpy as np

from .. import metric
from .. import ndarray
from ..context import cpu
from ..initializer import Uniform
from ..io import DataBatch, DataDesc, DataIter
from ..model import BatchEndParam, split_params

__all__ = ["BaseModule"]


def _as_list(obj):
    """obj itself when it is a list or tuple, else [obj]."""
    return obj if isinstance(obj, (list, tuple)) else [obj]


def _check_input_names(symbol, names, typename, throw):
    """Checks that every name given as a data/label/state/fixed-parameter name is an argument of the symbol:
    a ValueError when `throw`, else a warning (labels are optional, as in MXNet)."""
    args = symbol.list_arguments()
    for name in names:
        if name in args:
            continue
        candidates = [arg for arg in args if not arg.endswith(("_weight", "_bias", "_gamma", "_beta"))]
        msg = ("You created Module with Module(..., %s_names=%s) but input with name '%s' is not found in "
               "symbol.list_arguments(). Did you mean one of:\n\t%s"
               % (typename, str(names), name, "\n\t".join(candidates)))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)


def _check_names_match(data_names, data_shapes, name, throw):
    """Checks that the names in data_shapes (or label_shapes) are the module's data (label) names."""
    actual = [desc[0] for desc in data_shapes]
    if sorted(data_names) != sorted(actual):
        msg = "Data provided by %s_shapes don't match names specified by %s_names (%s vs. %s)" % (
            name, name, str(data_shapes), str(data_names))
        if throw:
            raise ValueError(msg)
        warnings.warn(msg, stacklevel=3)


def _parse_data_desc(data_names, label_names, data_shapes, label_shapes):
    """data_shapes and label_shapes as DataDesc lists ((name, shape) pairs are converted), checked against the
    module's names: a data mismatch is a ValueError, a label mismatch a warning."""
    for what, shapes in (("data_shapes", data_shapes), ("label_shapes", label_shapes)):
        if shapes is not None and not isinstance(shapes, (list, tuple)):
            raise TypeError("%s must be a list of DataDesc or (name, shape) pairs, got %s"
                            % (what, type(shapes).__name__))
    data_shapes = [desc if isinstance(desc, DataDesc) else DataDesc(*desc) for desc in data_shapes]
    _check_names_match(data_names, data_shapes, "data", True)
    if label_shapes is not None:
        label_shapes = [desc if isinstance(desc, DataDesc) else DataDesc(*desc) for desc in label_shapes]
        _check_names_match(label_names, label_shapes, "label", False)
    else:
        _check_names_match(label_names, [], "label", False)
    return data_shapes, label_shapes


class BaseModule:
    """The base of modules (MXNet's mx.mod.BaseModule): the training and inference loops over the
    intermediate-level methods that subclasses implement. State flags: binded, for_training,
    inputs_need_grad, params_initialized, optimizer_initialized."""

    def __init__(self, logger=logging):
        self.logger = logger
        self.binded = False
        self.for_training = False
        self.inputs_need_grad = False
        self.params_initialized = False
        self.optimizer_initialized = False
        self._symbol = None
        self._total_exec_bytes = 0

    # ---- High-level API --------------------------------------------------------------------------------

    def forward_backward(self, data_batch):
        """A training forward pass on `data_batch`, then backward."""
        self.forward(data_batch, is_train=True)
        self.backward()

    def _check_ready(self, what):
        if not (self.binded and self.params_initialized):
            raise RuntimeError("%s needs a bound module with initialized parameters: call bind() and "
                               "init_params() (or fit()) first" % what)

    def score(self, eval_data, eval_metric, num_batch=None, batch_end_callback=None, score_end_callback=None,
              reset=True, epoch=0, sparse_row_id_fn=None):
        """Runs inference over `eval_data` (a DataIter; at most num_batch batches) and returns
        eval_metric.get_name_value(): a list of (name, value) pairs."""
        self._check_ready("score")
        if reset:
            eval_data.reset()
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)
        eval_metric.reset()
        actual_num_batch = 0
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            self.update_metric(eval_metric, eval_batch.label)
            if batch_end_callback is not None:
                params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals())
                for callback in _as_list(batch_end_callback):
                    callback(params)
            actual_num_batch += 1
        if score_end_callback:
            params = BatchEndParam(epoch=epoch, nbatch=actual_num_batch, eval_metric=eval_metric, locals=locals())
            for callback in _as_list(score_end_callback):
                callback(params)
        return eval_metric.get_name_value()

    def iter_predict(self, eval_data, num_batch=None, reset=True, sparse_row_id_fn=None):
        """Yields (outputs, nbatch, batch) for each batch of `eval_data`, the padding removed from the
        outputs (views of the module's output arrays, valid until the next forward)."""
        self._check_ready("iter_predict")
        if reset:
            eval_data.reset()
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            outputs = [out[0:out.shape[0] - pad] for out in self.get_outputs()]
            yield (outputs, nbatch, eval_batch)

    def predict(self, eval_data, num_batch=None, merge_batches=True, reset=True, always_output_list=False,
                sparse_row_id_fn=None):
        """The outputs over `eval_data`, padding removed. A DataIter gives, with merge_batches, one NDArray per
        output concatenated over the batches (the NDArray itself for a single output unless
        always_output_list), else a list per batch of output lists. An NDArray or NumPy array is one batch of
        the first data input; its first output is returned."""
        self._check_ready("predict")
        if isinstance(eval_data, (ndarray.NDArray, np.ndarray)):
            if isinstance(eval_data, np.ndarray):
                eval_data = ndarray.array(eval_data)
            self.forward(DataBatch([eval_data]))
            return self.get_outputs()[0]
        if not isinstance(eval_data, DataIter):
            raise ValueError("eval_data must be of type NDArray or DataIter, got %s" % type(eval_data).__name__)
        if reset:
            eval_data.reset()
        output_list = []
        for nbatch, eval_batch in enumerate(eval_data):
            if num_batch is not None and nbatch == num_batch:
                break
            self.prepare(eval_batch, sparse_row_id_fn=sparse_row_id_fn)
            self.forward(eval_batch, is_train=False)
            pad = eval_batch.pad or 0
            output_list.append([out[0:out.shape[0] - pad].copy() for out in self.get_outputs()])
        if not output_list:
            return output_list
        if not merge_batches:
            return output_list
        num_outputs = len(output_list[0])
        if any(len(outputs) != num_outputs for outputs in output_list):
            raise ValueError("Cannot merge batches, as num of outputs is not the same in mini-batches. "
                             "Maybe bucketing is used?")
        merged = [ndarray.concatenate([outputs[i] for outputs in output_list]) for i in range(num_outputs)]
        if num_outputs == 1 and not always_output_list:
            return merged[0]
        return merged

    def fit(self, train_data, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
            eval_end_callback=None, eval_batch_end_callback=None, initializer=Uniform(0.01), arg_params=None,
            aux_params=None, allow_missing=False, force_rebind=False, force_init=False, begin_epoch=0,
            num_epoch=None, validation_metric=None, monitor=None, sparse_row_id_fn=None):
        """Trains on `train_data` (a DataIter) for epochs [begin_epoch, num_epoch): binds, initializes the
        parameters (initializer, or arg_params/aux_params) and the optimizer (a name with optimizer_params,
        or an Optimizer), then per batch forward, backward, update and the training metric. Logs
        'Epoch[%d] Train-%s=%f', 'Epoch[%d] Time cost=%.3f' and, with eval_data, 'Epoch[%d] Validation-%s=%f'.
        kvstore: one device needs none, so 'local', 'device' and None are accepted and ignored."""
        if num_epoch is None:
            raise ValueError("please specify number of epochs (num_epoch)")
        self.bind(data_shapes=train_data.provide_data, label_shapes=train_data.provide_label, for_training=True,
                  force_rebind=force_rebind)
        if monitor is not None:
            self.install_monitor(monitor)
        self.init_params(initializer=initializer, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init)
        self.init_optimizer(kvstore=kvstore, optimizer=optimizer, optimizer_params=optimizer_params)
        if validation_metric is None:
            validation_metric = eval_metric
        if not isinstance(eval_metric, metric.EvalMetric):
            eval_metric = metric.create(eval_metric)

        for epoch in range(begin_epoch, num_epoch):
            tic = time.time()
            eval_metric.reset()
            eval_name_vals = []
            nbatch = 0
            data_iter = iter(train_data)
            end_of_batch = False
            try:
                next_data_batch = next(data_iter)
            except StopIteration:
                raise ValueError("fit: train_data gave no batch in epoch %d (an iterator needs reset(), or holds "
                                 "fewer examples than one batch)" % epoch) from None
            while not end_of_batch:
                data_batch = next_data_batch
                if monitor is not None:
                    monitor.tic()
                self.forward_backward(data_batch)
                self.update()
                self.update_metric(eval_metric, data_batch.label)
                try:
                    # The next batch is fetched (and prepared) before this batch's callbacks, as in MXNet.
                    next_data_batch = next(data_iter)
                    self.prepare(next_data_batch, sparse_row_id_fn=sparse_row_id_fn)
                except StopIteration:
                    end_of_batch = True
                if monitor is not None:
                    monitor.toc_print()
                if end_of_batch:
                    eval_name_vals = eval_metric.get_global_name_value()
                if batch_end_callback is not None:
                    params = BatchEndParam(epoch=epoch, nbatch=nbatch, eval_metric=eval_metric, locals=locals())
                    for callback in _as_list(batch_end_callback):
                        callback(params)
                nbatch += 1

            for name, value in eval_name_vals:
                self.logger.info("Epoch[%d] Train-%s=%f", epoch, name, value)
            self.logger.info("Epoch[%d] Time cost=%.3f", epoch, time.time() - tic)

            arg_params_now, aux_params_now = self.get_params()
            self.set_params(arg_params_now, aux_params_now)
            if epoch_end_callback is not None:
                for callback in _as_list(epoch_end_callback):
                    callback(epoch, self.symbol, arg_params_now, aux_params_now)

            if eval_data is not None:
                result = self.score(eval_data, validation_metric, score_end_callback=eval_end_callback,
                                    batch_end_callback=eval_batch_end_callback, epoch=epoch)
                for name, value in result:
                    self.logger.info("Epoch[%d] Validation-%s=%f", epoch, name, value)
            train_data.reset()

    # ---- Symbol and shape information (subclasses) --------------------------------------------------------

    @property
    def data_names(self):
        """The names of the data inputs."""
        raise NotImplementedError()

    @property
    def output_names(self):
        """The names of the outputs."""
        raise NotImplementedError()

    @property
    def data_shapes(self):
        """DataDescs of the bound data inputs."""
        raise NotImplementedError()

    @property
    def label_shapes(self):
        """DataDescs of the bound labels (None when bound without)."""
        raise NotImplementedError()

    @property
    def output_shapes(self):
        """(name, shape) pairs of the outputs."""
        raise NotImplementedError()

    @property
    def symbol(self):
        """The module's symbol."""
        return self._symbol

    # ---- Parameters --------------------------------------------------------------------------------------

    def get_params(self):
        """(arg_params, aux_params): dicts name -> NDArray of the current parameter values."""
        raise NotImplementedError()

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None, allow_missing=False,
                    force_init=False, allow_extra=False):
        """Initializes the parameters from arg_params/aux_params, or with `initializer`."""
        raise NotImplementedError()

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True, allow_extra=False):
        """Sets the parameters from dicts name -> NDArray."""
        self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                         allow_missing=allow_missing, force_init=force_init, allow_extra=allow_extra)

    def save_params(self, fname):
        """Writes the parameters to an MXNet .params file (keys 'arg:<name>' and 'aux:<name>')."""
        arg_params, aux_params = self.get_params()
        save_dict = {"arg:%s" % name: value.as_in_context(cpu()) for name, value in arg_params.items()}
        save_dict.update({"aux:%s" % name: value.as_in_context(cpu()) for name, value in aux_params.items()})
        ndarray.save(fname, save_dict)

    def load_params(self, fname):
        """Sets the parameters from a .params file written by save_params (Polymix's or MXNet's)."""
        save_dict = ndarray.load(fname)
        if not isinstance(save_dict, dict):
            raise ValueError("Invalid param file %s: its arrays have no names ('arg:<name>' / 'aux:<name>')"
                             % fname)
        arg_params, aux_params = split_params(save_dict, fname)
        self.set_params(arg_params, aux_params)

    def get_states(self, merge_multi_context=True):
        """The state arrays (none in the base class)."""
        self._check_ready("get_states")
        if merge_multi_context:
            raise ValueError("merge_multi_context=True is not supported for get_states")
        return []

    def set_states(self, states=None, value=None):
        """Sets the state arrays (none in the base class)."""
        self._check_ready("set_states")
        if states or value:
            raise ValueError("this module has no states to set")

    def install_monitor(self, mon):
        """Monitors are not available: Polymix's executors have no monitor callbacks yet."""
        raise NotImplementedError("install_monitor is not implemented: Polymix's executors have no monitor "
                                  "callbacks yet")

    # ---- Computation (subclasses) ---------------------------------------------------------------------------

    def prepare(self, data_batch, sparse_row_id_fn=None):
        """Prepares for `data_batch` (nothing on one device; sparse_row_id_fn only applies to a KVStore)."""
        if sparse_row_id_fn is not None:
            warnings.warn(UserWarning("sparse_row_id_fn is not invoked for BaseModule."), stacklevel=2)

    def forward(self, data_batch, is_train=None):
        """The forward pass on `data_batch` (is_train None: as bound)."""
        raise NotImplementedError()

    def backward(self, out_grads=None):
        """The backward pass of the last forward."""
        raise NotImplementedError()

    def get_outputs(self, merge_multi_context=True):
        """The outputs of the last forward."""
        raise NotImplementedError()

    def get_input_grads(self, merge_multi_context=True):
        """The gradients of the data inputs (bound with inputs_need_grad=True)."""
        raise NotImplementedError()

    def update(self):
        """One optimizer step from the gradients of the last backward."""
        raise NotImplementedError()

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        """Accumulates the last outputs against `labels` into eval_metric."""
        raise NotImplementedError()

    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False, force_rebind=False,
             shared_module=None, grad_req="write"):
        """Allocates executors for the given input shapes."""
        raise NotImplementedError()

    def init_optimizer(self, kvstore="local", optimizer="sgd", optimizer_params=(("learning_rate", 0.01),),
                       force_init=False):
        """Creates the optimizer and its updater."""
        raise NotImplementedError()
