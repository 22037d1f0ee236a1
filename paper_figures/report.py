"""The pipeline's report: every figure with the scale and status it was made at, and the
regenerated numbers against the published ones (network totals, theory, χ-scan similarities, the
profile's own χ scan and its χ*, the ground-state and best-fit statistics at the profile's scale), with
provenance.

    python -m paper_figures.report --out OUT --profile NAME --input run:ground_state=ANALYSIS_FILE \\
        --input run:best_fit=ANALYSIS_FILE --input network:full=NETWORK_H5 --input theory:full=THEORY_H5

(``doit`` passes them; :data:`SPEC` declares them.)

Writes ``OUT/report.md`` and ``OUT/report.html`` (figures linked from ``OUT/figures``), atomically.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import humam
from humam import analysis, data, network_file, parameters, provenance, tables
from humam.errors import HumamError

from . import common, fig05_chi_scan
from .quantities import pearson_r_log_rates

#: What the report reads (``dodo.py`` builds its task from it, as for the figures).
SPEC = common.FigureSpec(
    stems=(),
    networks={"full": common.Source.network("network_only")},
    theories={"full": common.Source.network("network_only")},
    runs={"ground_state": common.Source.run("ground_state"), "best_fit": common.Source.run("best_fit")},
    chi_scans=(fig05_chi_scan.MAIN_FOLDER,),
    scans={fig05_chi_scan.MAIN_FAMILY: common.Scan(fig05_chi_scan.MAIN_FAMILY)},
)

#: Order of the figures in the report (docs/figures.md §0); sidecars of other ids follow alphabetically.
FIGURE_ORDER = ["F1", "F2", "F3", "F4", "F5", "F5s", "F6", "F7", "F8", "S-MF", "S-RD", "S-RA", "S-AM", "T-IN"]

#: Published network totals (docs/model.md §12).
PUBLISHED_NETWORK = {
    "neurons": 3_468_839, "neurons_E": 2_587_152, "neurons_I": 881_687, "populations_nonempty": 254,
    "synapses_internal": 42_778_075_138, "synapses_local": 34_265_571_151,
    "synapses_cortico_cortical": 8_512_503_987, "synapses_external": 18_025_524_840, "nonzero_pairs": 8_394,
}
#: Mean over populations of the shipped full-scale base theory rates (docs/model.md §9.6, §12).
PUBLISHED_THEORY_MEAN_HZ = 0.75453
BASE_THEORY_PICKLE = "simulated_data/base_theory_rates.pkl"
#: Published statistics of the down-scaled examples (docs/model.md §10.5: n = k = 0.005, published
#: down-scaling, seed 2903, 2,500 ms, t >= 500 ms): (ground state, best fit).
PUBLISHED_DOWNSCALED = {
    "population_mean_rate_hz": (61.1, 103.1),
    "neuron_weighted_rate_hz": (44.4, 74.5),
    "mean_cv_isi": (2.01, 2.14),
    "mean_lvr": (0.83, 0.66),
    "mean_cc": (0.005, 0.006),
    "synaptic_vs_bold_fc": (0.206, 0.038),
}
#: Published χ-scan fMRI similarities, right hemisphere, main family (docs/figures.md §4.5).
PUBLISHED_CHI_SCAN = [("Pearson r, χ = 1", "pearson_rh", 1.0, 0.335),
                      ("Pearson r, χ = 2.5", "pearson_rh", 2.5, 0.347),
                      ("RMSE similarity, χ = 2.5 (maximum)", "rmse_similarity_rh", 2.5, 0.481)]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


def _fmt(value, digits: int = 4) -> str:
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, float) and value == int(value) and abs(value) >= 1000:
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def figure_entries(figures_dir: Path) -> list[dict]:
    """The sidecars of OUT/figures in report order, each with its image stem."""
    entries = []
    for path in sorted(figures_dir.glob("*.json")):
        sidecar = json.loads(path.read_text())
        if "id" in sidecar and "status" in sidecar:
            entries.append({**sidecar, "stem": path.stem})
    rank = {fid: i for i, fid in enumerate(FIGURE_ORDER)}
    return sorted(entries, key=lambda e: (rank.get(e["id"].split(" ")[0], len(rank)), e["stem"]))


def _scale_of(sidecar: dict) -> str:
    """Scale of a figure from its inputs: the runs' and networks' scales, or 'shipped data'."""
    scales = []
    for item in sidecar.get("inputs", []):
        if item.get("kind") in ("run", "network"):
            scale = (f"N = {float(item['n_scaling']):g}, K = {float(item['k_scaling']):g}"
                     if (float(item["n_scaling"]), float(item["k_scaling"])) != (1.0, 1.0) else "full scale")
            if scale != "full scale":
                scale += f" ({item['scaling_type']})"
            if item.get("kind") == "run":
                scale += f", χ = {item['chi']:g}, {float(item['t_sim_ms']) / 1000:g} s"
            scales.append(scale)
    if not scales:
        return "shipped data" if sidecar.get("inputs") else "—"
    return "; ".join(dict.fromkeys(scales))


def figures_table(entries: list[dict]) -> Table:
    rows = []
    for e in entries:
        missing = ", ".join(f"{m['panel']}: {m['input']}" for m in e.get("missing", [])) or "—"
        rows.append([e["id"], e["title"], e["status"], _scale_of(e), missing, e["stem"]])
    return Table(["figure", "title", "status", "made at", "missing panels", "file"], rows)


def network_table(net) -> Table:
    from humam.network import summary

    got = summary(net)
    rows = [[key.replace("_", " "), _fmt(got[key]), _fmt(ref), "yes" if got[key] == ref else "**no**"]
            for key, ref in PUBLISHED_NETWORK.items()]
    return Table(["full-scale network", "regenerated", "published (docs/model.md §12)", "equal"], rows)


def theory_table(result) -> Table:
    import pandas as pd

    rates = result.rates_hz[result.nonempty]
    pickle = pd.read_pickle(data.data_path(BASE_THEORY_PICKLE))
    shipped = np.array([pickle[key] for key in (tables.POPULATIONS[i] for i in np.flatnonzero(result.nonempty))])
    rel = np.abs(rates - shipped) / shipped
    return Table(["mean-field theory, full-scale base", "regenerated", "published", "note"], [
        ["mean rate over populations (spikes/s)", f"{rates.mean():.5f}", f"{PUBLISHED_THEORY_MEAN_HZ:.5f}",
         f"pseudo-time {result.times[-1]:g}"],
        ["max relative difference to the shipped rates", f"{rel.max():.2%}", "≤ 3 % (docs/model.md §9.6)",
         "the shipped rates are the converged fixed point"],
    ])


def chi_scan_table(statistics: dict) -> Table:
    """The shipped χ-scan similarities of the main family (its chi-scan statistics) against the published ones."""
    rows = []
    chis = list(np.asarray(statistics["chi"], dtype=float))
    for label, column, chi, published in PUBLISHED_CHI_SCAN:
        value = float(statistics["similarity"][column][chis.index(chi)])
        rows.append([label, f"{value:.3f}", f"{published:.3f}", "yes" if round(value, 3) == published else "**no**"])
    return Table(["χ scan (shipped statistics, rh)", "drawn in F5", "published", "equal to 3 digits"], rows)


def scan_table(ours: dict, shipped: dict | None) -> tuple[str, Table]:
    """The profile's runs of the main χ scan, member by member, beside the shipped full-scale values at
    the same χ; and the text naming our χ* beside the published one."""
    shipped_chis = [] if shipped is None else [float(c) for c in shipped["chi"]]
    columns = ("ks_rates", "ks_cv", "ks_lvr", "pearson_rh", "rmse_similarity_rh")
    rows = []
    for i, chi in enumerate(np.asarray(ours["chi"], dtype=float)):
        row = [f"{chi:g}"]
        for column in columns:
            value = float(ours["similarity"][column][i])
            reference = (float(shipped["similarity"][column][shipped_chis.index(chi)])
                         if chi in shipped_chis else float("nan"))
            row.append(("—" if np.isnan(value) else f"{value:.3f}") + " / "
                       + ("—" if np.isnan(reference) else f"{reference:.3f}"))
        score = float(ours["chi_star"]["score"][i])
        row.append("—" if np.isnan(score) else f"{score:.3f}")
        row.append(" / ".join(str(int(ours["sample_sizes"][m][i])) for m in ("rates", "cv", "lvr")))
        rows.append(row)
    star = float(ours["chi_star"]["chi_star"])
    measures = ", ".join(str(m) for m in np.atleast_1d(ours["chi_star"]["measures"]))
    text = (f"This profile's runs of `{ours['family']}` ({fig05_chi_scan.scale_text(ours)}; profile "
            f"{ours['profile']}): χ* = {star:g} by the criterion of docs/model.md §8.13 ({measures}); "
            f"published χ* = {float(shipped['chi_star']['published']) if shipped else 2.5:g}")
    if shipped is not None:
        text += (f", and the same criterion applied to the shipped full-scale curves gives "
                 f"χ* = {float(shipped['chi_star']['chi_star']):g}")
    if not ours["experimental_fc"]["available"]:
        text += ". The fMRI array is not available, so the fMRI similarities of our runs are absent (—)"
    header = ["χ"] + [f"{name} (this profile / full scale)" for name in
                      ("1 − KS rates", "1 − KS CV ISI", "1 − KS LvR", "FC Pearson r (rh)", "FC RMSE similarity (rh)")]
    return text + ".", Table(header + ["χ* score", "samples (rates / CV / LvR)"], rows)


#: Full-scale neuron-weighted rate of the ground state, mean-field theory (docs/model.md §6.5), spikes/s.
FULL_SCALE_THEORY_WEIGHTED_RATE_HZ = 0.436


def run_statistics_table(analyses: dict[str, dict], run_params: dict[str, dict],
                         stability: dict[str, dict | None] | None = None,
                         full_theory_rates_hz: np.ndarray | None = None,
                         k_scalings: dict[str, float] | None = None) -> Table:
    """The statistics of the profile's ground state and best fit next to the published example's, the
    ground-state rate against the full-scale theory (ratio of neuron-weighted rates and, with
    ``full_theory_rates_hz``, the Pearson r of log population rates), and the stability of the
    full-scale rates in each run's (down-scaled) network. ``k_scalings``: each run's network's own
    indegree scale, where a ``k_scaling_rule`` chose it (otherwise the parameter's)."""
    names = [n for n in ("ground_state", "best_fit") if n in analyses]
    header = ["statistic (t ≥ 500 ms)"] + [f"{n.replace('_', ' ')} (this profile)" for n in names] + \
             ["published N = K = 0.005 example (ground / best)"]
    rows = []
    for key, published in PUBLISHED_DOWNSCALED.items():
        row = [key.replace("_", " ")] + [_fmt(float(analyses[n]["summary"][key])) for n in names]
        rows.append(row + [f"{published[0]:g} / {published[1]:g}"])
    rows.append(["neurons"] + [_fmt(int(analyses[n]["summary"]["neurons"])) for n in names] + ["17,350"])
    rows.append(["ground state: neuron-weighted rate / full-scale theory (0.436 spikes/s)"]
                + [f"×{float(analyses[n]['summary']['neuron_weighted_rate_hz']) / FULL_SCALE_THEORY_WEIGHTED_RATE_HZ:.2f}"
                   if n == "ground_state" else "—" for n in names] + ["×102 / —"])
    if full_theory_rates_hz is not None:
        rows.append(["ground state: Pearson r of log population rates against the full-scale theory"]
                    + [f"{pearson_r_log_rates(analyses[n]['population']['rate_hz'], full_theory_rates_hz):.2f}"
                       if n == "ground_state" else "—" for n in names] + ["— / —"])
    stability = stability or {}
    row = ["leading eigenvalue at the full-scale rates (stable below 1)"]
    for n in names:
        check = stability.get(n)
        row.append("full scale" if check is None else
                   f"{check['leading_eigenvalue']:.2f} ({'stable' if check['stable'] else '**unstable**'})")
    rows.append(row + ["—"])
    conditions = []
    for n in names:
        p = run_params[n]
        d, s = p["network"]["downscaling"], p["simulation"]
        k = (k_scalings or {}).get(n, d["k_scaling"])
        rule = " (smallest stable)" if d.get("k_scaling_rule") == "smallest_stable" else ""
        conditions.append(f"N = {d['n_scaling']:g}, K = {k:.3g}{rule}, {d['scaling_type']}, seed {s['seed']}, "
                          f"{s['t_sim_ms'] / 1000:g} s")
    rows.append(["run"] + conditions + ["N = K = 0.005, linear, seed 2903, 2.5 s"])
    return Table(header, rows)


def downscaling_table(sidecar: dict) -> Table:
    """The down-scaling validation (figV_downscaling): simulated and mean-field rates against the
    full-scale theory, per run."""
    full = sidecar["comparison"]["full_scale"]
    rows = []
    runs = [r for name, r in sidecar["comparison"].items() if not name.startswith("full_scale")]
    for r in sorted(runs, key=lambda r: (r.get("chi", 1.0), r["scaling_type"], -r["n_scaling"])):
        residual = r["mean_field_max_relative_residual"]
        ks = r.get("area_samples", {})
        scheme = r["scaling_type"] + (" (this profile's run)" if r.get("profile_run") else "")
        rows.append([f"χ = {r.get('chi', 1.0):g}", scheme, f"N = {r['n_scaling']:g}, K = {r['k_scaling']:.3g}",
                     f"{r['neuron_weighted_rate_hz']:.3g}", f"{r['rate_ratio']:.3g}",
                     f"{r['pearson_r_log_rates']:.2f}", f"{residual:.2%}" if residual < 10 else f"{residual:.2g}",
                     f"{r['leading_eigenvalue'][0]:.2f} ({'stable' if r['stable'] else 'unstable'})",
                     f"{r['own_theory_neuron_weighted_rate_hz']:.3g} (×{r['own_theory_rate_ratio']:.3g})",
                     f"×{r['simulated_over_own_theory']:.2f}, r = {r['pearson_r_log_rates_own_theory']:.2f}",
                     f"×{r['sampled_area_rate_ratio']:.3g}" if "sampled_area_rate_ratio" in r else "—",
                     "{:.2f} / {:.2f}".format(r["cv_isi_quartiles"][1], r["lvr_quartiles"][1])
                     if "cv_isi_quartiles" in r else "—",
                     " / ".join("—" if np.isnan(ks[m]["ks_similarity"]) else f"{ks[m]['ks_similarity']:.2f}"
                                for m in ("rates", "cv", "lvr")) if ks else "—"])
    header = ["state", "scheme", "scale", "simulated rate (spikes/s, neuron-weighted)",
              f"ratio to the state's full-scale theory (ground state {full['neuron_weighted_rate_hz']:.3g} spikes/s"
              + (f", best fit {sidecar['comparison']['full_scale_best']['neuron_weighted_rate_hz']:.3g}"
                 if "full_scale_best" in sidecar["comparison"] else "") + ")",
              "Pearson r, log population rates", "mean-field residual at full-scale rates",
              f"leading eigenvalue at full-scale rates (full scale {full['leading_eigenvalue'][0]:.2f})",
              "down-scaled theory (spikes/s, neuron-weighted; ratio to full scale)",
              "simulated against down-scaled theory (ratio; r of log rates)",
              f"{analysis.CHI_SCAN_SAMPLE_AREA}: simulated / full-scale theory",
              "median CV ISI / LvR (all neurons)",
              f"{analysis.CHI_SCAN_SAMPLE_AREA}: 1 − KS to the full-scale samples (rates / CV / LvR)"]
    reference = full.get("simulation_reference")
    if reference is not None:
        rows.append(["χ = 1", "published, full scale", "N = 1, K = 1 (shipped samples)", "—", "—", "—", "—", "—", "—",
                     "—", f"×{reference['ratio']:.3g} ({reference['simulated_rate_hz']:.3g} / "
                     f"{reference['theory_rate_hz']:.3g} spikes/s)", "—", "1 / 1 / 1"])
    return Table(header, rows)


def build_report(out: Path, profile: str, inputs: common.FigureInputs) -> dict[str, Path]:
    """Write OUT/report.md and OUT/report.html from the pipeline outputs ``inputs`` (:data:`SPEC`);
    returns their paths."""
    profile_data = parameters.load_profile(profile)
    sections: list[tuple[str, str, Table | None]] = []
    entries = figure_entries(out / "figures")
    sections.append(("Figures", f"{len(entries)} figure files in `figures/`. Status: `full` (published inputs, all "
                     "panels), `partial` (panels missing, listed), `scaled` (drawn from this profile's down-scaled "
                     "runs, not the full-scale regime).", figures_table(entries)))
    if inputs.network("full") is not None:
        sections.append(("Network", "", network_table(inputs.network("full"))))
    if inputs.theory("full") is not None:
        sections.append(("Mean-field theory", "", theory_table(inputs.theory("full"))))
    statistics = inputs.chi_scan(fig05_chi_scan.MAIN_FOLDER)
    if statistics is not None:
        sections.append(("χ scan", "", chi_scan_table(statistics)))
    ours = inputs.scan(fig05_chi_scan.MAIN_FAMILY)
    if ours is not None:
        text, table = scan_table(ours, statistics)
        sections.append(("χ scan at this profile's scale", text, table))
    analyses, run_params, run_records, runs, stability, k_scalings = {}, {}, {}, {}, {}, {}
    for name in SPEC.runs:
        run = inputs.run(name)
        if run is None:
            continue
        analyses[name], run_records[name], run_params[name], runs[name] = run.analysis, run.run, run.params, run.folder
        k_scalings[name] = float(run.network.k_scaling)
        attrs = network_file.read_network_attrs(run.network_path)
        stability[name] = json.loads(attrs["stability"]) if "stability" in attrs else None
    if analyses:
        sections.append(("Simulations at this profile's scale",
                         "The published statistics are those of the down-scaled examples of the paper's tutorial; "
                         "they are comparable only where scale, scheme, seed and duration agree.",
                         run_statistics_table(analyses, run_params, stability,
                                              None if inputs.theory("full") is None else inputs.theory("full").rates_hz,
                                              k_scalings)))
    validation = out / "figures" / "figV_downscaling.json"
    if validation.is_file():
        sections.append(("Down-scaling against the full scale",
                         "Ground state (χ = 1) and best fit (χ = 2.5) simulated with each down-scaling scheme; rates "
                         "after a 1 s transient against the full-scale theory of the same state (fixed point). Targets: ratio within 0.7–1.3, r ≥ 0.8; mean-field "
                         "residual below 1 %. The down-scaled theory includes the network's DC drive and starts "
                         "from the published uniform random rates; where the full-scale rates are an unstable "
                         "fixed point of the down-scaled network (eigenvalue above 1), it converges to the state "
                         "the down-scaled network settles in instead. The last column and row compare one area, "
                         f"{analysis.CHI_SCAN_SAMPLE_AREA}, the only one whose full-scale simulated rates are shipped: "
                         "each run against the full-scale theory, and the published full-scale simulation (ground "
                         "state of the main χ-scan family, 2.5–12.5 s) against the same theory. The last two columns compare "
                         "distributions: the median CV ISI and LvR over all neurons of each run, and, in "
                         f"{analysis.CHI_SCAN_SAMPLE_AREA}, 1 − KS distance between each run's rates, CV ISI and LvR "
                         "(2 s windows after 2.5 s, as the shipped samples) and the shipped full-scale samples of its "
                         "state (1 = identical distributions).",
                         downscaling_table(json.loads(validation.read_text()))))
    record = provenance.record()
    nest_versions = sorted({r["nest"]["version"] + (" (MPI)" if r["nest"]["have_mpi"] else "")
                            for r in run_records.values()})
    prov = Table(["item", "value"], [
        ["profile", f"{profile_data['name']}: {profile_data.get('description', '')}"],
        ["humam", humam.__version__],
        ["git commit", str(record.get("git_commit", "unknown"))],
        ["NEST", ", ".join(nest_versions) or "—"],
        ["runs", "; ".join(f"{n}: {f}" for n, f in runs.items()) or "—"],
    ])
    sections.append(("Provenance", "", prov))
    title = f"humam report — profile {profile_data['name']}"
    paths = {"md": out / "report.md", "html": out / "report.html"}
    _atomic_write(paths["md"], _markdown(title, sections, entries))
    _atomic_write(paths["html"], _html(title, sections, entries))
    return paths


def _markdown(title: str, sections, entries) -> str:
    lines = [f"# {title}", ""]
    for heading, text, table in sections:
        lines += [f"## {heading}", ""]
        if text:
            lines += [text, ""]
        if table is not None:
            lines += ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows]
            lines.append("")
        if heading == "Figures":
            for e in entries:
                lines += [f"### {e['id']}: {e['title']}", "", f"![{e['stem']}](figures/{e['stem']}.png)", ""]
    return "\n".join(lines)


def _html(title: str, sections, entries) -> str:
    esc = html.escape
    parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>", f"<title>{esc(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #bbb;padding:3px 6px;font-size:90%}img{max-width:100%}</style>",
             "</head><body>", f"<h1>{esc(title)}</h1>"]
    for heading, text, table in sections:
        parts.append(f"<h2>{esc(heading)}</h2>")
        if text:
            parts.append(f"<p>{esc(text)}</p>")
        if table is not None:
            parts.append("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in table.header) + "</tr>")
            for row in table.rows:
                parts.append("<tr>" + "".join(f"<td>{esc(c).replace('**', '')}</td>" for c in row) + "</tr>")
            parts.append("</table>")
        if heading == "Figures":
            for e in entries:
                parts.append(f"<h3>{esc(e['id'])}: {esc(e['title'])}</h3>")
                parts.append(f"<img src='figures/{esc(e['stem'])}.png' alt='{esc(e['stem'])}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None) -> int:
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="pipeline output root (holds figures/)")
    parser.add_argument("--profile", default="laptop")
    parser.add_argument("--input", action="append", default=[], metavar="KIND:NAME=PATH",
                        help="a pipeline output the report reads (see SPEC)")
    args = parser.parse_args(argv)
    inputs = common.parse_inputs(SPEC, args.input, parser.error)
    try:
        paths = build_report(args.out, args.profile, inputs)
    except HumamError as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {paths['md']}, {paths['html']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
