#!/usr/bin/env python3
"""Checks the long double activation reference against mpmath.

tests/ops/activation_exhaustive reports, per activation, the inputs with the
largest errors (its --worst file: "label x_bits y_bits ulp" lines, the ULP error
measured against tests/testutil/activation_reference.h in long double). This
script recomputes each of those errors from the spec's formula in mpmath at
200 bits and fails if a result is not faithfully rounded or if the two ULP
errors differ by more than 1e-6 (the long double reference is claimed to be
within ~2^-36 ULP).

  check_reference_mpmath.py WORST_FILE
  check_reference_mpmath.py --run build/tests/ops/activation_exhaustive [--every K]

--run runs the tool first (on every K-th bit pattern; 4099 by default, about a
million inputs per activation) and checks its file; CTest does that.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile

import mpmath as mp

mp.mp.prec = 200


def f32(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def rounded_f32(x):
    """The float32 the kernel sees for a float attribute value."""
    return mp.mpf(struct.unpack("<f", struct.pack("<f", x))[0])


SELU_ALPHA = mp.mpf("1.67326319217681884765625")
SELU_GAMMA = mp.mpf("1.05070102214813232421875")
SQRT_2_OVER_PI = mp.sqrt(2 / mp.pi)


def softplus(x):
    return mp.log1p(mp.exp(x))


def gelu_tanh(x):
    u = SQRT_2_OVER_PI * (x + mp.mpf("0.044715") * x**3)
    return x / (1 + mp.exp(-2 * u))


FORMULAS = {
    "Relu": lambda x: mp.mpf(0) if x < 0 else x,
    "Sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
    "Tanh": mp.tanh,
    "LeakyRelu": lambda x: rounded_f32(0.1) * x if x < 0 else x,
    "Elu": lambda x: mp.expm1(x) if x < 0 else x,
    "Selu": lambda x: SELU_GAMMA * SELU_ALPHA * mp.expm1(x) if x <= 0 else SELU_GAMMA * x,
    "Celu": lambda x: mp.expm1(x) if x < 0 else x,
    "Celu(alpha=0.3)": lambda x: rounded_f32(0.3) * mp.expm1(x / rounded_f32(0.3)) if x < 0 else x,
    "HardSigmoid": lambda x: min(max(rounded_f32(0.2) * x + mp.mpf("0.5"), mp.mpf(0)), mp.mpf(1)),
    "HardSwish": lambda x: mp.mpf(0) if x <= -3 else (x if x >= 3 else x * (x + 3) / 6),
    "Softplus": softplus,
    "Softsign": lambda x: x / (1 + abs(x)),
    "ThresholdedRelu": lambda x: mp.mpf(0) if x <= 1 else x,
    "PRelu": lambda x: rounded_f32(0.1) * x if x < 0 else x,
    "Mish": lambda x: x * mp.tanh(softplus(x)),
    "Gelu": lambda x: x / 2 * mp.erfc(-x / mp.sqrt(2)),
    "Gelu(tanh)": gelu_tanh,
}


def spacing(v):
    """The float32 spacing in v's binade (2^-149 at least)."""
    if v == 0:
        return mp.mpf(2) ** -149
    _, e = mp.frexp(v)  # |v| in [2^(e-1), 2^e)
    return mp.mpf(2) ** (max(int(e) - 1, -126) - 23)


def judge(label, x_bits, y_bits):
    """(ULP error, faithfully rounded) of y for the exact value at x."""
    x, y = f32(x_bits), f32(y_bits)
    v = FORMULAS[label](mp.mpf(x))
    s = spacing(v)
    below = mp.floor(v / s) * s
    faithful = mp.mpf(y) in (below, below + s)
    return float(abs(mp.mpf(y) - v) / s), faithful


def check(worst_file):
    failures = 0
    largest_gap = 0.0
    rows = 0
    with open(worst_file) as f:
        for line in f:
            label, x_hex, y_hex, ulp = line.rsplit(maxsplit=3)
            x_bits, y_bits = int(x_hex, 16), int(y_hex, 16)
            if x_bits & 0x7F800000 == 0x7F800000:
                continue  # Inf / NaN inputs: nothing to recompute
            ulp_mp, faithful = judge(label, x_bits, y_bits)
            gap = abs(ulp_mp - float(ulp))
            largest_gap = max(largest_gap, gap)
            rows += 1
            if not faithful or gap > 1e-6:
                failures += 1
                print(f"MISMATCH {label} x = {f32(x_bits)!r} ({x_hex}): long double {ulp} ULP, mpmath {ulp_mp:.9f} ULP, "
                      f"faithful {faithful}")
    print(f"check_reference_mpmath: {rows} points, largest difference {largest_gap:.3g} ULP, {failures} failures")
    return failures == 0 and rows > 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("worst_file", nargs="?")
    parser.add_argument("--run", help="the activation_exhaustive binary to run first")
    parser.add_argument("--every", type=int, default=4099)
    args = parser.parse_args()
    if args.run:
        with tempfile.TemporaryDirectory() as tmp:
            worst = os.path.join(tmp, "worst.txt")
            tool = subprocess.run([args.run, "--every", str(args.every), "--worst", worst])
            ok = check(worst)
            return 0 if ok and tool.returncode == 0 else 1
    if not args.worst_file:
        parser.error("a worst file or --run is needed")
    return 0 if check(args.worst_file) else 1


if __name__ == "__main__":
    sys.exit(main())
