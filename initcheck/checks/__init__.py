"""The checks and what they run over: the battery of checks with its plan per family
(``battery``), the contexts that hold drawn or given tensors (``contexts``) and the shapes
drawn when none are given (``shapes``).
"""

from initcheck.core.compat import forward

# the names initcheck 0.2's module of this name held, with a DeprecationWarning
__getattr__ = forward(__name__)
