"""What do the samples follow? ``identify`` (``search``) over the space of named claims
(``claim_space``), and the sibling conventions a failed claim may match (``conventions``).
"""

from initcheck.core.compat import forward

# the names initcheck 0.2's module of this name held, with a DeprecationWarning
__getattr__ = forward(__name__)
