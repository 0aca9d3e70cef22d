"""The CLI contract (issue 23, item 1): a job receives paths, the wildcard values of its rule, run options and the
generated settings sections, nothing else.

Every field of every ``reproflow.cli`` module's ``Config`` (and of the CLI-local dataclasses it nests) must be
- a ``Path`` (or a list, tuple, optional or ``dict[str, ...]`` of paths): what the rule's input/output hands over;
- named as a wildcard of a rule that runs the CLI, with a scalar type: the job's place in the sweep (``panel``,
  ``depth``, ...). A rule's wildcards are read from its ``log:`` (Snakemake requires the log to carry exactly the
  output's wildcards); none of them is a run option;
- a run option (:data:`RUN_OPTIONS`): how and where this scale runs, not what it computes;
- a class generated from the schema (:mod:`reproflow.settings.sections`), or a list, tuple, optional or
  ``dict[str, ...]`` of those: a section handed over whole by dotted name, so a value is typed once (params.yaml)
  and reaches the library as the object the schema describes.
A hand-typed scalar (``--lr 0.1``) fails: it restates a params.yaml key under a CLI name.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import string
import types
import typing
from pathlib import Path
from typing import Any

import pytest

import reproflow.cli
from reproflow import catalogue
from reproflow.settings import sections

REPO = Path(__file__).resolve().parents[2]

# How and where a scale runs, not what it computes (the top-level keys of params.yaml beside the sections, and the
# flags every CLI gets from _base: --log, --threads). ``scale`` is the overlay's label (config/<scale>.yaml sets it
# with its own results_root; it is written into tables, captions and the summary, and ``smoke`` draws no verdict):
# one per run like ``device``, not a value any sweep varies.
RUN_OPTIONS = {"device", "scale", "log", "threads"}

# The SPA CLIs (data, pretrain, attack, advtrain) are converted on another branch; skipped here until it is merged.
# A listed module that already passes fails the test below, so the list cannot go stale: delete it after the merge.

SCALARS = (str, int, float, bool)


def catalogue_wildcards() -> set[str]:
    """Every wildcard name in the catalogue's path templates (the rules' outputs)."""
    names = set()
    for files in catalogue.FILES.values():
        for template in files.values():
            names |= {field for _, field, _, _ in string.Formatter().parse(template) if field}
    return names


def rule_wildcards() -> dict[str, set[str]]:
    """CLI module -> the wildcards of the rules that run it (``code=code_of("<cli>")``), read from each rule's
    ``log:`` paths."""
    out: dict[str, set[str]] = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"^rule ", text, flags=re.M)[1:]:
            cli = re.search(r'code=code_of\("(\w+)"\)', block)
            if cli is None:
                continue
            log = re.search(r"^    log:\n(.*?)^    \w+:", block, re.S | re.M)
            body = log.group(1) if log else ""
            # a log path built from a module constant (f"train_defence/{TRAIN_JOB}"): that constant's templates
            for const in re.findall(r"\{([A-Z_]+)\}", body):
                body += re.search(rf"^{const} = (.*?)^$", text, re.S | re.M).group(1)
            out.setdefault(cli.group(1), set()).update(re.findall(r"\{([a-z_]+)\}", body))
    return out


WILDCARDS = catalogue_wildcards()
RULE_WILDCARDS = rule_wildcards()
GENERATED = {getattr(sections, name) for name in sections.__all__}


def cli_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(reproflow.cli.__path__) if not m.name.startswith("_"))


def _inner(tp: Any) -> list[Any]:
    """The element types of an optional, list, tuple or ``dict[str, X]`` (itself otherwise)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(tp) if a is not type(None) for t in _inner(a)]
    if origin in (list, tuple):
        return [t for a in typing.get_args(tp) if a is not Ellipsis for t in _inner(a)]
    if origin is dict:
        key, value = typing.get_args(tp)
        return _inner(value) if key is str else [tp]
    return [tp]


def violations(config: type, module: Any, wildcards: set[str], prefix: str = "") -> list[str]:
    """``field: type`` of every field of ``config`` that breaks the contract (nested CLI-local dataclasses too);
    ``wildcards``: those of the rules that run the CLI."""
    bad = []
    hints = typing.get_type_hints(config)
    for f in dataclasses.fields(config):
        name, tp = prefix + f.name, hints[f.name]
        for inner in _inner(tp):
            if inner is Path or inner in GENERATED:
                continue
            if dataclasses.is_dataclass(inner) and inner.__module__ == module.__name__:
                bad += violations(inner, module, wildcards, prefix=name + ".")
                continue
            is_scalar = inner in SCALARS or typing.get_origin(inner) is typing.Literal
            if is_scalar and (f.name in wildcards or f.name in RUN_OPTIONS) and inner is tp:
                continue
            bad.append(f"{name}: {tp}")
    return bad


def module_violations(name: str) -> list[str]:
    module = importlib.import_module(f"reproflow.cli.{name}")
    assert dataclasses.is_dataclass(module.Config), f"reproflow.cli.{name}.Config is not a dataclass"
    return violations(module.Config, module, RULE_WILDCARDS.get(name, set()))


def test_the_wildcards_come_from_the_rules_and_the_catalogue():
    # the sweep's coordinates of both papers, read from the rules and the catalogue's templates (not typed here)
    assert {"dataset", "seed", "defence", "panel", "depth", "mf_group", "mf_figure", "speed_rho"} <= WILDCARDS
    assert RULE_WILDCARDS["train_depth_cell"] == {"panel", "depth"}
    assert RULE_WILDCARDS["compute_phase_diagram"] == set()
    assert RULE_WILDCARDS["train_defence"] == {"dataset", "seed", "defence"}  # through TRAIN_JOB
    assert not (WILDCARDS | set().union(*RULE_WILDCARDS.values())) & RUN_OPTIONS


def test_run_options_are_top_level_config_keys_or_the_common_flags():
    hints = typing.get_type_hints(sections.Section)
    top = {name for name, tp in hints.items() if not dataclasses.is_dataclass(tp)}  # not a phase's section
    assert RUN_OPTIONS - {"log", "threads"} <= top, sorted(RUN_OPTIONS - top)


def test_every_cli_is_run_by_a_rule():
    assert set(cli_modules()) <= set(RULE_WILDCARDS), sorted(set(cli_modules()) - set(RULE_WILDCARDS))


@pytest.mark.parametrize("name", cli_modules())
def test_every_cli_option_is_a_path_a_wildcard_a_run_option_or_a_generated_section(name):
    bad = module_violations(name)
    assert not bad, (
        f"reproflow.cli.{name}: options that restate params.yaml values by hand (pass the generated section from "
        f"reproflow.settings.sections by dotted name instead): {bad}"
    )


def test_the_check_catches_a_hand_typed_scalar():
    @dataclasses.dataclass(frozen=True)
    class Config:
        output: Path
        panel: str  # a wildcard
        device: str  # a run option
        gradients: sections.MeanfieldGradients
        runs: tuple[sections.MeanfieldGradientsRunsItem, ...]
        lr: float  # a params.yaml value typed again

    module = types.SimpleNamespace(__name__=__name__)
    assert violations(Config, module, {"panel"}) == [f"lr: {float}"]
    # a wildcard of another rule is no wildcard of this one
    assert violations(Config, module, set()) == [f"panel: {str}", f"lr: {float}"]
