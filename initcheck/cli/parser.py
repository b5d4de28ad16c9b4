"""The ``initcheck`` command (also ``python -m initcheck``).

Commands: list, verify, explore, identify, audit, model, describe, diff, simulate, gain.
Exit codes: 0 every check passed, 1 a check failed, 2 usage or input error (a message that
names the fix, never a bare traceback), 3 an internal error (no verdict was reached)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from initcheck import __version__
from initcheck.cli.commands import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    LIST_SHAPE,
    cmd_audit,
    cmd_explore,
    cmd_gain,
    cmd_identify,
    cmd_list,
    cmd_simulate,
    cmd_trace,
    cmd_verify,
)
from initcheck.cli.inputs import (
    UsageError,
    in_cli_language,
    nonneg_int,
    parse_alpha,
    parse_shape,
    positive_int,
)
from initcheck.cli.model_commands import cmd_describe, cmd_diff, cmd_model
from initcheck.cli.session import check_outputs, joined_negatives, parse_seed
from initcheck.core import threads
from initcheck.core.defaults import DEFAULT_ALPHA, DEFAULT_AUDIT_ALPHA, PROPAGATION_FACTOR
from initcheck.core.fans import DEFAULT_LAYOUT, LAYOUTS
from initcheck.frameworks import install_hint

# -------------------------------------------------------------------------------- parser


#: Every option's help shows its default.
class _Help(argparse.RawDescriptionHelpFormatter):
    """Each option's default said once, where it has one (none for flags and unset
    options), and the examples (the epilog) kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default == argparse.SUPPRESS
                or "default" in text or isinstance(action, argparse._HelpAction)):
            return text
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        return f"{text} (default: {shown})"


_HELP = _Help
#: How an initializer is called (verify, explore, identify): every choice ``--framework`` takes.
INIT_FRAMEWORKS = ("auto", "numpy", "torch", "jax", "keras", "haiku")
#: One example per command, shown under its --help.
EXAMPLES = {
    "list": "initcheck list --shape 64,32,3,3 --layout torch",
    "verify": "initcheck verify he_normal\n"
              "  initcheck verify mypkg.inits:my_init --expect he_normal --param mode=fan_out"
              " --layout torch\n"
              "  initcheck verify torch.nn.init:kaiming_normal_ --framework torch --json out.json",
    "explore": "initcheck explore mypkg.inits:my_init --expect he_normal --layout torch",
    "audit": "initcheck audit torch --json audit.json",
    "identify": "initcheck identify mypkg.inits:my_init --layout torch",
    "model": "initcheck model mypkg.nets:make_mlp --kwarg width=256 --policy torch --seed 3",
    "describe": "initcheck describe mypkg.nets:make_mlp --toml policy.toml",
    "diff": "initcheck diff mypkg.nets:make_v1 mypkg.nets:make_v2",
    "trace": "initcheck trace mypkg.nets:make_mlp --input-shape 64,784",
    "simulate": "initcheck simulate --init xavier_normal --activation tanh --depth 5",
    "gain": "initcheck gain leaky_relu --param a=0.2",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="initcheck", description="Verifiable neural-network weight initialization.",
        epilog="Exit codes: 0 pass, 1 a check failed, 2 usage or input error, 3 internal error.")
    parser.add_argument("--version", action="version", version=f"initcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    layouts = list(LAYOUTS)

    p = sub.add_parser(
        "list",
        formatter_class=_HELP,
        help="list the built-in initializers and their laws at a shape",
    )
    p.add_argument("--shape", type=parse_shape, default=LIST_SHAPE,
                   help="weight shape, e.g. 784,256 (the reference article's is 100,100)")
    p.add_argument("--layout", default=DEFAULT_LAYOUT, choices=layouts,
                   help="which axes hold in and out (keras: (*k, in, out))")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser(
        "verify", formatter_class=_HELP, help="verify one initializer against a spec"
    )
    p.add_argument("target", help="a built-in name (he_normal) or an import path"
                                  " (package.module:attr or package.module.attr)")
    p.add_argument(
        "--expect", help="the spec it claims, e.g. he_normal (built-ins carry their own)"
    )
    p.add_argument("--param", action="append", metavar="K=V", help="a parameter of --expect")
    p.add_argument("--kwarg", action="append", metavar="K=V",
                   help="a keyword argument for the target (bound at each call, or passed to a"
                        " factory with --factory; for a built-in name, its parameters)")
    p.add_argument(
        "--factory",
        action="store_true",
        help="TARGET is a factory: call it with the --kwarg values to get the initializer",
    )
    p.add_argument("--framework", default="auto", choices=INIT_FRAMEWORKS,
                   help="how TARGET is called (auto: from its module)")
    p.add_argument("--layout", choices=layouts, help="layout of the target's shapes")
    p.add_argument(
        "--shape", action="append", type=parse_shape, help="a shape to test (repeatable)"
    )
    p.add_argument("--activation", help="also check signal propagation under this activation")
    p.add_argument("--dtype", help="dtype to ask of the target (default float32 where it takes"
                                    " a dtype; one that takes none is judged in what it returns)")
    _common(p)
    p.add_argument("--alpha", type=parse_alpha, default=DEFAULT_ALPHA,
                   help="family-wise false-alarm budget")
    p.add_argument("--plot", metavar="FILE", help="with --activation: write the depth profile PNG")
    p.set_defaults(run=cmd_verify)

    p = sub.add_parser(
        "explore", formatter_class=_HELP,
        help="search layer shapes for one where an initializer draws the wrong law",
        epilog="example: initcheck explore mypkg.inits:my_he --expect he_normal --layout torch")
    p.add_argument("target", help="a built-in name (he_normal) or an import path"
                                  " (package.module:attr or package.module.attr)")
    p.add_argument("--expect", help="the spec it claims (built-ins carry their own)")
    p.add_argument("--param", action="append", metavar="K=V", help="a parameter of --expect")
    p.add_argument("--kwarg", action="append", metavar="K=V",
                   help="a keyword argument for the target (see verify --help)")
    p.add_argument("--factory", action="store_true", help="TARGET is a factory (see verify --help)")
    p.add_argument("--framework", default="auto", choices=INIT_FRAMEWORKS,
                   help="how TARGET is called (auto: from its module)")
    p.add_argument("--layout", choices=layouts, help="layout of the target's shapes")
    p.add_argument("--dtype", help="dtype to ask of the target (default float32)")
    p.add_argument("--max-examples", type=positive_int("--max-examples"), default=100,
                   help="layers Hypothesis generates before it shrinks a failure")
    _common(p)
    p.add_argument("--alpha", type=parse_alpha, default=DEFAULT_ALPHA,
                   help="family-wise false-alarm budget of the whole search")
    p.set_defaults(run=cmd_explore)

    p = sub.add_parser(
        "audit",
        formatter_class=_HELP,
        help="verify a whole set of initializers against their specs",
    )
    p.add_argument(
        "target",
        nargs="?",
        default="builtin",
        help="builtin, torch, jax, keras, haiku, flax, equinox, a plug-in catalogue, or all",
    )
    _common(p)
    p.add_argument("--alpha", type=parse_alpha, default=DEFAULT_AUDIT_ALPHA,
                   help="family-wise false-alarm budget of the whole audit")
    p.add_argument("--no-propagation", action="store_true",
                   help="skip the propagation property (intended activation) checks")
    p.set_defaults(run=cmd_audit)

    p = sub.add_parser(
        "identify", formatter_class=_HELP, help="what an initializer draws, by search"
    )
    p.add_argument("target", help="a built-in name or an import path (package.module:attr)")
    p.add_argument(
        "--kwarg", action="append", metavar="K=V", help="a keyword argument for the target"
    )
    p.add_argument("--factory", action="store_true", help="TARGET is a factory (see verify --help)")
    p.add_argument("--framework", default="auto", choices=INIT_FRAMEWORKS,
                   help="how TARGET is called (auto: from its module)")
    p.add_argument("--layout", choices=layouts, help="layout of the target's shapes")
    p.add_argument(
        "--shape", action="append", type=parse_shape, help="a shape to draw (repeatable)"
    )
    p.add_argument("--seed", type=nonneg_int("seed"), default=0, help="base seed")
    p.add_argument(
        "--alpha", type=parse_alpha, default=DEFAULT_ALPHA, help="each candidate's test level"
    )
    p.add_argument("--json", metavar="FILE", help="write JSON ('-' for stdout)")
    p.set_defaults(run=cmd_identify)

    p = sub.add_parser("model", formatter_class=_HELP,
                       help="check what a model holds against a policy of rules")
    p.add_argument("target", help="a factory that returns the model (package.module:make_model)")
    p.add_argument("--policy", required=True,
                   help="a TOML policy file, or a built-in policy: torch, flax, keras, equinox,"
                        " haiku, transformers")
    p.add_argument(
        "--kwarg", action="append", metavar="K=V", help="a keyword argument for the factory"
    )
    p.add_argument("--framework", default="auto",
                   help="torch, flax, jax, equinox, keras or auto (from the model's classes)")
    p.add_argument("--strict", action="store_true", help="fail tensors that no rule claims")
    p.add_argument("--seed", type=parse_seed, default=0,
                   help="the seed the factory builds under (torch, numpy, keras and Python"
                        " seeded; a jax key where it takes key, rng or rngs): an int, random"
                        " or last")
    p.add_argument("--alpha", type=parse_alpha, default=DEFAULT_ALPHA,
                   help="family-wise false-alarm budget of the whole model")
    p.add_argument(
        "--json", metavar="FILE", help="write JSON ('-' for stdout, replacing the table)"
    )
    p.add_argument("--no-timings", action="store_true",
                   help="leave wall times out of the JSON, so two runs diff clean")
    p.set_defaults(run=cmd_model)

    p = sub.add_parser("describe", formatter_class=_HELP,
                       help="the smallest policy a model passes: a lockfile for its init")
    p.add_argument("target", help="a factory that returns the model (package.module:make_model)")
    p.add_argument(
        "--kwarg", action="append", metavar="K=V", help="a keyword argument for the factory"
    )
    p.add_argument("--alpha", type=parse_alpha, default=DEFAULT_ALPHA,
                   help="family-wise false-alarm budget of the identification and the check")
    p.add_argument("--toml", metavar="FILE",
                   help="write the policy as TOML (initcheck model --policy FILE reads it)")
    p.add_argument("--python", metavar="FILE", help="write the policy as Python")
    p.add_argument("--seed", type=parse_seed, default=0,
                   help="the seed the factory builds under (torch, numpy, keras and Python"
                        " seeded; a jax key where it takes key, rng or rngs): an int, random"
                        " or last")
    p.add_argument(
        "--json", metavar="FILE", help="write JSON ('-' for stdout, replacing the text)"
    )
    p.set_defaults(run=cmd_describe)

    p = sub.add_parser("diff", formatter_class=_HELP,
                       help="are two models initialized the same way? (no policy needed)")
    p.add_argument("a", help="a factory that returns the first model (package.module:make_a)")
    p.add_argument("b", help="a factory that returns the second (package.module:make_b)")
    p.add_argument(
        "--kwarg", action="append", metavar="K=V", help="a keyword argument for both factories"
    )
    p.add_argument("--names", metavar="FILE",
                   help="a JSON object {a's tensor name: b's} where the names differ (a port)")
    p.add_argument("--seed", type=parse_seed, default=0,
                   help="the seed both factories build under (torch, numpy, keras and Python"
                        " seeded; a jax key where it takes key, rng or rngs): an int, random"
                        " or last")
    p.add_argument("--alpha", type=parse_alpha, default=DEFAULT_ALPHA,
                   help="family-wise false-alarm budget of the whole comparison")
    p.add_argument(
        "--json", metavar="FILE", help="write JSON ('-' for stdout, replacing the table)"
    )
    p.set_defaults(run=cmd_diff)

    p = sub.add_parser("trace", formatter_class=_HELP,
                       help="signal propagation through a real torch model, or a width sweep")
    p.add_argument("target", help="a factory that returns the model (package.module:make_model)")
    p.add_argument(
        "--kwarg", action="append", metavar="K=V", help="a keyword argument for the factory"
    )
    p.add_argument(
        "--input-shape", type=_dims, help="float inputs N(0, 1), e.g. 512,256 (W: the width)"
    )
    p.add_argument(
        "--input-ids", type=parse_shape, help="token ids of this shape (transformers), e.g. 2,64"
    )
    p.add_argument("--widths", type=parse_shape, help="a width sweep: the factory takes width=")
    p.add_argument("--blocks", help="a glob naming the repeated blocks (default: found)")
    p.add_argument("--factor", type=float, default=PROPAGATION_FACTOR,
                   help="growth over the depth tolerated before a trend fails")
    p.add_argument("--seed", type=nonneg_int("seed"), default=0, help="seed of inputs and readout")
    p.add_argument("--plot", metavar="FILE", help="write the depth profile PNG")
    p.add_argument("--json", metavar="FILE",
                   help="write JSON ('-' for stdout, replacing the table)")
    p.set_defaults(run=cmd_trace)

    p = sub.add_parser(
        "simulate",
        formatter_class=_HELP,
        help="run the reference article's experiment: per-layer statistics vs theory",
    )
    p.add_argument("target", nargs="?", default="xavier_normal",
                   help="initializer: built-in name or import path")
    p.add_argument(
        "--activation", default="tanh", help="the activation (the reference article's is tanh)"
    )
    p.add_argument("--depth", type=positive_int("depth"), default=5, help="layers")
    p.add_argument("--width", type=positive_int("width"), default=100, help="units per layer")
    p.add_argument("--batch", type=positive_int("batch"), default=1000, help="inputs")
    p.add_argument("--bias", type=float, default=0.0, help="bias std")
    p.add_argument("--forward-only", action="store_true", help="skip the backward pass")
    p.add_argument("--expect", help="the spec of a non-built-in target, for the theory")
    p.add_argument("--kwarg", action="append", metavar="K=V",
                   help="a keyword argument for the target (see verify --help)")
    p.add_argument("--factory", action="store_true",
                   help="TARGET is a factory: call it with the --kwarg values")
    p.add_argument("--layout", choices=layouts, help="layout of the target's shapes")
    p.add_argument(
        "--plot", metavar="FILE", help="write the reference article's per-layer histograms (PNG)"
    )
    p.add_argument("--profile", metavar="FILE", help="write std and gradient std vs depth (PNG)")
    _common(p)
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser(
        "gain", formatter_class=_HELP, help="derived gains for an activation beside torch's table"
    )
    p.add_argument("activation", help="an activation's name: relu, tanh, gelu, leaky_relu,"
                                      " ... (initcheck.activations.names())")
    p.add_argument(
        "--param", action="append", metavar="K=V", help="activation parameter, e.g. a=0.2"
    )
    p.add_argument(
        "--sigma-b", type=float, default=0.0, help="bias std (the edge of chaos moves with it)"
    )
    p.add_argument("--json", metavar="FILE", help="write JSON ('-' for stdout)")
    p.set_defaults(run=cmd_gain)
    for name, command in sub.choices.items():
        command.formatter_class = _HELP
        command.epilog = "example:\n  " + EXAMPLES[name]
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=nonneg_int("seed"), default=0, help="base seed")
    p.add_argument(
        "--json", metavar="FILE", help="write JSON ('-' for stdout, replacing the table)"
    )
    p.add_argument("--no-timings", action="store_true",
                   help="leave wall times out of the JSON, so two runs of one seed diff clean")


def _dims(text: str) -> list[int | str]:
    """A shape whose entries are positive ints or 'W' (the width of a sweep)."""
    out: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        out.append("W" if part == "W" else parse_shape(part)[0])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    threads.limit(threads.available_cores())  # BLAS within the cores this process is given
    parser = build_parser()
    argv = joined_negatives(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.progress = sys.stderr.isatty()
    args.argv = argv
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        check_outputs(args)
        return args.run(args)
    except (UsageError, ValueError, ImportError) as exc:
        # ValueError covers initcheck's own input errors and InitializerError
        hint = install_hint(exc) if isinstance(exc, ModuleNotFoundError) else ""
        print(f"initcheck {args.command}: error: {in_cli_language(str(exc))}"
              + (f"; install it: {hint}" if hint else ""), file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print(f"initcheck {args.command}: error: out of memory. Test smaller shapes (--shape),"
              " or a smaller --width/--batch.", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into head & co: stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter exit quiet
        return EXIT_OK
    except KeyboardInterrupt:
        print("initcheck: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a fault in initcheck or in the code under test: not a verdict
        print(f"initcheck {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              f"(exit {EXIT_INTERNAL}: no verdict was reached; please report it with the"
              " command line)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
