"""Compiled integrand of the type-I/II split integrals (docs/model.md §4.4), for scipy's LowLevelCallable.

Kept in its own module so that numba is imported only when an integral has to be computed.

The C signature is ``double f(int n, double *xx)``. ``scipy.integrate.quad`` fills ``xx`` with the
integration variable followed by the extra arguments, and ``nquad`` passes the outer variables first,
so here xx = (r1, r2, phi, z, z_max, lambda_um, two).

The value must be bit-identical to the pure-Python integrand in ``lateral_integrals``, so the
formula keeps its operation order. Python evaluates ``x**2`` with the C library's ``pow(x, 2.0)``,
which is not always equal to ``x * x`` in the last bit. A literal exponent would let LLVM rewrite
``pow(x, 2.0)`` as ``x * x``; the exponent 2.0 is therefore passed in at run time (``two``) so the
library ``pow`` is called. ``lateral_integrals`` checks bit-identity before it uses this function.
"""

from __future__ import annotations

import math

from numba import cfunc, types

TWO_PI = 2 * math.pi

SIGNATURE = types.double(types.intc, types.CPointer(types.double))


@cfunc(SIGNATURE, cache=True)
def integrand(n, xx):  # pragma: no cover - compiled
    r1 = xx[0]
    r2 = xx[1]
    phi = xx[2]
    z = xx[3]
    z_max = xx[4]
    lambda_um = xx[5]
    two = xx[6]
    return (
        4.0 * r1 * r2 * (TWO_PI - phi) * (z_max - z)
        * math.exp(-math.sqrt(r1**two - 2.0 * r1 * r2 * math.cos(phi) + r2**two + z**two) / lambda_um)
    )
