"""`make bench`: run every benchmark in turn (or the ones named), each printing its figures.

    make bench                          # all
    make bench BENCH_ARGS="reminders"   # one

Each module `bench/<name>.py` has `main(argv: list[str]) -> None` and prints what it
measured beside the baseline it measured in the same run.
"""

import importlib
import sys

BENCHMARKS = ["authorize", "reminders", "close_day", "rescore"]


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")] or BENCHMARKS
    extra = [a for a in argv if a.startswith("-")]
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            print(f"== {name}: not built yet, skipped")
            continue
        print(f"== {name}")
        module.main(extra)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
