"""JSON Schemas (draft 2020-12) of what initcheck writes, registered in ``SCHEMAS`` by the id
each document carries in its ``schema`` key: one per result type (its ``SCHEMA``), and the
documents the command line writes around them (``identify``, ``gain``). CI tooling can
validate against them; the test suite validates every result type and every command's
``--json`` output."""

from __future__ import annotations

from typing import Any

_NUM = {"type": ["number", "null"]}

CHECK: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.check/1",
    "type": "object",
    "required": ["name", "passed", "statistic", "threshold", "pvalue", "alpha", "n", "mde",
                 "detail", "observed", "expected", "shape", "extra"],
    "properties": {
        "name": {"type": "string"}, "passed": {"type": "boolean"},
        "statistic": _NUM, "threshold": _NUM, "pvalue": _NUM,
        "alpha": {"type": "number", "minimum": 0, "maximum": 1},
        "n": {"type": "integer", "minimum": 0}, "mde": _NUM, "detail": {"type": "string"},
        "observed": _NUM, "expected": _NUM,
        "shape": {"type": ["array", "null"], "items": {"type": "integer"}},
        "extra": {"type": "object"},
    },
}

REPORT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.report/1",
    "type": "object",
    "required": [
        "schema",
        "initializer",
        "framework",
        "layout",
        "spec",
        "seed",
        "alpha",
        "alpha_spent",
        "dtype",
        "shapes",
        "passed",
        "checks",
        "meta",
    ],
    "properties": {
        "schema": {"const": "initcheck.report/1"},
        "initializer": {"type": "string"},
        "framework": {"type": "string"},
        "layout": {"type": "string"},
        "spec": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "alpha_spent": {"type": "number", "minimum": 0},
        "dtype": {"type": "string"},
        "shapes": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        },
        "passed": {"type": "boolean"},
        "checks": {"type": "array", "items": CHECK, "minItems": 1},
        "meta": {"type": "object"},
    },
}

AUDIT_ROW: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.audit_row/1",
    "type": "object",
    "required": ["name", "framework", "activation", "verdict", "finding", "report"],
    "properties": {
        "name": {"type": "string"}, "framework": {"type": "string"},
        "activation": {"type": ["string", "null"]},
        "verdict": {"enum": ["pass", "fail", "error"]},
        "finding": {"type": "string"}, "note": {"type": "string"},
        "report": {"oneOf": [{"type": "null"}, REPORT]},
    },
}

AUDIT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.audit/1",
    "type": "object",
    "required": ["schema", "target", "seed", "alpha", "passed", "initializers"],
    "properties": {
        "schema": {"const": "initcheck.audit/1"},
        "target": {"type": "string"}, "seed": {"type": "integer"}, "alpha": {"type": "number"},
        "passed": {"type": "boolean"},
        "initializers": {"type": "array", "items": AUDIT_ROW},
    },
}

TRACE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.trace/1",
    "type": "object",
    "required": ["schema", "init", "activation", "depth", "widths", "batch", "seed", "layers",
                 "bin_edges", "notes"],
    "properties": {
        "schema": {"const": "initcheck.trace/1"},
        "depth": {"type": "integer", "minimum": 1},
        "widths": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        "layers": {"type": "array", "items": {
            "type": "object",
            "required": ["layer", "width", "q", "mean", "std", "quantiles", "hist", "saturated",
                         "zero_fraction", "dead_units", "grad_second", "grad_std", "predicted"],
            "properties": {"hist": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                           "std": {"type": ["number", "null"], "minimum": 0}}}},
    },
}

GAIN_VALUE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.gain_value/1",
    "type": "object",
    "required": ["schema", "activation", "criterion", "value", "q_star", "chi1", "output_std",
                 "sigma_b", "q_def", "chi1_def", "degenerate", "note"],
    "properties": {
        "schema": {"const": "initcheck.gain_value/1"},
        "activation": {"type": "string"},
        "criterion": {"type": "string"},  # a gain criterion, "given", "torch table"
        "value": {"type": ["number", "null"], "exclusiveMinimum": 0},
        "q_star": _NUM, "chi1": _NUM, "output_std": _NUM, "sigma_b": {"type": "number"},
        "q_def": _NUM, "chi1_def": _NUM, "degenerate": {"type": "boolean"},
        "note": {"type": "string"},
    },
}

CANDIDATE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.candidate/1",
    "type": "object",
    "required": ["schema", "claim", "convention", "layout", "family", "gain", "named",
                 "std_ratio", "std_ratio_se", "pvalue", "loglik", "explanation", "rule"],
    "properties": {
        "schema": {"const": "initcheck.candidate/1"},
        "claim": {"type": "string"}, "convention": {"type": "string"},
        "layout": {"type": "string"}, "family": {"type": "string"}, "gain": _NUM,
        "named": {"type": "boolean"}, "std_ratio": _NUM, "std_ratio_se": _NUM,
        "pvalue": {"type": ["number", "null"], "minimum": 0, "maximum": 1}, "loglik": _NUM,
        "explanation": {"type": "string"}, "rule": {"type": "string"},
        "same_law": {"type": "array", "items": {"type": "string"}},
    },
}

IDENTIFY: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.identify/1",
    "type": "object",
    "required": ["schema", "target", "candidates"],
    "properties": {
        "schema": {"const": "initcheck.identify/1"}, "target": {"type": "string"},
        "candidates": {"type": "array", "items": CANDIDATE},
    },
}

_TREND = {"type": ["object", "null"],
          "required": ["direction", "rate", "low", "high", "growth", "factor", "start", "passed"],
          "properties": {"passed": {"type": "boolean"}}}

MODEL_TRACE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.model_trace/1",
    "type": "object",
    "required": ["schema", "passed", "factor", "seed", "blocks", "forward", "backward",
                 "records"],
    "properties": {
        "schema": {"const": "initcheck.model_trace/1"}, "passed": {"type": "boolean"},
        "factor": {"type": "number", "exclusiveMinimum": 1}, "seed": {"type": "integer"},
        "blocks": {"type": "array", "items": {"type": "string"}},
        "forward": _TREND, "backward": _TREND,
        "records": {"type": "array", "items": {
            "type": "object",
            "required": ["index", "name", "kind", "shape", "rms", "std", "mean", "grad_rms",
                         "grad_std"],
            "properties": {"shape": {"type": "array", "items": {"type": "integer"}}}}},
    },
}

GAIN: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.gain/1",
    "type": "object",
    "required": ["schema", "activation", "gains"],
    "properties": {
        "schema": {"const": "initcheck.gain/1"},
        "gains": {"type": "array", "items": GAIN_VALUE},
    },
}

MODEL_REPORT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.model_report/1",
    "type": "object",
    "required": ["schema", "model", "framework", "policy", "alpha", "alpha_spent", "strict",
                 "passed", "tensors", "groups", "unmatched", "checks", "meta"],
    "properties": {
        "schema": {"const": "initcheck.model_report/1"},
        "model": {"type": "string"}, "framework": {"type": "string"},
        "policy": {"type": "string"},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "alpha_spent": {"type": "number", "minimum": 0},
        "strict": {"type": "boolean"}, "passed": {"type": "boolean"},
        "tensors": {"type": "array", "items": {
            "type": "object",
            "required": ["names", "shape", "dtype", "rule", "match", "claim", "verdict", "worst",
                         "failed"],
            "properties": {
                "names": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "dtype": {"type": "string"}, "rule": {"type": ["integer", "null"]},
                "match": {"type": ["string", "null"]}, "claim": {"type": "string"},
                "verdict": {"enum": ["pass", "FAIL", "skip", "unmatched", "empty"]},
                "worst": {"type": ["object", "null"]},
                "failed": {"type": "array", "items": {"type": "string"}},
            }}},
        "groups": {"type": "array", "items": {
            "type": "object",
            "required": ["rule", "match", "claim", "tensors", "elements", "alpha", "mde",
                         "passed", "checks"],
            "properties": {"rule": {"type": "integer", "minimum": 1},
                           "tensors": {"type": "array", "items": {"type": "string"}},
                           "elements": {"type": "integer", "minimum": 1},
                           "mde": _NUM, "passed": {"type": "boolean"},
                           "checks": {"type": "array", "items": CHECK, "minItems": 1}}}},
        "unmatched": {"type": "array", "items": {"type": "string"}},
        "coverage": {"type": "object", "required": ["checked", "skipped", "unclaimed"],
                     "additionalProperties": {
                         "type": "object", "required": ["tensors", "elements"],
                         "properties": {"tensors": {"type": "integer", "minimum": 0},
                                        "elements": {"type": "integer", "minimum": 0}}}},
        "checks": {"type": "array", "items": CHECK},
        "meta": {"type": "object"},
    },
}

WIDTH_SWEEP: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.width_sweep/1",
    "type": "object",
    "required": ["schema", "target", "widths", "slopes"],
    "properties": {
        "schema": {"const": "initcheck.width_sweep/1"}, "target": {"type": "string"},
        "widths": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        "slopes": {"type": "array", "items": {
            "type": "object", "required": ["name", "slope", "low", "high", "flagged"],
            "properties": {"flagged": {"type": "boolean"}}}},
    },
}

#: Every schema by the id its documents carry (``schema`` key; a result type's ``SCHEMA``).
MODEL_DIFF: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.model_diff/1",
    "type": "object",
    "required": ["schema", "model_a", "model_b", "alpha", "passed", "tensors", "groups",
                 "only_a", "only_b"],
    "properties": {
        "schema": {"const": "initcheck.model_diff/1"},
        "model_a": {"type": "string"}, "model_b": {"type": "string"},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "passed": {"type": "boolean"},
        "tensors": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "name_b", "shape", "shape_b", "ratio", "ratio_low",
                         "ratio_high", "passed", "checks", "holds_a", "holds_b"],
            "properties": {
                "name": {"type": "string"}, "name_b": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "shape_b": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "ratio": _NUM, "ratio_low": _NUM, "ratio_high": _NUM,
                "passed": {"type": "boolean"},
                "checks": {"type": "array", "items": CHECK, "minItems": 1},
                "holds_a": {"type": "string"}, "holds_b": {"type": "string"},
            }}},
        "groups": {"type": "array", "items": {
            "type": "object", "required": ["group", "check"],
            "properties": {"group": {"type": "string"}, "check": CHECK}}},
        "only_a": {"type": "array", "items": {"type": "string"}},
        "only_b": {"type": "array", "items": {"type": "string"}},
    },
}

MODEL_DESCRIPTION: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.model_description/1",
    "type": "object",
    "required": ["schema", "model", "framework", "alpha", "passed", "rules", "python", "toml",
                 "report", "meta"],
    "properties": {
        "schema": {"const": "initcheck.model_description/1"},
        "model": {"type": "string"}, "framework": {"type": "string"},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "passed": {"type": "boolean"},
        "rules": {"type": "array", "items": {
            "type": "object",
            "required": ["match", "module", "claim", "convention", "words", "tensors",
                         "elements", "pvalue", "mde"],
            "properties": {
                "match": {"type": "string"},
                "module": {"type": "array", "items": {"type": "string"}},
                "claim": {"type": "string"}, "convention": {"type": "string"},
                "words": {"type": "string"},
                "tensors": {"type": "array", "items": {"type": "string"}},
                "elements": {"type": "integer", "minimum": 0},
                "pvalue": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "mde": _NUM,
            }}},
        "python": {"type": "string"}, "toml": {"type": "string"},
        "report": MODEL_REPORT,
        "meta": {"type": "object"},
    },
}

EXPLORE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "initcheck.explore/1",
    "type": "object",
    "required": ["schema", "initializer", "spec", "framework", "layout", "seed", "alpha",
                 "alpha_each", "budget", "examples", "max_examples", "passed", "mdes", "layer",
                 "shape", "report", "error", "exhausted", "reproduce"],
    "properties": {
        "schema": {"const": "initcheck.explore/1"},
        "initializer": {"type": "string"}, "spec": {"type": "string"},
        "framework": {"type": "string"}, "layout": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
        "alpha": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "alpha_each": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "budget": {"type": "integer", "minimum": 1},
        "examples": {"type": "integer", "minimum": 0},
        "max_examples": {"type": "integer", "minimum": 1},
        "passed": {"type": "boolean"},
        "mdes": {"type": "array", "items": _NUM},
        "layer": {"type": ["object", "null"],
                  "required": ["in_channels", "out_channels", "kernel", "groups", "transposed"],
                  "properties": {"kernel": {"type": "array", "items": {"type": "integer"}},
                                 "transposed": {"type": "boolean"}}},
        "shape": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1}},
        "found_at": {"type": ["array", "null"], "items": {"type": "integer", "minimum": 1}},
        "report": {"oneOf": [{"type": "null"}, REPORT]},
        "error": {"type": ["string", "null"]}, "exhausted": {"type": "boolean"},
        "reproduce": {"type": ["string", "null"]}, "seconds": _NUM,
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    schema["title"]: schema
    for schema in (CHECK, REPORT, EXPLORE, MODEL_REPORT, MODEL_DIFF, MODEL_DESCRIPTION, AUDIT,
                   AUDIT_ROW, TRACE, MODEL_TRACE, GAIN, GAIN_VALUE, CANDIDATE, IDENTIFY,
                   WIDTH_SWEEP)
}
