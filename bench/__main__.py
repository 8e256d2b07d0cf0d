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
    # Leading words name benchmarks; everything from the first option on is theirs
    # (`rescore --accounts 1000000`).
    first_option = next((i for i, arg in enumerate(argv) if arg.startswith("-")), len(argv))
    names, extra = argv[:first_option] or BENCHMARKS, argv[first_option:]
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}")
        module.main(extra)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
