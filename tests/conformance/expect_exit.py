#!/usr/bin/python3
"""Run a command and pass only if it exits with one exact code.

Usage: /usr/bin/python3 expect_exit.py CODE COMMAND [ARGS...]

CTest's WILL_FAIL accepts any non-zero exit, so a crash or "unsupported op"
would pass as an expected mismatch; this checks for the one code we mean.
"""
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    expected = int(sys.argv[1])
    code = subprocess.call(sys.argv[2:])
    if code != expected:
        print(f"expect_exit.py: expected exit {expected}, got {code}: {' '.join(sys.argv[2:])}",
              file=sys.stderr)
        return 1
    print(f"expect_exit.py: exit {code} as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
