"""mx.gluon.model_zoo: MXNet 1.9.1's predefined vision models (`vision`) and the store of their pretrained
weights (`model_store`), with MXNet's parameter names so .params files move between the two libraries."""

from . import model_store  # noqa: F401
from . import vision  # noqa: F401
