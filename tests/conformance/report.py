#!/usr/bin/python3
"""Run onnx-run --check over every generated node test whose ops onnx-mini registers.

Usage: /usr/bin/python3 tests/conformance/report.py --onnx-run PATH --node-dir DIR
           [--manifest FILE] [--skips FILE] [--jobs 2] [--timeout 60] [-- EXTRA onnx-run ARGS]

A test counts as registered when, for each of its (domain, op_type), `onnx-run
--list-ops` has an entry with since_version <= the model's opset for that
domain (the version the runtime would resolve). Prints

    N of M node tests whose ops onnx-mini registers pass

then every failure (with its skips.txt reason, if any). Exits 1 only if a
manifest test failed, timed out, was not generated, or is not registered;
unlisted failures are reported but are not an error.
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys
from collections import defaultdict

from list_node_tests import load_tests, read_manifest, read_skips

HERE = os.path.dirname(os.path.abspath(__file__))
EXIT_MEANING = {1: "mismatch", 2: "usage error", 3: "invalid model", 4: "unsupported",
                5: "bad input data"}


def list_ops(onnx_run):
    """{(domain, op_type): [since_version, ...]} from `onnx-run --list-ops`."""
    out = subprocess.run([onnx_run, "--list-ops"], check=True, capture_output=True, text=True,
                         timeout=60)
    registry = defaultdict(list)
    for number, line in enumerate(out.stdout.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")  # the domain of ONNX ops is "", so keep the leading tab
        if len(fields) != 3:
            raise SystemExit(f"onnx-run --list-ops line {number}: expected "
                             f"domain<TAB>op_type<TAB>since_version, got {line!r}")
        domain = "" if fields[0] == "ai.onnx" else fields[0]
        registry[(domain, fields[1])].append(int(fields[2]))
    return registry


def unregistered_ops(test, registry):
    """The ops of `test` that have no implementation at the model's opset."""
    missing = []
    for domain, op_type in sorted(test.ops):
        opset = test.opsets.get(domain)
        versions = registry.get((domain, op_type), [])
        if opset is None or not any(v <= opset for v in versions):
            missing.append(f"{domain + ':' if domain else ''}{op_type}")
    return missing


def run_one(onnx_run, extra_args, test, timeout):
    cmd = [onnx_run, *extra_args, os.path.join(test.path, "model.onnx"), "--check"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return test.name, f"timed out after {timeout} s", ""
    if proc.returncode == 0:
        return test.name, None, ""
    if proc.returncode < 0:
        why = f"killed by signal {-proc.returncode}"
    else:
        why = f"exit {proc.returncode} ({EXIT_MEANING.get(proc.returncode, 'unexpected')})"
    detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    return test.name, why, detail[-1] if detail else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onnx-run", required=True)
    parser.add_argument("--node-dir", required=True)
    parser.add_argument("--manifest", default=os.path.join(HERE, "manifest.txt"))
    parser.add_argument("--skips", default=os.path.join(HERE, "skips.txt"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per test")
    parser.add_argument("extra", nargs="*", help="extra onnx-run arguments, after --")
    args = parser.parse_args()

    manifest = read_manifest(args.manifest)
    skips = read_skips(args.skips)
    registry = list_ops(args.onnx_run)
    tests = {t.name: t for t in load_tests(args.node_dir)}

    runnable, not_registered = [], {}
    for test in tests.values():
        missing = unregistered_ops(test, registry)
        if missing:
            not_registered[test.name] = missing
        else:
            runnable.append(test)

    failures = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, args.onnx_run, args.extra, t, args.timeout)
                   for t in runnable]
        for future in concurrent.futures.as_completed(futures):
            name, why, detail = future.result()
            if why:
                failures[name] = (why, detail)

    passed = len(runnable) - len(failures)
    mode = f" (onnx-run {' '.join(args.extra)})" if args.extra else ""
    print(f"{passed} of {len(runnable)} node tests whose ops onnx-mini registers pass{mode} "
          f"({len(tests)} generated, {len(not_registered)} use unregistered ops)")
    for name in sorted(failures):
        why, detail = failures[name]
        tag = "MANIFEST " if name in manifest else ""
        skip = f" [skipped: {skips[name]}]" if name in skips else ""
        print(f"  {tag}FAIL {name}: {why}{skip}" + (f"\n      {detail}" if detail else ""))

    broken = []
    for name in manifest:
        if name not in tests:
            broken.append(f"{name}: listed in the manifest but not generated")
        elif name in not_registered:
            broken.append(f"{name}: listed in the manifest but needs unregistered "
                          + " ".join(not_registered[name]))
        elif name in failures:
            broken.append(f"{name}: {failures[name][0]}")
    if broken:
        print(f"{len(broken)} of {len(manifest)} manifest tests do not pass:")
        for line in broken:
            print("  " + line)
        return 1
    print(f"all {len(manifest)} manifest tests pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
