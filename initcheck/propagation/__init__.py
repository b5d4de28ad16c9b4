"""Signal propagation: the property ``verify`` checks (``property``), the seed's experiment
made general (``simulation``), traces of real models (``model_trace``) and the figures
(``plot``).
"""

from initcheck.core.compat import forward

# the names initcheck 0.2's module of this name held, with a DeprecationWarning
__getattr__ = forward(__name__)
