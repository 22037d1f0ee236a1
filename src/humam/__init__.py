"""humam: the Human Multi-Area Model (Pronold et al. 2024, Cerebral Cortex, doi 10.1093/cercor/bhae409).

Pipeline stages, one module each: :mod:`humam.data` (raw inputs) → :mod:`humam.cytoarchitecture`
(neuron numbers) → :mod:`humam.connectivity` (synapse numbers) → :mod:`humam.full_scale` (weights,
delays, drive) and :mod:`humam.downscaling` → :mod:`humam.simulation` (NEST) → analysis → figures.
"""

__version__ = "0.1.0"
