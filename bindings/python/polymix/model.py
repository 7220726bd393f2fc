"""mx.model: MXNet 1.x's checkpoint files and the record handed to batch callbacks.

A checkpoint is MXNet's pair of files: `prefix-symbol.json` (the symbol's JSON) and `prefix-%04d.params` (an
MXNet .params file whose keys are 'arg:<name>' for arguments and 'aux:<name>' for auxiliary states), so
checkpoints move between MXNet 1.x and Polymix in both directions.
"""

import logging
from collections import namedtuple

from . import ndarray as nd
from . import symbol as sym
from .context import cpu

__all__ = ["BatchEndParam", "save_checkpoint", "load_params", "load_checkpoint"]

# What fit() and score() hand to batch_end_callback: the epoch, the batch number in it, the metric being
# accumulated and the caller's locals() (MXNet's namedtuple, type name included).
BatchEndParam = namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])


def _params_name(prefix, epoch):
    return "%s-%04d.params" % (prefix, epoch)


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Writes `prefix-symbol.json` (unless symbol is None) and `prefix-%04d.params` with the parameters keyed
    'arg:<name>' and 'aux:<name>'."""
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix, remove_amp_cast=remove_amp_cast)
    save_dict = {"arg:%s" % name: value.as_in_context(cpu()) for name, value in arg_params.items()}
    save_dict.update({"aux:%s" % name: value.as_in_context(cpu()) for name, value in aux_params.items()})
    param_name = _params_name(prefix, epoch)
    nd.save(param_name, save_dict)
    logging.info('Saved checkpoint to "%s"', param_name)


def split_params(save_dict, fname, strict=True):
    """(arg_params, aux_params) from a loaded .params dict keyed 'arg:<name>' / 'aux:<name>'; another key is a
    ValueError naming the file when strict (Module.load_params), skipped otherwise (load_params, as MXNet)."""
    arg_params, aux_params = {}, {}
    for key, value in save_dict.items():
        kind, _, name = key.partition(":")
        if kind == "arg" and name:
            arg_params[name] = value
        elif kind == "aux" and name:
            aux_params[name] = value
        elif strict:
            raise ValueError("Invalid param file %s: key %r is neither 'arg:<name>' nor 'aux:<name>'"
                             % (fname, key))
    return arg_params, aux_params


def load_params(prefix, epoch):
    """(arg_params, aux_params) from `prefix-%04d.params`."""
    fname = _params_name(prefix, epoch)
    save_dict = nd.load(fname)
    if not save_dict:
        logging.warning("Params file '%s' is empty", fname)
        return ({}, {})
    if not isinstance(save_dict, dict):
        raise ValueError("Invalid param file %s: its arrays have no names ('arg:<name>' / 'aux:<name>')" % fname)
    return split_params(save_dict, fname, strict=False)


def load_checkpoint(prefix, epoch):
    """(symbol, arg_params, aux_params) from `prefix-symbol.json` and `prefix-%04d.params`."""
    symbol = sym.load("%s-symbol.json" % prefix)
    arg_params, aux_params = load_params(prefix, epoch)
    return (symbol, arg_params, aux_params)
