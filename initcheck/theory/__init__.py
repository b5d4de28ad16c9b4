"""The theory layer: activations, exact Gaussian expectations, mean-field propagation
(``meanfield``), the gains it derives and torch's gain table.
"""

from initcheck.core.compat import forward

# the names initcheck 0.2's module of this name held, with a DeprecationWarning
__getattr__ = forward(__name__)
