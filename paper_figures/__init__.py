"""Builders of the paper, supplementary and tutorial figures (see ``docs/figures.md``).

Each module ``figXX_*.py`` has ``build(..., out_dir) -> FigureResult`` and a ``main()`` so that
``python -m paper_figures.fig02_connectivity --out DIR`` writes the figure and its sidecar JSON.
"""
