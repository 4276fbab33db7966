#!/usr/bin/python3
"""Fits the polynomial behind the vectorised GELU (src/ops/simd_math.cc).

    /usr/bin/python3 scripts/fit_gelu_erfcx.py

GELU(x) = x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2. The vector code needs
erfc(z) for z >= 0 with a small *relative* error (for x < 0, Phi is erfc
itself, down to the float underflow near x = -14.9, z = 10.5). It writes

    erfc(z) = exp(-z^2) * erfcx(z),   erfcx(z) = s * P(t),
    s = 1 / (1 + A z),   t = (2 s - (1 + s_min)) / (1 - s_min),   s_min = 1 / (1 + A Z_MAX),

where erfcx(z) / s is smooth on the whole of [0, Z_MAX] (it tends to a
constant as z grows), so one polynomial in t in [-1, 1] fits it. The fit is a
least-squares Chebyshev fit on Chebyshev nodes (close to minimax), converted to
the power basis for Horner's rule; the reference values are math.erfc and
math.exp in double, with z^2 split exactly so exp(z^2) is not off by z^2 ulps.
Prints the coefficients (constant term first) and the worst relative error of
the double evaluation over a dense grid; the numbers in simd_math.cc are this
script's output.
"""
import math
from fractions import Fraction

import numpy as np
from numpy.polynomial import chebyshev

A = 0.3
Z_MAX = 10.6
DEGREE = 12


def erfcx(z):
    hi = z * z
    lo = float(Fraction(z) * Fraction(z) - Fraction(hi))  # z^2 = hi + lo exactly (to double)
    return math.exp(hi) * (1.0 + lo) * math.erfc(z)


def main():
    s_min = 1.0 / (1.0 + A * Z_MAX)
    nodes = 4000
    k = np.arange(nodes)
    s = (np.cos(np.pi * (k + 0.5) / nodes) + 1) / 2 * (1 - s_min) + s_min
    z = (1 / s - 1) / A
    h = np.array([erfcx(v) for v in z]) / s
    t = (2 * s - (1 + s_min)) / (1 - s_min)
    power = chebyshev.cheb2poly(chebyshev.chebfit(t, h, DEGREE))
    zs = np.linspace(0, Z_MAX, 100001)
    ss = 1 / (1 + A * zs)
    ts = (2 * ss - (1 + s_min)) / (1 - s_min)
    acc = np.full_like(ts, power[-1])
    for c in power[-2::-1]:
        acc = acc * ts + c
    worst = np.max(np.abs(acc * ss / np.array([erfcx(v) for v in zs]) - 1))
    print(f"// A = {A}, Z_MAX = {Z_MAX}, s_min = {s_min!r}, degree {DEGREE}; "
          f"worst relative error {worst:.2e}")
    for c in power:
        print(f"    {c!r},")


if __name__ == "__main__":
    main()
