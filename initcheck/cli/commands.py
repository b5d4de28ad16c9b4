"""The ``initcheck`` commands, one function each (``cli`` parses the arguments and maps
errors to exit codes): list, verify, identify, model, trace, audit, simulate, gain; and the output
helpers they share (JSON without wall times, tables, a progress line)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from initcheck.cli.inputs import (
    UsageError,
    call,
    is_import_path,
    parse_pairs,
    resolve_target,
    target_initializer,
    user_code,
)
from initcheck.core.text import paint, table, use_color, wrap

#: The reference article's experiment: 100 x 100 weights (node_num = 100).
LIST_SHAPE = (100, 100)
#: 0 every check passed, 1 a check failed, 2 usage or input error, 3 an internal error (no
#: verdict): 1 means only a failed check.
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


#: Wall-time fields: they differ between two runs of one seed.
TIMING_FIELDS = ("seconds", "draw_seconds")


def _without_timings(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _without_timings(v) for k, v in doc.items() if k not in TIMING_FIELDS}
    if isinstance(doc, list):
        return [_without_timings(v) for v in doc]
    return doc


def _write_json(doc: dict, path: str, timings: bool = True) -> None:
    text = json.dumps(doc if timings else _without_timings(doc), indent=2, allow_nan=False)
    if path == "-":
        print(text)
    else:
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise UsageError(f"cannot write JSON to {path!r}: {exc.strerror}") from None


def emit(result: Any, args: argparse.Namespace, *, timings: bool | None = None) -> int:
    """Print a result (unless its JSON goes to stdout), write its JSON where --json says,
    and return the exit code of its verdict."""
    if args.json != "-":
        print(paint(str(result), use_color()))
    if args.json:
        _write_json(result.to_dict(), args.json,
                    timings=not args.no_timings if timings is None else timings)
    return EXIT_OK if result.passed else EXIT_FAIL


def _table(rows: list[tuple[str, ...]]) -> None:
    """Rows as a table within the terminal's width (the last column wraps)."""
    print("\n".join(table(rows, indent=0, first_max=40)))


class _Progress:
    """A one-line progress display on a terminal's stderr; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, i: int, n: int, what: str) -> None:
        if self.enabled:
            print(f"\r[{i}/{n}] {what[:50]:<50}", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.enabled:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ commands


def cmd_list(args: argparse.Namespace) -> int:
    """Every built-in initializer: its claim, and its law at the given shape."""
    from initcheck.claims import initializers, specs
    from initcheck.core.fans import compute_fans

    shape, layout = args.shape, args.layout
    fans = compute_fans(shape, layout)
    print(f"shape {shape} in layout {layout!r}: fan_in={fans.fan_in}, fan_out={fans.fan_out},"
          f" receptive_field={fans.receptive_field}")
    rows = [("name", "std", "support", "claims")]
    for name in specs.SPECS:
        init = initializers.get(name, layout=layout)
        law = init.law(shape)
        support = "(-inf, inf)" if not law.bounded else f"[{law.low:.4g}, {law.high:.4g}]"
        rows.append((name, f"{law.std:.4g}", support, init.spec.formula))
    _table(rows)
    print(wrap("aliases: " + ", ".join(f"{a} -> {c}" for a, c in specs.ALIASES.items())))
    print(wrap("short names (the reference article's): "
               + ", ".join(f"{m} -> {n}" for m, n in initializers.SHORT_NAMES.items())))
    return EXIT_OK


def _declared_claim(init: object) -> object:
    """The claim a torch, jax or keras initializer states itself (None for others); one
    whose law no spec states is a usage error naming it."""
    from initcheck.frameworks.declared import declared

    try:
        return declared(init)
    except ValueError as exc:
        raise UsageError(f"{exc} Pass --expect NAME.") from None


def _target_and_claim(args: argparse.Namespace) -> tuple[Any, Any]:
    """TARGET's initializer and the claim --expect and --param make (None: its own)."""
    from initcheck.claims import specs
    init = target_initializer(args)
    params = parse_pairs(args.param, "--param")
    expect = None
    if args.expect:
        expect = specs.spec(args.expect, **params)
    elif params:
        raise UsageError("--param sets parameters of --expect; pass --expect NAME too")
    elif is_import_path(args.target) and _declared_claim(init) is None:
        raise UsageError(f"{args.target} carries no spec: say what it claims with --expect NAME"
                         " (e.g. --expect he_normal, with --param mode=fan_out for parameters)")
    return init, expect


def cmd_explore(args: argparse.Namespace) -> int:
    """Search layer shapes for one where TARGET draws the wrong law (Hypothesis)."""
    init, expect = _target_and_claim(args)
    from initcheck.verification.exploration import explore

    found = explore(init, expect, max_examples=args.max_examples, seed=args.seed,
                    alpha=args.alpha, framework=args.framework, dtype=args.dtype,
                    layout=args.layout if is_import_path(args.target) else None)
    return emit(found, args)


def cmd_verify(args: argparse.Namespace) -> int:
    init, expect = _target_and_claim(args)
    _check_plot_target(args.plot, "--activation" if not args.activation else None)
    from initcheck.verification.pipeline import (
        verify,  # the statistics stack: after the input checks
    )

    # a built-in already carries --layout; an import path's layout is given here
    report = verify(init, expect=expect, framework=args.framework,
                    layout=args.layout if is_import_path(args.target) else None,
                    shapes=args.shape or None, seed=args.seed, alpha=args.alpha, dtype=args.dtype,
                    activation=args.activation, name=args.target)
    code = emit(report, args)
    if args.plot and report.trace is not None:
        from initcheck.propagation import plot
        plot.save(plot.depth_profile(report.trace), args.plot)
    return code


def cmd_identify(args: argparse.Namespace) -> int:
    """What TARGET draws: the claims that explain its samples, best first."""
    init = target_initializer(args)
    from initcheck.identification.search import identify

    found = identify(init, framework=args.framework, layout=args.layout if is_import_path(
        args.target) else None, shapes=args.shape or None, seed=args.seed, alpha=args.alpha)
    if args.json:
        _write_json(
            {
                "schema": "initcheck.identify/1",
                "target": args.target,
                "candidates": [c.to_dict() for c in found],
            },
            args.json,
        )
    if args.json != "-":
        for i, c in enumerate(found[:5]):
            print(wrap(f"{i + 1}. {c}", indent=3))
        if not found:
            print("nothing in the search space explains the samples (docs/identify.md lists it)")
    return EXIT_OK if found else EXIT_FAIL


def _trace_inputs(args: argparse.Namespace, model: Any, width: int | None) -> Any:
    """Seeded inputs: normal floats of --input-shape ('W' stands for the width), or token
    ids of shape --input-ids below the model's config.vocab_size."""
    import torch

    g = torch.Generator().manual_seed(args.seed)
    if args.input_ids:
        vocab = getattr(getattr(model, "config", None), "vocab_size", None)
        if vocab is None:
            raise UsageError("--input-ids needs a model with config.vocab_size (a transformers"
                             " model); give --input-shape for float inputs")
        return torch.randint(0, vocab, args.input_ids, generator=g)
    if not args.input_shape:
        raise UsageError("give --input-shape (e.g. 512,256, or 512,W with --widths) or --input-ids")
    dims = [width if d == "W" else d for d in args.input_shape]
    if any(d is None for d in dims):
        raise UsageError("'W' in --input-shape stands for the width: give --widths too")
    return torch.randn(*dims, generator=g)


def cmd_trace(args: argparse.Namespace) -> int:
    """Trace the model TARGET's factory returns (or, with --widths, builds at each width)."""
    factory = resolve_target(args.target)
    kwargs = parse_pairs(args.kwarg, "--kwarg")
    from initcheck.propagation.model_trace import trace_model, width_sweep

    def build(**extra: Any) -> Any:
        return call(args.target, factory, {**kwargs, **extra},
                    "a factory that returns a torch model")

    if args.widths:
        slopes = width_sweep(lambda w: build(width=w), args.widths,
                             lambda w: _trace_inputs(args, None, w), seed=args.seed)
        if args.json != "-":
            rows = [("module", "slope of log RMS on log width", "99% interval", "flag")]
            rows += [(s.name, f"{s.slope:+.3f}", f"[{s.low:+.3f}, {s.high:+.3f}]",
                      "grows" if s.flagged and s.slope > 0 else "shrinks" if s.flagged else "")
                     for s in slopes]
            _table(rows)
        if args.json:
            _write_json({"schema": "initcheck.width_sweep/1", "target": args.target,
                         "widths": list(args.widths), "slopes": [s.to_dict() for s in slopes]},
                        args.json)
        return EXIT_FAIL if any(s.flagged for s in slopes) else EXIT_OK
    model = build()
    with user_code(f"{args.target}'s forward pass"):  # trace_model names a wrong input itself
        trace = trace_model(model, _trace_inputs(args, model, None), seed=args.seed,
                            factor=args.factor, blocks=args.blocks)
    if args.json != "-":
        print(trace)
    if args.json:
        _write_json(trace.to_dict(), args.json)
    if args.plot:
        from initcheck.propagation import plot
        plot.save(plot.trace_profile(trace, title=args.target), args.plot)
    return EXIT_OK if trace.passed else EXIT_FAIL


def _check_plot_target(path: str | None, missing: str | None = None) -> None:
    """A plot needs the option ``missing`` names, without which nothing would be drawn (its
    path is checked with every output's, before the run: ``session.check_outputs``)."""
    if not path:
        return
    if missing:
        raise UsageError(f"--plot draws the depth profile of the propagation check: add {missing}"
                         " (e.g. --activation relu), or drop --plot")


def cmd_audit(args: argparse.Namespace) -> int:
    """Verify every built-in initializer against its spec (and, with --activation or by
    default its intended activation, the propagation property)."""
    from initcheck.audit import runner as audit_mod
    progress = _Progress(args.progress)
    result = audit_mod.run(args.target, seed=args.seed, alpha=args.alpha, progress=progress,
                           propagation=not args.no_propagation)
    progress.done()
    if args.json != "-":
        print(result.text())
        print(result.summary())
    if args.json:
        _write_json(result.to_dict(), args.json, timings=not args.no_timings)
    return EXIT_OK if result.passed else EXIT_FAIL


def cmd_simulate(args: argparse.Namespace) -> int:
    from initcheck.propagation.simulation import simulate

    init = target_initializer(args) if args.target else None
    trace = simulate(init, args.activation, depth=args.depth, width=args.width, batch=args.batch,
                     seed=args.seed, bias=args.bias, backward=not args.forward_only,
                     expect=args.expect)
    if args.json != "-":
        print(trace.table())
    if args.json:
        _write_json(trace.to_dict(), args.json)
    if args.plot or args.profile:
        from initcheck.propagation import plot
        if args.plot:
            plot.save(plot.histograms(trace), args.plot)
            if args.json != "-":
                print(f"wrote {args.plot}")
        if args.profile:
            plot.save(plot.depth_profile(trace), args.profile)
            if args.json != "-":
                print(f"wrote {args.profile}")
    return EXIT_OK


def cmd_gain(args: argparse.Namespace) -> int:
    from initcheck.theory import activations, gains
    from initcheck.theory.torch_gains import NONLINEARITIES, torch_gain

    params = parse_pairs(args.param, "--param")
    act = activations.get(args.activation, **params)
    rows = [("criterion", "gain", "at q", "chi_1", "q*", "chi_1(q*)", "output std")]
    found = [gains.gain(act, criterion, sigma_b=args.sigma_b) for criterion in gains.CRITERIA]
    torch_name = act.torch_name
    torch_value = None
    if torch_name in NONLINEARITIES:
        torch_value = (
            torch_gain(torch_name, params.get("a"))
            if torch_name == "leaky_relu"
            else torch_gain(torch_name)
        )
        found.append(gains.gain_effect(act, torch_value, "torch table", sigma_b=args.sigma_b))
    for g in found:
        if math.isnan(g.value):
            rows.append((g.criterion, "none", "-", "-", "-", "-", "-"))
        else:
            q_def = "q* -> 0" if g.degenerate else f"{g.q_def:.4g}"
            rows.append(
                (
                    g.criterion,
                    f"{g.value:.6g}",
                    q_def,
                    f"{g.chi1_def:.4g}",
                    f"{g.q_star:.4g}",
                    f"{g.chi1:.4g}",
                    f"{g.output_std:.4g}",
                )
            )
    if args.json != "-":
        print(
            wrap(f"gains for {act} (weight std = gain / sqrt(fan_in); sigma_b = {args.sigma_b:g});"
                 " each gain is defined at a length q (chi_1 there), q* is the fixed point"
                 " reached from q = 1 (chi_1 at it), output std the net's after many layers")
        )
        _table(rows)
        for g in found:
            if g.note:
                print(wrap(f"  {g.criterion}: {g.note}", indent=4))
        if torch_value is None:
            print(f"torch's calculate_gain has no entry for {act.name}")
    if args.json:
        _write_json({"schema": "initcheck.gain/1", "activation": str(act), "sigma_b": args.sigma_b,
                     "gains": [g.to_dict() for g in found]}, args.json)
    return EXIT_OK
