"""Audits: verify whole catalogues of initializers (initcheck's own, each framework's, plug-ins')
against the specs they document. ``run`` audits one by name or ``"all"``; a plug-in's
catalogue is a function returning ``Entry`` objects, registered under ``ENTRY_POINT_GROUP``.
"""

from initcheck.audit.entry import Entry
from initcheck.audit.runner import (
    CATALOGUES,
    ENTRY_POINT_GROUP,
    AuditResult,
    AuditRow,
    available,
    run,
)

__all__ = [
    "CATALOGUES",
    "ENTRY_POINT_GROUP",
    "AuditResult",
    "AuditRow",
    "Entry",
    "available",
    "run",
]
