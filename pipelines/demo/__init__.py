"""Deterministic synthetic demo data: a fictional state's reference tables and quarterly submissions.

Everything comes from seeded ``numpy.random.default_rng`` streams (plus a seeded integer hash for draws that
must agree across quarters), so the same arguments always write byte-identical files.

Two layouts:

* ``sample`` (the default for one state): ``<out>/reference/*.csv`` plus ``<out>/sample/`` holding one
  bulk state backfill file per quarter and report (``<quarter>/<report>.csv``), a few per-agency files
  for the stories (``agency/<agency>_<quarter>_<report>[_resubmitted].csv``) and ``manifest.csv``
  (``file,submitted_by,submitted_at``: every sample file, in load order).
* ``single`` (the default for several states, used by the benchmark): ``<out>/<report>.csv`` holding
  every agency and quarter, ``<out>/reference/*.csv`` and ``<out>/manifest.csv``.

Modules: ``quarters`` (calendar), ``world`` (regions and agencies), ``spells`` (the people: employment spells
in budgeted positions), one module per report (``headcount``, ``certification``, ``billing``, ``retention``,
``practices``: the semiannual self-assessment), ``reference`` (tables that do not depend on the simulation; the
state-maintained targets and integration practices are copied from data/reference, never generated), ``files``
(writing), ``stories`` (agencies chosen for the stories), ``build`` (``generate``) and ``__main__`` (the command
line).

Stories (``with_stories=True``, in the first state only; ``generate()`` returns the ids):

* ``lapse_region``: certification renewals in this region fail from early in the window (2024-Q1), so
  EXPIRED_GRACE and then LAPSED pile up; the region rates SUP_TRAINED and TRAIN_CERTIFICATION low, plans
  supervision training in one year's assessments (2025-Q2 planned, 2025-Q4 in progress, 2026-Q2 done) and its
  % certified recovers two quarters after the plans start (2025-Q4).
* ``denial_spike_agency``: a CMHC that billed H2015 switches to H2016 when H2015 is retired (2025-Q1)
  and sees about 30% then 25% of its units denied for two quarters.
* ``no_billing_rco``: a Medicaid-enrolled RCO with many peers that bills nothing.
* ``late_submitter``: files for the last two quarters arrive 45-70 days after quarter end, one file per
  report (and its last self-assessment), outside the state backfill; its last assessment has overdue actions.
* ``missing_submitter``: an active agency with no files for the last two quarters.
* ``resubmitting_agency``: its billing rows for the second-to-last quarter are in the bulk file (claims
  still pending, one payer missing) and then again, corrected, in a later per-agency file.
* ``new_agencies`` / ``closed_agency``: agencies that start reporting mid-window, and one that closes
  (every state has these).
* Practice stories (not returned as ids; see ``practices``): role-drift agencies rate ROLE_DRIFT_REVIEW low, a
  handful show a peer-voice gap on CULTURE_INCLUSION, two fall back after FUNDING_LOSS separations.

The late and resubmission stories need separate files, so the single-file layout leaves them out.
With the defaults the ids are R3, AG0101, AG0076, AG0067, AG0082, AG0003, AG0065/AG0075/AG0107 and
AG0073 (tests/test_demo_data.py pins them).

CLI: ``python -m pipelines.demo [--out DIR] [--states N] [--quarters N] [--seed N]``; with no arguments it
rewrites ``data/reference`` and ``data/sample``.
"""

from __future__ import annotations

from pipelines.demo.build import generate
from pipelines.demo.quarters import (
    DEMO_AS_OF,
    DEMO_FIRST_QUARTER,
    DEMO_LAST_QUARTER,
    DEMO_QUARTERS,
    last_quarters,
    quarter_end,
    quarter_range,
    quarter_start,
)

__all__ = ["DEMO_AS_OF", "DEMO_FIRST_QUARTER", "DEMO_LAST_QUARTER", "DEMO_QUARTERS", "generate", "last_quarters",
           "quarter_end", "quarter_range", "quarter_start"]
