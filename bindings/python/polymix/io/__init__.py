"""mx.io: data iterators (DataDesc, DataBatch, DataIter, NDArrayIter, ResizeIter)."""

from . import io  # noqa: F401
from .io import DataBatch, DataDesc, DataIter, NDArrayIter, ResizeIter  # noqa: F401

__all__ = ["DataBatch", "DataDesc", "DataIter", "NDArrayIter", "ResizeIter"]
