"""``verify``: does an initializer draw what it claims? (``pipeline``).
"""

from initcheck.core.compat import forward

# the names initcheck 0.2's module of this name held, with a DeprecationWarning
__getattr__ = forward(__name__)
