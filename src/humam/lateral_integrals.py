"""Type-I/II split of the intra-area synapses: the two 4-D integrals of docs/model.md §4.4.

g(r1, r2, phi, z) = 4 r1 r2 (2 pi - phi) (z_max - z) exp(-sqrt(r1^2 - 2 r1 r2 cos phi + r2^2 + z^2) / lambda)

P_in integrates r1 over [0, R0], P_out over [R0, R_D]; r2 in [0, R0], phi in [0, 2 pi], z in
[0, z_max]. Radii and lambda are in um, while z_max is the total thickness in mm used as a bare
number (published docs/quirks.md Q1). Integrated with scipy.integrate.nquad at epsrel = 0.1 on every
level, r1 innermost and z outermost: the published local/external split depends on exactly this.

Speed without changing a bit of the result:

* the innermost integrand is a compiled function (``humam._lateral_kernel``) handed to nquad as a
  ``scipy.LowLevelCallable``; nquad's call structure, limits, tolerance and order are unchanged and
  the integrand returns exactly the same doubles as the plain-Python one (checked on first use,
  with a fallback to the Python integrand if a platform ever disagrees);
* results are cached on disk, one small JSON file per input set, under
  ``humam.config.cache_dir() / "lateral_integrals"``;
* :func:`split_integrals_many` computes only the missing entries, in worker processes when there
  are several.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

R0_UM = 1000.0 / math.sqrt(math.pi)  #: radius of the 1 mm^2 column (um)

#: Version of the cache entries; change it whenever the computation or the file layout changes.
CACHE_SCHEMA = "humam.lateral_integrals/1"
CACHE_SUBDIR = "lateral_integrals"
#: Number of missing entries from which worker processes are used.
PARALLEL_MIN_MISSING = 4


# --------------------------------------------------------------------------------------------
# Reference numerics
# --------------------------------------------------------------------------------------------


def _integrand(r1, r2, phi, z, z_max, lambda_um):
    """Reference (pure-Python) integrand."""
    return (
        4 * r1 * r2 * (2 * math.pi - phi) * (z_max - z)
        * math.exp(-math.sqrt(r1**2 - 2 * r1 * r2 * math.cos(phi) + r2**2 + z**2) / lambda_um)
    )


def _nquad_split(func, thickness_mm: float, surface_mm2: float, lambda_um: float, epsrel: float,
                 extra_args: tuple = ()) -> tuple[float, float]:
    """The two nquad calls of §4.4 with integrand ``func`` (Python callable or LowLevelCallable).

    ``extra_args`` are appended to the integrand's arguments (the compiled integrand takes the
    exponent 2.0 there, see ``humam._lateral_kernel``).
    """
    from scipy import integrate

    z_max = thickness_mm
    r_area = 1000.0 * math.sqrt(surface_mm2 / math.pi)
    opts = {"epsrel": epsrel}
    args = (z_max, lambda_um) + tuple(extra_args)
    outer = [[0.0, R0_UM], [0.0, 2 * math.pi], [0.0, z_max]]
    p_in = integrate.nquad(func, [[0.0, R0_UM]] + outer, args=args, opts=opts)[0]
    p_out = integrate.nquad(func, [[R0_UM, r_area]] + outer, args=args, opts=opts)[0]
    return p_in, p_out


def _reference_split_integrals(thickness_mm: float, surface_mm2: float, lambda_um: float = 160.0,
                               epsrel: float = 0.1) -> tuple[float, float]:
    """(P_in, P_out) with the plain-Python integrand: slow, kept as the reference for the tests."""
    return _nquad_split(_integrand, float(thickness_mm), float(surface_mm2), float(lambda_um), float(epsrel))


# --------------------------------------------------------------------------------------------
# Fast integrand
# --------------------------------------------------------------------------------------------

_FAST_INTEGRAND = None  # LowLevelCallable, or the Python integrand if the compiled one disagrees
_SELF_CHECK_POINTS = 4096


def _self_check(kernel) -> int:
    """Number of points where the compiled integrand differs from the Python one (0 expected)."""
    import ctypes

    rng = np.random.default_rng(20240415)
    n = _SELF_CHECK_POINTS
    points = np.column_stack([
        rng.uniform(0.0, 8000.0, n),        # r1 (um), beyond the largest R_D
        rng.uniform(0.0, R0_UM, n),         # r2 (um)
        rng.uniform(0.0, 2 * math.pi, n),   # phi
        rng.uniform(0.0, 4.5, n),           # z (bare mm value)
        rng.uniform(1.0, 4.5, n),           # z_max
        rng.choice([160.0, 100.0, 250.0, 333.3], n),  # lambda (um)
    ]).tolist()
    call = kernel.ctypes
    buf = (ctypes.c_double * 7)()
    bad = 0
    for r1, r2, phi, z, z_max, lam in points:
        buf[:] = (r1, r2, phi, z, z_max, lam, 2.0)
        if call(7, buf) != _integrand(r1, r2, phi, z, z_max, lam):
            bad += 1
    return bad


def _fast_integrand():
    """The integrand to hand to nquad: compiled if it reproduces the Python one bit for bit."""
    global _FAST_INTEGRAND
    if _FAST_INTEGRAND is None:
        try:
            from scipy import LowLevelCallable

            from . import _lateral_kernel

            bad = _self_check(_lateral_kernel.integrand)
            if bad:
                warnings.warn(
                    f"The compiled type-I/II integrand differs from the Python one at {bad} of "
                    f"{_SELF_CHECK_POINTS} test points on this platform; using the (slow) Python "
                    "integrand to keep the published numbers.", RuntimeWarning, stacklevel=3)
                _FAST_INTEGRAND = _integrand
            else:
                _FAST_INTEGRAND = LowLevelCallable(_lateral_kernel.integrand.ctypes)
        except ImportError as exc:  # numba missing or broken
            warnings.warn(f"numba is unavailable ({exc}); using the (slow) Python integrand.",
                          RuntimeWarning, stacklevel=3)
            _FAST_INTEGRAND = _integrand
    return _FAST_INTEGRAND


def _compute_split_integrals(thickness_mm: float, surface_mm2: float, lambda_um: float,
                             epsrel: float) -> tuple[float, float]:
    """(P_in, P_out) computed now (no cache), with the fast integrand."""
    func = _fast_integrand()
    extra = () if func is _integrand else (2.0,)
    return _nquad_split(func, thickness_mm, surface_mm2, lambda_um, epsrel, extra)


def _compute_task(inputs: tuple[float, float, float, float]) -> tuple[float, float]:
    """Worker-process entry point."""
    return _compute_split_integrals(*inputs)


# --------------------------------------------------------------------------------------------
# Disk cache
# --------------------------------------------------------------------------------------------


def cache_folder() -> Path:
    """Folder of the cached integrals (``HUMAM_CACHE_DIR`` or the user cache, + lateral_integrals)."""
    from .config import cache_dir

    return cache_dir() / CACHE_SUBDIR


def cache_key(thickness_mm: float, surface_mm2: float, lambda_um: float = 160.0,
              epsrel: float = 0.1) -> dict:
    """Every input of one cached result, with exact float representations."""
    import scipy

    return {
        "schema": CACHE_SCHEMA,
        "scipy": scipy.__version__,
        "thickness_mm": float(thickness_mm).hex(),
        "surface_mm2": float(surface_mm2).hex(),
        "lambda_um": float(lambda_um).hex(),
        "epsrel": float(epsrel).hex(),
    }


def cache_path(key: dict, folder: Path | None = None) -> Path:
    """File of the cache entry for ``key`` (a digest of the key)."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    return (cache_folder() if folder is None else folder) / f"{digest}.json"


def _read_cache(path: Path, key: dict) -> tuple[float, float] | None:
    """The cached (P_in, P_out), or None if the entry is missing, unreadable or not for ``key``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["key"] != key:
            return None
        value = float.fromhex(data["p_in"]), float.fromhex(data["p_out"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not all(math.isfinite(v) for v in value):
        return None
    return value


def _write_cache(path: Path, key: dict, value: tuple[float, float]) -> None:
    """Store an entry atomically (temporary file + rename); a failure only warns."""
    entry = {
        "key": key,
        "p_in": value[0].hex(),
        "p_out": value[1].hex(),
        "p_in_decimal": repr(value[0]),
        "p_out_decimal": repr(value[1]),
    }
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh, indent=1)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        warnings.warn(f"Could not write the integral cache entry {path}: {exc}", RuntimeWarning, stacklevel=3)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _worker_count(n_tasks: int, workers: int | None) -> int:
    if workers is None:
        if hasattr(os, "sched_getaffinity"):
            workers = len(os.sched_getaffinity(0))
        else:
            workers = os.cpu_count() or 1
        workers = min(workers, os.cpu_count() or 1)
    return max(1, min(int(workers), n_tasks))


def _compute_missing(tasks: list[tuple[float, float, float, float]], workers: int | None, on_result) -> None:
    """Compute ``tasks``; ``on_result(i, value)`` is called as each one finishes."""
    from tqdm import tqdm

    left = dict(enumerate(tasks))
    n_workers = _worker_count(len(tasks), workers) if len(tasks) >= PARALLEL_MIN_MISSING else 1
    pool = futures = None
    if n_workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        _fast_integrand()  # compile or load it once here; forked workers inherit it
        try:
            # Workers start before the progress bar exists (and with it, its monitor thread).
            pool = ProcessPoolExecutor(max_workers=n_workers)
            futures = {pool.submit(_compute_task, task): i for i, task in left.items()}
        except OSError as exc:
            warnings.warn(f"Could not start worker processes ({exc!r}); computing the integrals here.",
                          RuntimeWarning, stacklevel=3)
    try:
        with tqdm(total=len(tasks), desc="type-I/II integrals", unit="area", file=sys.stderr,
                  delay=1.0, leave=False) as bar:
            if futures:
                from concurrent.futures import as_completed
                from concurrent.futures.process import BrokenProcessPool

                try:
                    for future in as_completed(futures):
                        i = futures[future]
                        on_result(i, future.result())
                        del left[i]
                        bar.update()
                except BrokenProcessPool as exc:
                    warnings.warn(f"Worker processes failed ({exc!r}); computing the remaining integrals here.",
                                  RuntimeWarning, stacklevel=3)
            for i in sorted(left):
                on_result(i, _compute_split_integrals(*left.pop(i)))
                bar.update()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def split_integrals_many(thickness_mm, surface_mm2, lambda_um: float = 160.0, epsrel: float = 0.1, *,
                         cache: bool = True, workers: int | None = None):
    """(P_in, P_out) arrays for arrays of area thicknesses (mm) and surfaces (mm^2), in input order.

    Cached results are reused; the missing ones are computed once per distinct (thickness,
    surface), in up to ``workers`` processes (default: the available CPUs) when there are
    several, and stored unless ``cache`` is False.
    """
    thickness = [float(t) for t in np.asarray(thickness_mm, dtype=float).ravel()]
    surface = [float(s) for s in np.asarray(surface_mm2, dtype=float).ravel()]
    if len(thickness) != len(surface):
        raise ValueError(f"{len(thickness)} thicknesses but {len(surface)} surfaces")
    lambda_um, epsrel = float(lambda_um), float(epsrel)
    if not all(math.isfinite(v) for v in thickness + surface + [lambda_um, epsrel]):
        raise ValueError("thicknesses, surfaces, lambda and epsrel must be finite")

    unique: dict[tuple[float, float], int] = {}
    for pair in zip(thickness, surface):
        unique.setdefault(pair, len(unique))
    pairs = list(unique)
    values: list[tuple[float, float] | None] = [None] * len(pairs)

    folder = cache_folder() if cache else None
    keys = [cache_key(t, s, lambda_um, epsrel) for t, s in pairs]
    paths = [cache_path(k, folder) for k in keys] if cache else []
    if cache:
        for j, (key, path) in enumerate(zip(keys, paths)):
            values[j] = _read_cache(path, key)

    missing = [j for j, v in enumerate(values) if v is None]
    if missing:
        def on_result(i, value):
            j = missing[i]
            values[j] = (float(value[0]), float(value[1]))
            if cache:
                _write_cache(paths[j], keys[j], values[j])

        tasks = [(pairs[j][0], pairs[j][1], lambda_um, epsrel) for j in missing]
        _compute_missing(tasks, workers, on_result)

    order = [unique[pair] for pair in zip(thickness, surface)]
    p_in = np.array([values[j][0] for j in order], dtype=float)
    p_out = np.array([values[j][1] for j in order], dtype=float)
    return p_in, p_out


def split_integrals(thickness_mm: float, surface_mm2: float, lambda_um: float = 160.0,
                    epsrel: float = 0.1, *, cache: bool = True) -> tuple[float, float]:
    """(P_in, P_out) for an area of total thickness ``thickness_mm`` and surface ``surface_mm2``."""
    p_in, p_out = split_integrals_many([thickness_mm], [surface_mm2], lambda_um, epsrel, cache=cache)
    return float(p_in[0]), float(p_out[0])
