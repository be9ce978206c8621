"""The ``jentropy`` command: ``list``, ``reproduce``, ``bench``, ``info``.

Exit codes: 0 success; 1 a reproduction or benchmark failed; 2 bad usage (unknown module, figure,
benchmark or option).

Examples::

    jentropy list
    jentropy reproduce ordinal --quick --out results
    jentropy reproduce ordinal --figure hc_plane --smoke --seed 3
    jentropy bench ordinal_vs_peers --quick
    jentropy info
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jentropy", description="jentropy: entropy-centred JAX methods"
    )
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list modules and their reproductions")
    r = sub.add_parser("reproduce", help="run a module's paper reproductions")
    r.add_argument("module", help="paper module, e.g. ordinal")
    r.add_argument("--figure", "-f", default=None, help="run only this reproduction")
    scale = r.add_mutually_exclusive_group()
    scale.add_argument(
        "--quick",
        action="store_const",
        dest="scale",
        const="quick",
        help="CPU reproduction (minutes)",
    )
    scale.add_argument(
        "--smoke",
        action="store_const",
        dest="scale",
        const="smoke",
        help="same code path at toy size (< 1 min)",
    )
    scale.add_argument(
        "--full",
        action="store_const",
        dest="scale",
        const="full",
        help="the paper's scale (default; meant for an accelerator)",
    )
    r.add_argument("--out", default="results", help="output folder (default: results)")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--no-progress", action="store_true", help="hide progress bars")
    b = sub.add_parser("bench", help="run a benchmark script from benchmarks/")
    b.add_argument("name", nargs="?", help="benchmark name (omit to list them)")
    b.add_argument("--quick", action="store_true", help="smaller inputs")
    b.add_argument(
        "--dir",
        default=None,
        help="benchmarks folder (default: ./benchmarks or the source checkout's)",
    )
    sub.add_parser("info", help="versions, backend and devices")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "reproduce":
            return _reproduce(args)
        if args.command == "bench":
            return _bench(args)
        return _info()
    except ValueError as err:
        print(f"jentropy: error: {err}", file=sys.stderr)
        return EXIT_USAGE


def _list() -> int:
    import jentropy
    from jentropy import reproduce

    built = reproduce.built_modules()
    for module in jentropy.PAPER_MODULES:
        if module not in built:
            print(f"{module:16s} (planned)")
            continue
        items = reproduce.reproductions(module)
        print(f"{module:16s} {len(items)} reproduction(s)")
        for name, rep in items.items():
            print(f"    {name:28s} {rep.description}")
    return EXIT_OK


def _reproduce(args: argparse.Namespace) -> int:
    from jentropy import reproduce

    scale = args.scale or "full"
    if args.seed < 0:
        raise ValueError(f"--seed must be non-negative, got {args.seed}")
    reproduce.reproductions(args.module)  # validates the module name before any work
    print(
        f"jentropy reproduce {args.module} (scale={scale}, seed={args.seed}, out={args.out})",
        file=sys.stderr,
    )
    records = reproduce.run(
        args.module,
        args.figure,
        scale=scale,
        seed=args.seed,
        out=args.out,
        show_progress=not args.no_progress,
    )
    print(reproduce.summary_table(args.module, records))
    failed = [r for r in records.values() if r.error is not None]
    for rec in failed:
        print(f"\n--- {args.module}/{rec.name} failed ---\n{rec.error}", file=sys.stderr)
    if args.out:
        print(f"outputs in {os.path.join(args.out, args.module)}")
    return EXIT_FAILED if failed else EXIT_OK


def _bench_dir(explicit: str | None) -> str:
    if explicit:
        return explicit
    candidates = [
        os.path.join(os.getcwd(), "benchmarks"),
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"),
    ]
    for c in candidates:
        if os.path.isdir(c):
            return c
    raise ValueError("no benchmarks/ folder found; run from a jentropy checkout or pass --dir")


def _bench(args: argparse.Namespace) -> int:
    folder = _bench_dir(args.dir)
    names = sorted(
        f[:-3] for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_")
    )
    if args.name is None:
        print("\n".join(names))
        return EXIT_OK
    if args.name not in names:
        raise ValueError(f"no benchmark {args.name!r}; benchmarks: {', '.join(names)}")
    cmd = [sys.executable, os.path.join(folder, f"{args.name}.py")] + (
        ["--quick"] if args.quick else []
    )
    return EXIT_OK if subprocess.call(cmd) == 0 else EXIT_FAILED


def _info() -> int:
    from jentropy import reproduce

    env = reproduce.environment()
    for k, v in env["versions"].items():
        print(f"{k:10s} {v}")
    print(f"{'backend':10s} {env['backend']}")
    print(f"{'devices':10s} {env['device_count']}: {', '.join(env['devices'])}")
    print(f"{'processes':10s} {env['process_count']}")
    print(f"{'platform':10s} {env['platform']}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
