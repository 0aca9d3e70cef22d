"""Start-up of the workflow's jobs: every job is a fresh ``python -m reproflow.cli.<rule>`` process, and importing
torch costs it ~2 CPU-s, scipy.stats ~1 CPU-s, matplotlib ~0.5 CPU-s (benchmarks/bench_startup.py). A CLI that
declares ``TORCH_FREE = True`` never imports torch; no CLI imports scipy or matplotlib before its run needs
them. Each check runs in a fresh interpreter, as a job does."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest

from reproflow import deps

CLI_DIR = Path(deps.SRC) / "reproflow" / "cli"
CLIS = sorted(p.stem for p in CLI_DIR.glob("*.py") if not p.stem.startswith("_"))


def _torch_free(cli: str) -> bool:
    """The module's own marker: a top-level ``TORCH_FREE = True``."""
    for node in ast.parse((CLI_DIR / f"{cli}.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "TORCH_FREE" for t in node.targets):
            return isinstance(node.value, ast.Constant) and node.value.value is True
    return False


TORCH_FREE = [c for c in CLIS if _torch_free(c)]


def _loaded(code: str, packages: tuple[str, ...]) -> list[str]:
    """The ``packages`` a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {packages!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return out.split()


def test_the_torch_free_vocabulary_names_table_and_figure_clis():
    assert TORCH_FREE, "no CLI declares TORCH_FREE = True"
    assert set(TORCH_FREE) < set(CLIS)
    # a torch-free CLI takes no --device: a job that computes on a device is not torch-free
    for cli in TORCH_FREE:
        assert "device:" not in (CLI_DIR / f"{cli}.py").read_text(), cli


@pytest.mark.parametrize("cli", TORCH_FREE)
def test_torch_free_cli_and_the_library_it_calls_import_no_torch(cli):
    """The CLI module and every reproflow module it imports (at module level or inside its run)."""
    named = sorted(m for m in deps._direct_imports(f"reproflow.cli.{cli}") if deps._module_path(m) is not None)
    code = "import " + ", ".join([f"reproflow.cli.{cli}", *named])
    assert _loaded(code, ("torch", "torchvision")) == []


def test_no_cli_imports_scipy_or_matplotlib_at_module_level():
    """scipy and matplotlib are imported inside the functions that use them (one interpreter for all CLIs: the
    check is on what importing the modules runs, not on their start-up time)."""
    code = "import " + ", ".join(f"reproflow.cli.{c}" for c in CLIS)
    assert _loaded(code, ("scipy", "matplotlib", "seaborn")) == []


def test_the_claim_gate_and_its_intervals_need_neither_torch_nor_scipy_stats():
    """The table CLIs' statistics path (tabulate_claim_*, tabulate_defence_matrix, summarise_claims): the editor
    gate's non-inferiority verdict over a two-way interval, its p-value and planned widths."""
    code = (
        "import numpy as np\n"
        "from reproflow.attacks.gate import combine_gate, noninferiority\n"
        "from reproflow.report.verdicts import t_interval, two_way_interval, units_to_decide\n"
        "d = np.random.default_rng(0).normal(0.01, 0.1, (3, 50))\n"
        "iv, v = noninferiority(d, 0.05, 0.95)\n"
        "assert combine_gate([v]) in ('pass', 'fail', 'undecided') and iv.finite\n"
        "tw = two_way_interval(d, 0.95)\n"
        "assert 0 <= tw.p_value() <= 1 and tw.half_width(n_seeds=6) > 0\n"
        # sd 1.53, mean 2.33: t(.975, 3) * sd / 2 = 2.43 does not exclude 0, t(.975, 4) * sd / sqrt(5) = 1.90 does
        "assert t_interval([1.0, 2.0, 4.0], 0.9).finite and units_to_decide([1.0, 2.0, 4.0], 0.95) == 5\n"
    )
    assert _loaded(code, ("torch", "scipy.stats")) == []


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_t_quantile_and_sf_are_scipy_stats_value_for_value():
    """The verdicts' Student-t functions give scipy.stats.t's values bit for bit, edge values included, so no
    table moves: integer and Satterthwaite (fractional) df, df = inf, df <= 0 or NaN, q at 0 and 1, x at +-inf."""
    from scipy import stats

    from reproflow.report.verdicts import t_quantile, t_sf

    dfs = [1, 2, 3, 4, 9, 2.37, 17.5, 1e6, math.inf, 0, -1, math.nan]
    qs = [0.0, 0.5, 0.8, 0.9, 0.95, 0.975, 0.995, 1.0, -0.1, 1.1, math.nan]
    xs = [0.0, 0.3, 1.0, 2.5, 40.0, -1.5, math.inf, -math.inf, math.nan]
    for df in dfs:
        for q in qs:
            assert _same(t_quantile(q, df), float(stats.t.ppf(q, df))), (q, df)
        for x in xs:
            assert _same(t_sf(x, df), float(stats.t.sf(x, df))), (x, df)
