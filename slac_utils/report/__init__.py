"""Stage 10 — the paper side by side: Tables 1-9, Figures 1-4, a browsable index and the HACS export.

The last stage reads what the earlier stages wrote and writes nothing they read:

* **Tables 1-9** into ``tables_dir`` (``reports/tables/10_report``), each as Markdown, CSV and LaTeX
  (``.tex``: a booktabs ``tabular`` ready to paste; ``%``, ``&``, ``_``, ``#``, ``$``, ``{``, ``}``, ``~``, ``^``
  and ``\\`` are escaped). Every file opens with the table's title, the profile that produced it (demo scale,
  paper scale or custom), the parameters that matter for it and where its rows come from; the paper's values
  stay in their own, labelled columns (or rows marked ``paper``). The CSV files carry that header as ``#``
  comment lines (read them with ``pandas.read_csv(path, comment="#")``; string cells are quoted, so a ``#``
  inside a cell is kept). Table 1 (datasets compared) and Table 2 (de-duplication, our counts beside the
  paper's 171,378 / 4,029 / 1,925 / 660 / 11) are built here; Tables 3-9 are re-emitted from the stage
  tables whose metadata (``<stem>.meta.json``, written beside every stage table: title, notes, ``paper_table``)
  says which of the paper's tables they are. A table no stage wrote is listed in the index as "not produced by this run".
  ``pipeline_counts`` (the numbers of Figure 1, ours beside the paper's) is written the same way.
* **Figures** into ``figures_dir`` (``reports/figures/10_report``), byte-stable PNGs (``io.save_figure``,
  seeded choices): ``fig1_pipeline.png`` (paper Fig. 1 with this run's counts), ``fig2_negatives.png`` (Fig. 2:
  a positive and the three negative types, real frames; demo: chosen by the demo world's truth kinds, else by
  proxies), ``fig3_guideline.png`` (Fig. 3: definitions and the golden-set guideline examples),
  ``fig4_grid.png`` (Fig. 4: one annotation page with this run's labels as green/red borders),
  ``class_balance.png``, ``clips_per_video.png``, ``r_distribution.png``.
* **The HACS export** (:func:`slac_utils.export.run`) into ``export_dir``.
* **The index** ``index_path`` (``reports/index.md``): profile and key parameters, Tables 1-9 and the figures,
  the export's counts, then every table (md / csv / tex) and figure of every stage, in stage order, with the
  key numbers of ``metrics/<NN_stage>.json``. Links are relative; nothing depends on the clock.

Every input may be missing (a partial pipeline): what cannot be built is reported, not raised.

Rooms: ``catalog`` (the paper's tables and figures, captions, key metrics), ``profile`` (demo / paper / custom
profile, key parameters), ``counts`` (inputs, Tables 1-2, the Figure 1 counts), ``figures`` (Figure 1 and the label
statistics), ``examples`` (Figures 2-4 from real frames), ``index`` (``reports/index.md``); the stage is :mod:`slac_utils.stages.report`;
the Markdown / CSV / LaTeX writers are :mod:`slac_utils.tables`.
"""

from ..tables import (
    emit_table,
    latex_escape,
    read_report_csv,
    read_stage_csv,
    read_table_meta,
    write_csv_with_header,
    write_latex_table,
)
from .catalog import (
    FIGURES,
    KEY_METRICS,
    OWN_FIGURES,
    STAGE,
    STAGES,
    TABLES,
)
from .counts import counts_table, find_stage_tables, pipeline_counts, read_metrics, table1, table2
from .examples import (
    grid_page,
    guideline_examples,
    negatives_choice,
    plot_grid,
    plot_guideline,
    plot_negatives,
    read_middle_frame,
)
from .figures import plot_class_balance, plot_clips_per_video, plot_pipeline, plot_r_distribution
from .index import write_index
from .profile import param_items, profile_of

__all__ = [
    "FIGURES",
    "KEY_METRICS",
    "OWN_FIGURES",
    "STAGE",
    "STAGES",
    "TABLES",
    "counts_table",
    "emit_table",
    "find_stage_tables",
    "grid_page",
    "guideline_examples",
    "latex_escape",
    "negatives_choice",
    "param_items",
    "pipeline_counts",
    "plot_class_balance",
    "plot_clips_per_video",
    "plot_grid",
    "plot_guideline",
    "plot_negatives",
    "plot_pipeline",
    "plot_r_distribution",
    "profile_of",
    "read_metrics",
    "read_middle_frame",
    "read_report_csv",
    "read_stage_csv",
    "read_table_meta",
    "table1",
    "table2",
    "write_csv_with_header",
    "write_index",
    "write_latex_table",
]
