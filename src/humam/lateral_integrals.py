"""Type-I/II split of the intra-area synapses: the two 4-D integrals of spec §4.4.

g(r1, r2, phi, z) = 4 r1 r2 (2 pi - phi) (z_max - z) exp(-sqrt(r1^2 - 2 r1 r2 cos phi + r2^2 + z^2) / lambda)

P_in integrates r1 over [0, R0], P_out over [R0, R_D]; r2 in [0, R0], phi in [0, 2 pi], z in
[0, z_max]. Radii and lambda are in um, while z_max is the total thickness in mm used as a bare
number (published quirk Q1). Integrated with scipy.integrate.nquad at epsrel = 0.1 on every
level, r1 innermost and z outermost: the published local/external split depends on exactly this.
"""

from __future__ import annotations

import math

from scipy import integrate

R0_UM = 1000.0 / math.sqrt(math.pi)  #: radius of the 1 mm^2 column (um)


def _integrand(r1, r2, phi, z, z_max, lambda_um):
    return (
        4 * r1 * r2 * (2 * math.pi - phi) * (z_max - z)
        * math.exp(-math.sqrt(r1**2 - 2 * r1 * r2 * math.cos(phi) + r2**2 + z**2) / lambda_um)
    )


def split_integrals(thickness_mm: float, surface_mm2: float, lambda_um: float = 160.0,
                    epsrel: float = 0.1) -> tuple[float, float]:
    """(P_in, P_out) for an area of total thickness ``thickness_mm`` and surface ``surface_mm2``."""
    z_max = thickness_mm
    r_area = 1000.0 * math.sqrt(surface_mm2 / math.pi)
    opts = {"epsrel": epsrel}
    outer = [[0.0, R0_UM], [0.0, 2 * math.pi], [0.0, z_max]]
    p_in = integrate.nquad(_integrand, [[0.0, R0_UM]] + outer, args=(z_max, lambda_um), opts=opts)[0]
    p_out = integrate.nquad(_integrand, [[R0_UM, r_area]] + outer, args=(z_max, lambda_um), opts=opts)[0]
    return p_in, p_out


def split_integrals_many(thickness_mm, surface_mm2, lambda_um: float = 160.0, epsrel: float = 0.1):
    """(P_in, P_out) arrays for arrays of area thicknesses (mm) and surfaces (mm^2)."""
    import numpy as np

    pairs = [split_integrals(float(t), float(s), lambda_um, epsrel) for t, s in zip(thickness_mm, surface_mm2)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
