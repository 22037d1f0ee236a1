"""Composition of the network stages: raw data → neuron numbers → synapse numbers → full-scale
network → (full-scale rates →) down-scaled network.

Each stage is a module of its own (:mod:`humam.cytoarchitecture`, :mod:`humam.connectivity`,
:mod:`humam.full_scale`, :mod:`humam.theory`, :mod:`humam.downscaling`); this module is the one place
where they are put together, so none of them imports another stage that comes after it.
"""

from __future__ import annotations

import numpy as np

from . import downscaling, parameters
from .full_scale import full_scale_network
from .parameters import require_section
from .errors import ParameterError
from .network import Network


def full_scale_theory_rates(full: Network) -> np.ndarray:
    """(272,) stationary theory rates (§9) of the full-scale network ``full``: the fixed point
    (``until_converged``), not the published t = 9.9 values, which are up to 2.6 % from it (docs/quirks.md Q20) and
    would leave the down-scaled network's theory that far from its own fixed point."""
    from .theory import theory_rates

    return np.asarray(theory_rates(full, until_converged=True).rates_hz, dtype=float)


def full_scale_rates(full: Network, params: dict) -> np.ndarray:
    """(272,) full-scale rates of the DC compensation of the down-scaling of ``params`` (the resolved
    ``network`` section): theory rates of ``full`` or a file source (see
    :func:`humam.downscaling.rates_source`); 0 for empty populations."""
    down = params["downscaling"]
    source = downscaling.rates_source(down["full_scale_rates"], down["scaling_type"])
    if source == downscaling.THEORY_RATES:
        return np.where(full.neuron_numbers > 0, full_scale_theory_rates(full), 0.0)
    return downscaling.full_scale_rates_array(source, full.neuron_numbers)


K_SCALING_RULES = ("given", "smallest_stable")
#: Relative precision of the smallest stable k (bisection on log k).
K_SEARCH_RTOL = 0.02


def stability_at_full_scale_rates(net: Network) -> dict | None:
    """Linear stability of the full-scale rates as a fixed point of the down-scaled network ``net``'s
    mean-field dynamics (its DC drive included; :func:`humam.theory.stability`): ``leading_eigenvalue``
    (real part; stable below 1), its imaginary part, ``stable`` and ``max_relative_residual``. None
    for a full-scale network. Any scheme that scales indegrees as much as neuron numbers leaves the
    full-scale rates unstable at small k (docs/model.md §6)."""
    from .theory import stability

    if net.full_scale_rates_hz is None:
        return None
    result = stability(net, net.full_scale_rates_hz, include_dc=True)
    leading = result["leading_eigenvalue"]
    return {"leading_eigenvalue": float(leading.real), "leading_eigenvalue_imag": float(leading.imag),
            "stable": bool(result["stable"]), "max_relative_residual": float(result["max_relative_residual"])}


def smallest_stable_k(full: Network, rates_hz: np.ndarray, n_scaling: float, scaling_type: str) -> float:
    """The smallest indegree scale k in [n, 1] at which the full-scale rates are a stable fixed point
    of the down-scaled network (to :data:`K_SEARCH_RTOL`, by bisection on log k); 1 if none below."""
    def stable(k: float) -> bool:
        net = downscaling.downscale_network(full, rates_hz, n_scaling, k, scaling_type)
        return stability_at_full_scale_rates(net)["stable"]

    low, high = float(n_scaling), 1.0
    if stable(low):
        return low
    while high / low > 1.0 + K_SEARCH_RTOL:
        middle = float(np.sqrt(low * high))
        low, high = (low, middle) if stable(middle) else (middle, high)
    return float(f"{high:.3g}") if stable(float(f"{high:.3g}")) else high


def assemble_network(cyto, connectome, params: dict) -> Network:
    """The network of ``params`` (resolved ``network`` section) for a given cytoarchitecture and
    connectome: full scale (§5.8 steps 1–9, 11–12), then down-scaled when n or k != 1 (step 10),
    with k the smallest stable one when ``k_scaling_rule`` is ``smallest_stable``."""
    down = require_section(params, "downscaling")
    n_scaling, k_scaling = downscaling.check_scales(down["n_scaling"], down["k_scaling"], down["scaling_type"])
    rule = down.get("k_scaling_rule", "given")
    if rule not in K_SCALING_RULES:
        raise ParameterError(f"network.downscaling.k_scaling_rule must be one of {', '.join(K_SCALING_RULES)}, "
                             f"got {rule!r}.")
    full = full_scale_network(cyto, connectome, params)
    if n_scaling == 1.0 and (k_scaling == 1.0 or rule == "smallest_stable"):
        return full
    rates = full_scale_rates(full, params)
    if rule == "smallest_stable":
        k_scaling = smallest_stable_k(full, rates, n_scaling, down["scaling_type"])
    return downscaling.downscale_network(full, rates, n_scaling, k_scaling, down["scaling_type"])


def build_network(params: dict) -> Network:
    """The network defined by the resolved ``network`` parameter section (docs/model.md §3–6, order of §5.8)."""
    from .connectivity import build_connectome
    from .cytoarchitecture import build_cytoarchitecture
    from .full_scale import check_delay_params

    down = require_section(params, "downscaling")
    downscaling.check_scales(down["n_scaling"], down["k_scaling"], down["scaling_type"])  # fail before the build
    check_delay_params(require_section(params, "delays"))
    cyto = build_cytoarchitecture(require_section(params, "cytoarchitecture"))
    parameters.check_scale_leaves_neurons(float(down["n_scaling"]), cyto.neuron_numbers)
    connectome = build_connectome(cyto, require_section(params, "connectivity"))
    return assemble_network(cyto, connectome, params)
