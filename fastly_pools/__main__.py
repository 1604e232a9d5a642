"""`python -m fastly_pools`: the `fastly-pools` command line."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
