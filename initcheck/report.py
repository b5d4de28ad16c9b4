"""Kept so that imports written against initcheck 0.1 (``from initcheck.report import
Report``) still work: the result types live in ``initcheck.results``."""

from initcheck.results import SCHEMA, Report

__all__ = ["SCHEMA", "Report"]
