"""The two small containers the model zoo needs from MXNet's gluon.contrib.nn (which Polymix does not have):
HybridConcurrent (children run on the same input, outputs concatenated) and Identity."""

from ...block import HybridBlock
from ... import nn


class HybridConcurrent(nn.HybridSequential):
    """Runs every child on the same input and concatenates their outputs along `axis` (MXNet's
    contrib.nn.HybridConcurrent; parameter names depend only on the children, so MXNet's files load)."""

    def __init__(self, axis=-1, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self.axis = axis

    def hybrid_forward(self, F, x):
        return F.concat(*[block(x) for block in self._children.values()], dim=self.axis)


class Identity(HybridBlock):
    """Returns its input (MXNet's contrib.nn.Identity): the shortcut branch of a dense layer."""

    def hybrid_forward(self, F, x):
        return x
