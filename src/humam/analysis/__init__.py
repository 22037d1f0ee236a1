"""Analysis of simulated spikes (docs/model.md §8) and the statistics of the shipped χ scans (docs/model.md §8.13).

Every metric is a pure, vectorised function of arrays: spikes are held as one table of (neuron,
time) pairs sorted by (neuron, time) (:class:`SpikeTrains`), and per-neuron or per-population results
come from ``np.bincount`` / ``np.diff`` over that table, never from a loop over neurons. The
readers (:func:`read_spike_trains`, :func:`analyse_run`, :func:`read_analysis`, :func:`load_chi_scan`)
are thin wrappers around them.

Modules: :mod:`.spike_trains` (the spike table and its reader), :mod:`.statistics` (rates, CV ISI, LvR, correlation
coefficients, histograms, raster samples, KS rate similarity), :mod:`.currents` (synaptic currents),
:mod:`.bold` (Balloon–Windkessel), :mod:`.fc` (functional connectivity and the comparison with the
experimental FC), :mod:`.hierarchy` (temporal hierarchy of the areas from their rates),
:mod:`.chi_scan` (the shipped χ-scan statistics and their file, and the similarities of a scan run to the
data), :mod:`.scan` (the statistics of the pipeline's own runs of a scan family), :mod:`.journey` (the spike journey
of a perturbation pair and its file) and :mod:`.run` (the analysis of one run and
``analysis.h5``). The spike file format is :mod:`humam.spikefile`'s. The parameters are
the ``analysis`` section of ``defaults.yaml``.

Conventions (docs/model.md §8.1, docs/quirks.md Q14–Q19):

* A neuron is *present* if it spiked at least once in the whole run; silent neurons are absent from
  individual rates, CV, LvR and correlations, but mean rates divide by the full population size.
* Population-resolved results are (272,) arrays in canonical order; **empty populations (0 neurons)
  hold NaN** in rates, CV, LvR and cc, so that they can be told apart from populations that exist but
  have no qualifying neuron (CV, LvR, cc = 0 there, as the model description (docs/model.md) prescribes).
* Area-resolved results are (34,) arrays or (34, 34) matrices in alphabetical area order.
* Times are in ms, rates in spikes/s, rate histograms in spikes/ms per neuron, currents in pA, BOLD
  in the dimensionless units of the Balloon–Windkessel model, with its time in s.

Window conventions, as in the model description (docs/model.md): mean and individual rates count spikes in [t_start, t_stop);
CV and LvR use [t_start, t_stop]; correlation trains are binned on [t_start, t_sim] (a spike at
exactly t_sim falls into the last bin); rate histograms use [0, t_sim) whatever t_start is (docs/quirks.md Q15).
NEST stamps spikes at the end of a time step, so spikes at exactly t_sim occur. A spike at t goes
into bin floor((t - t0) / width + 1e-9), so that grid times on a bin edge stay in their bin.
"""

from .bold import balloon_windkessel, bold_signals, bold_steady_state, interpolate_linear_extrapolate
from .chi_scan import (
    CHI_SCAN_FOLDERS,
    CHI_SCAN_MAIN_FOLDER,
    CHI_SCAN_SAMPLE_AREA,
    CHI_SCAN_SAMPLE_WINDOWS,
    FAMILY_FOLDERS,
    area_mean_rate_from_samples,
    chi_scan_name,
    chi_scan_samples_from_spikes,
    chi_scan_statistics,
    chi_star,
    fmri_similarity,
    load_chi_scan,
    load_chi_scan_fc,
    load_chi_scan_samples,
    read_chi_scan_statistics,
    recompute_chi_scan_ks,
    scan_similarities,
    write_chi_scan_statistics,
)
from .currents import area_synaptic_currents, causal_convolve, current_kernel, source_tau_syn_ms
from .fc import (
    FMRI_ARRAY,
    FMRI_LH_ROWS,
    FMRI_RH_ROWS,
    FMRI_ROIS,
    compare_with_experimental_fc,
    experimental_fc,
    fc_matrix,
    fc_similarity,
    fc_vector,
    load_experimental_fc,
    subject_fc,
)
from . import hierarchy
from .journey import compare_runs, read_journey, write_journey
from .scan import read_scan_statistics, simulated_scan_statistics, write_scan_statistics
from .run import (
    FILE_TYPE,
    FORMAT_VERSION,
    analyse_run,
    analyse_spike_trains,
    analysis_window_ms,
    population_table,
    read_analysis,
    read_analysis_attrs,
    resolve_params,
    write_analysis,
)
from .spike_trains import SpikeTrains, read_spike_trains, spike_trains_from_arrays
from .statistics import (
    area_mean_rates,
    bin_index,
    correlation_coefficients,
    grouped_histograms,
    individual_rates,
    interval_statistics,
    ks_rate_similarity,
    ks_similarity,
    load_mfc_baseline_rates,
    mean_pairwise_correlation,
    population_counts,
    population_mean_rates,
    population_spike_counts,
    raster_sample,
    raster_window_ms,
    rate_histograms,
    spike_count_histograms,
    spike_irregularity,
)

__all__ = [
    "CHI_SCAN_FOLDERS", "CHI_SCAN_MAIN_FOLDER", "CHI_SCAN_SAMPLE_AREA", "CHI_SCAN_SAMPLE_WINDOWS", "FAMILY_FOLDERS", "FILE_TYPE",
    "FMRI_ARRAY", "FMRI_LH_ROWS", "FMRI_RH_ROWS", "FMRI_ROIS", "FORMAT_VERSION", "SpikeTrains", "analyse_run",
    "analyse_spike_trains", "analysis_window_ms", "area_mean_rate_from_samples", "area_mean_rates",
    "area_synaptic_currents", "balloon_windkessel", "bin_index", "bold_signals", "bold_steady_state",
    "causal_convolve", "chi_scan_name", "chi_scan_samples_from_spikes", "chi_scan_statistics", "chi_star", "compare_runs",
    "compare_with_experimental_fc",
    "correlation_coefficients", "current_kernel", "experimental_fc", "fc_matrix", "fmri_similarity", "fc_similarity", "fc_vector",
    "grouped_histograms", "hierarchy", "individual_rates", "interpolate_linear_extrapolate", "interval_statistics",
    "ks_rate_similarity", "ks_similarity", "load_chi_scan", "load_chi_scan_fc", "load_chi_scan_samples",
    "load_experimental_fc", "load_mfc_baseline_rates", "mean_pairwise_correlation", "population_counts",
    "population_mean_rates", "population_spike_counts", "population_table", "raster_sample", "raster_window_ms",
    "rate_histograms", "read_analysis", "read_analysis_attrs", "read_chi_scan_statistics", "read_journey",
    "read_scan_statistics", "read_spike_trains", "recompute_chi_scan_ks", "resolve_params", "scan_similarities",
    "simulated_scan_statistics",
    "source_tau_syn_ms", "spike_count_histograms", "spike_irregularity", "spike_trains_from_arrays", "subject_fc",
    "write_analysis", "write_chi_scan_statistics", "write_journey", "write_scan_statistics",
]
