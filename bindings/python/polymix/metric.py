"""mx.metric: evaluation metrics (MXNet 1.9.1's classes, names and accounting).

EvalMetric keeps MXNet's sums in Python — sum_metric / num_inst (reset by reset_local) and their global_
counterparts (reset by reset) — so custom metrics and code reading those attributes work as in MXNet. The
built-in metrics (Accuracy, TopKAccuracy, F1, MAE, MSE, RMSE, CrossEntropy, Perplexity, Loss) compute each
batch in core/optim and add the batch's sum and count here (Note [Python keeps MXNet's bookkeeping] in
bindings/python/src/optim.cc); what counts as an instance is MXNet's choice per metric
(Note [Metric accounting] in core/optim/metric.h).
"""

import math
from collections import OrderedDict

from . import _core, registry
from .base import _param_str, numeric_types, string_types
from .ndarray import NDArray
from .ndarray.utils import array as _array

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MAE", "MSE", "RMSE",
           "CrossEntropy", "Perplexity", "Loss", "Torch", "Caffe", "CustomMetric", "check_label_shapes", "create",
           "register", "alias", "np"]


def check_label_shapes(labels, preds, wrap=False, shape=False):
    """ValueError unless labels and preds have the same length (or shape when shape=True); with wrap, a single
    NDArray becomes a one-element list."""
    label_shape, pred_shape = (labels.shape, preds.shape) if shape else (len(labels), len(preds))
    if label_shape != pred_shape:
        raise ValueError("Shape of labels {} does not match shape of predictions {}".format(label_shape,
                                                                                            pred_shape))
    if wrap:
        if isinstance(labels, NDArray):
            labels = [labels]
        if isinstance(preds, NDArray):
            preds = [preds]
    return labels, preds


class EvalMetric:
    """The base of every metric: update(labels, preds) accumulates, get() returns (name, value)."""

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        """The constructor arguments, so that create(**config) rebuilds the metric."""
        config = self._kwargs.copy()
        config.update({"metric": self.__class__.__name__, "name": self.name, "output_names": self.output_names,
                       "label_names": self.label_names})
        return config

    def update_dict(self, label, pred):
        """update() with name -> array dicts, filtered by label_names / output_names when given."""
        pred = [pred[name] for name in self.output_names] if self.output_names is not None else list(pred.values())
        label = [label[name] for name in self.label_names] if self.label_names is not None else list(label.values())
        self.update(label, pred)

    def update(self, labels, preds):
        """Accumulates one batch: labels[i] goes with preds[i]."""
        raise NotImplementedError()

    def reset(self):
        """Clears the local and global sums."""
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0

    def reset_local(self):
        """Clears the local sums (the global ones keep counting)."""
        self.num_inst = 0
        self.sum_metric = 0.0

    def get(self):
        """(name, value) of the local sums; NaN before any instance."""
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.sum_metric / self.num_inst)

    def get_global(self):
        """(name, value) of the global sums (the local ones for metrics without global statistics)."""
        if not self._has_global_stats:
            return self.get()
        if self.global_num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, self.global_sum_metric / self.global_num_inst)

    def get_name_value(self):
        """[(name, value), ...] of get()."""
        return _pairs(*self.get())

    def get_global_name_value(self):
        """[(name, value), ...] of get_global()."""
        if not self._has_global_stats:
            return self.get_name_value()
        return _pairs(*self.get_global())


def _pairs(name, value):
    names = name if isinstance(name, list) else [name]
    values = value if isinstance(value, list) else [value]
    return list(zip(names, values))


register = registry.get_register_func(EvalMetric, "metric")
alias = registry.get_alias_func(EvalMetric, "metric")
_create = registry.get_create_func(EvalMetric, "metric")


def create(metric, *args, **kwargs):
    """A metric from a name ('acc', 'f1', ...), an EvalMetric (returned as it is), a list of those (a
    CompositeEvalMetric) or a function feval(label, pred) (a CustomMetric)."""
    if callable(metric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    return _create(metric, *args, **kwargs)


@register
@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; get() concatenates their names and values."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)
        self.metrics = [create(metric) for metric in (metrics or [])]

    def add(self, metric):
        """Adds a child metric (anything create() accepts)."""
        self.metrics.append(create(metric))

    def get_metric(self, index):
        """The child at `index` (MXNet returns, not raises, a ValueError when out of range)."""
        try:
            return self.metrics[index]
        except IndexError:
            return ValueError("Metric index {} is out of range 0 and {}".format(index, len(self.metrics)))

    def update_dict(self, labels, preds):  # pylint: disable=arguments-differ
        if self.label_names is not None:
            labels = OrderedDict([item for item in labels.items() if item[0] in self.label_names])
        if self.output_names is not None:
            preds = OrderedDict([item for item in preds.items() if item[0] in self.output_names])
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self):
        for metric in getattr(self, "metrics", []):
            metric.reset_local()

    def _collect(self, getter):
        names, values = [], []
        for metric in self.metrics:
            name, value = getter(metric)
            names.extend([name] if isinstance(name, string_types) else name)
            values.extend([value] if isinstance(value, numeric_types) else value)
        return (names, values)

    def get(self):
        return self._collect(lambda metric: metric.get())

    def get_global(self):
        return self._collect(lambda metric: metric.get_global())

    def get_config(self):
        config = super().get_config()
        config.update({"metrics": [metric.get_config() for metric in self.metrics]})
        return config


def _handles(arrays):
    """Core handles of NDArrays (NumPy arrays are converted, as a convenience)."""
    return [(array if isinstance(array, NDArray) else _array(array)).handle for array in arrays]


def _count(value):
    """A count as MXNet keeps it: an int when whole."""
    return int(value) if float(value).is_integer() else value


class _CoreMetric(EvalMetric):
    """A metric whose per-batch sum and count come from core/optim's metric `_core_name`, built from the
    attributes `_core_args` (and the name)."""

    _core_name = None
    _core_args = ()

    def _batch_metric(self):
        """The core metric computing one batch (reset before each), built on first use."""
        core = self.__dict__.get("_core_metric")
        if core is None:
            kwargs = {key: _param_str(getattr(self, key)) for key in self._core_args}
            core = self.__dict__["_core_metric"] = _core.create_metric(self._core_name, kwargs)
        return core

    def _core_update(self, core, labels, preds):
        core.update(_handles(labels), _handles(preds))

    def update(self, labels, preds):
        labels, preds = check_label_shapes(labels, preds, True)
        core = self._batch_metric()
        core.reset()
        self._core_update(core, labels, preds)
        batch_sum, batch_count = core.sum_metric, _count(core.num_inst)
        self.sum_metric += batch_sum
        self.global_sum_metric += batch_sum
        self.num_inst += batch_count
        self.global_num_inst += batch_count

    def __getstate__(self):
        return {key: value for key, value in self.__dict__.items() if key != "_core_metric"}


@register
@alias("acc")
class Accuracy(_CoreMetric):
    """The fraction of samples whose predicted class (argmax over `axis` when the prediction's shape differs
    from the label's) equals the label."""

    _core_name = "accuracy"
    _core_args = ("axis",)

    def __init__(self, axis=1, name="accuracy", output_names=None, label_names=None):
        super().__init__(name, axis=axis, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.axis = axis


@register
@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(_CoreMetric):
    """The fraction of samples whose label is among the top_k scores (top_k > 1); named '<name>_<top_k>'."""

    _core_name = "top_k_accuracy"
    _core_args = ("top_k",)

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        super().__init__(name, top_k=top_k, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self.top_k = top_k
        if self.top_k <= 1:
            raise ValueError("Please use Accuracy if top_k is no more than 1")
        self.name += "_%d" % self.top_k


@register
class F1(_CoreMetric):
    """F1 of binary classification (class 1 positive; predictions (samples, 2)): averaged per update
    ('macro') or over every sample seen ('micro')."""

    _core_name = "f1"
    _core_args = ("average",)

    def __init__(self, name="f1", output_names=None, label_names=None, average="macro"):
        self.average = average
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)
        self._micro = None  # 'micro': (local, global) core metrics that keep their counts across updates.

    def _micro_metrics(self):
        if self._micro is None:
            self._micro = (_core.create_metric("f1", {"average": "micro"}),
                           _core.create_metric("f1", {"average": "micro"}))
        return self._micro

    def update(self, labels, preds):
        if self.average != "micro":
            super().update(labels, preds)
            return
        labels, preds = check_label_shapes(labels, preds, True)
        local, whole = self._micro_metrics()
        for core in (local, whole):
            self._core_update(core, labels, preds)
        self.sum_metric, self.num_inst = local.sum_metric, _count(local.num_inst)
        self.global_sum_metric, self.global_num_inst = whole.sum_metric, _count(whole.num_inst)

    def reset(self):
        super().reset()
        if getattr(self, "_micro", None) is not None:
            for core in self._micro:
                core.reset()

    def reset_local(self):
        super().reset_local()
        if self._micro is not None:
            self._micro[0].reset()

    def __getstate__(self):
        state = super().__getstate__()
        state["_micro"] = None  # Core counts are not pickled: a restored 'micro' F1 starts its counts afresh.
        return state


@register
class MAE(_CoreMetric):
    """Mean absolute error, averaged per (label, pred) pair."""

    _core_name = "mae"

    def __init__(self, name="mae", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)


@register
class MSE(_CoreMetric):
    """Mean squared error, averaged per (label, pred) pair."""

    _core_name = "mse"

    def __init__(self, name="mse", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)


@register
class RMSE(_CoreMetric):
    """Root mean squared error, averaged per (label, pred) pair."""

    _core_name = "rmse"

    def __init__(self, name="rmse", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)


@register
@alias("ce")
class CrossEntropy(_CoreMetric):
    """The mean of -log(p + eps), p the predicted probability of each sample's label."""

    _core_name = "crossentropy"
    _core_args = ("eps",)

    def __init__(self, eps=1e-12, name="cross-entropy", output_names=None, label_names=None):
        super().__init__(name, eps=eps, output_names=output_names, label_names=label_names, has_global_stats=True)
        self.eps = eps


@register
class Perplexity(_CoreMetric):
    """exp of the mean of -log(max(p, 1e-10)), p the predicted probability (along `axis`) of each label other
    than ignore_label."""

    _core_name = "perplexity"
    _core_args = ("ignore_label", "axis")

    def __init__(self, ignore_label, axis=-1, name="perplexity", output_names=None, label_names=None):
        super().__init__(name, ignore_label=ignore_label, axis=axis, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self.ignore_label = ignore_label
        self.axis = axis

    def get(self):
        if self.num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.sum_metric / self.num_inst))

    def get_global(self):
        if self.global_num_inst == 0:
            return (self.name, float("nan"))
        return (self.name, math.exp(self.global_sum_metric / self.global_num_inst))


@register
class Loss(_CoreMetric):
    """The mean of every element of the predictions (labels are ignored), for printing a loss."""

    _core_name = "loss"

    def __init__(self, name="loss", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names, has_global_stats=True)

    def update(self, _, preds):  # pylint: disable=arguments-renamed
        if isinstance(preds, NDArray):
            preds = [preds]
        core = self._batch_metric()
        core.reset()
        core.update([], _handles(preds))
        batch_sum, batch_count = core.sum_metric, _count(core.num_inst)
        self.sum_metric += batch_sum
        self.global_sum_metric += batch_sum
        self.num_inst += batch_count
        self.global_num_inst += batch_count


@register
class Torch(Loss):
    """Loss, named 'torch' (MXNet's dummy metric for torch criterions)."""

    def __init__(self, name="torch", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class Caffe(Loss):
    """Loss, named 'caffe' (MXNet's dummy metric for caffe criterions)."""

    def __init__(self, name="caffe", output_names=None, label_names=None):
        super().__init__(name, output_names=output_names, label_names=label_names)


@register
class CustomMetric(EvalMetric):
    """A metric from feval(label, pred) on NumPy arrays, returning a value (one instance) or a
    (sum_metric, num_inst) pair."""

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None, label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = "custom(%s)" % name
        super().__init__(name, feval=feval, allow_extra_outputs=allow_extra_outputs, output_names=output_names,
                         label_names=label_names, has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            result = self._feval(label.asnumpy(), pred.asnumpy())
            batch_sum, batch_count = result if isinstance(result, tuple) else (result, 1)
            self.sum_metric += batch_sum
            self.global_sum_metric += batch_sum
            self.num_inst += batch_count
            self.global_num_inst += batch_count

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval, name=None, allow_extra_outputs=False):  # pylint: disable=invalid-name
    """A CustomMetric from a function of NumPy arrays feval(label, pred) -> float."""
    def feval(label, pred):
        return numpy_feval(label, pred)

    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)

