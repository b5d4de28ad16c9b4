"""The ``initcheck`` command: the parser and ``main`` (``parser``), one function per
command (``commands``), and the inputs' types and import paths (``inputs``).
"""

from initcheck.core.compat import forward

# the names initcheck 0.2's module of this name held, with a DeprecationWarning
__getattr__ = forward(__name__)
