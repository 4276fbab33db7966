#!/usr/bin/env python3
"""Before/after throughput of two builds of one Google Benchmark binary.

  bench/compare_binaries.py BEFORE AFTER [--filter REGEX] [--rounds N] [--repetitions R]

Runs BEFORE and AFTER in turn, N rounds, alternating which goes first, each
run with R repetitions; takes each benchmark's median CPU time per run, then
the median over the rounds, and prints a Markdown table with after / before
(below 1: faster). The load average at the start and the end is printed too:
this machine is shared and the spread between identical runs is 5-15 %.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run(binary, bench_filter, repetitions):
    out = subprocess.run(
        [binary, f"--benchmark_filter={bench_filter}", f"--benchmark_repetitions={repetitions}",
         "--benchmark_min_time=0.2", "--benchmark_format=json", "--benchmark_report_aggregates_only=true"],
        check=True, capture_output=True, text=True).stdout
    medians = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            medians[b["run_name"]] = b["cpu_time"] / 1e6 if b["time_unit"] == "ns" else b["cpu_time"]
    return medians  # ms when the unit is ns


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--filter", default=".")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    samples = {"before": {}, "after": {}}
    for r in range(args.rounds):
        order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
        for which in order:
            for name, ms in run(getattr(args, which), args.filter, args.repetitions).items():
                samples[which].setdefault(name, []).append(ms)
    print(f"load average at end: {os.getloadavg()}", file=sys.stderr)
    print("| benchmark | before (ms) | after (ms) | after / before |")
    print("|---|---:|---:|---:|")
    for name in samples["before"]:
        if name not in samples["after"]:
            continue
        before, after = statistics.median(samples["before"][name]), statistics.median(samples["after"][name])
        print(f"| {name} | {before:.4g} | {after:.4g} | {after / before:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
