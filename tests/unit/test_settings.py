"""The settings contract: schema -> typed sections, config -> CLI flags -> typed config, code digests."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from reproflow import deps, settings
from reproflow.cli._base import format_flags, parse_config
from reproflow.config import load_config
from reproflow.errors import UserError
from reproflow.settings import sections

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script", ["gen_settings.py", "gen_dvc.py"])
def test_generated_files_are_current(script):
    """sections.py follows the schema and dvc.yaml follows the rules and the CLIs' imports."""
    res = subprocess.run([sys.executable, f"workflow/scripts/{script}", "--check"], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("overlays", [[], ["config/quick.yaml"], ["config/tiny.yaml"], ["config/smoke.yaml"]])
def test_every_scale_loads_into_the_typed_sections(overlays):
    cfg = load_config(REPO / "params.yaml", *[REPO / o for o in overlays])
    s = settings.load(sections.Section, cfg)
    assert s.attack.pgd.steps == cfg["attack"]["pgd"]["steps"]
    assert isinstance(s.meanfield.rho_grid, tuple)
    # dump is the inverse of load: the values a rule hands a job are the config's own
    assert settings.load(sections.Section, settings.dump(s)) == s


def _pgd(**kw):
    return {"steps": 20, "step_factor": 2.5, "restarts": 1, **kw}


@pytest.mark.parametrize(
    "value, message",
    [
        (_pgd(step=3), "settings key 'attack.pgd.step': unknown key"),
        ({"steps": 20, "step_factor": 2.5}, "settings key 'attack.pgd.restarts': required key is missing"),
        (_pgd(steps="20"), "settings key 'attack.pgd.steps': expected an integer"),
        (_pgd(steps=True), "expected an integer"),
        (_pgd(step_factor=None), "expected a number"),
    ],
)
def test_load_names_the_bad_key(value, message):
    with pytest.raises(UserError, match=message):
        settings.load(sections.AttackPgd, value, "attack.pgd")


def test_literal_and_optional_fields():
    ok = settings.load(sections.PretrainClassifier, dict(arch="lenet5", epochs=1, batch_size=2, optimizer="adam",
                                                         lr=1, weight_decay=0, augment="none"))
    assert ok.lr == 1.0 and isinstance(ok.lr, float)
    with pytest.raises(UserError, match="'pretrain.classifier.mnist_rot.arch': 'vgg' is not one of"):
        settings.load(sections.PretrainClassifier, dict(dataclasses.asdict(ok), arch="vgg"), "pretrain.classifier.mnist_rot")


@dataclasses.dataclass(frozen=True)
class _Cfg:
    out: Path
    pgd: sections.AttackPgd
    grids: dict[str, tuple[float, ...]]
    names: tuple[str, ...] | None
    eps: tuple[float, ...]
    flag: bool
    maybe: int | None


@pytest.mark.parametrize("names", [None, ("a", "b c")])
def test_flags_round_trip(names):
    """format_flags (what a rule writes) is the inverse of the CLI parser, JSON settings included."""
    import shlex

    want = _Cfg(Path("x y/out.csv"), sections.AttackPgd(20, 2.5, 1), {"digits_rot": (0.01, 0.02)}, names, (0.1,), False, None)
    flags = format_flags(**{f.name: getattr(want, f.name) for f in dataclasses.fields(_Cfg)})
    got, _ = parse_config(_Cfg, shlex.split(flags))
    assert got == want


@pytest.mark.parametrize("pgd, message", [('{"steps": 1}', "required key is missing"), ("{bad", "takes JSON")])
def test_bad_json_settings_stop_with_a_clear_message(pgd, message, capsys):
    args = ["--out", "o", "--grids", "{}", "--names", "none", "--eps", "1", "--flag", "true", "--maybe", "none"]
    with pytest.raises(SystemExit) as exc:
        parse_config(_Cfg, ["--pgd", pgd, *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_code_digest_follows_lazy_imports_and_edits(tmp_path, monkeypatch):
    pkg = tmp_path / "reproflow"
    (pkg / "cli").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli" / "__init__.py").write_text("")
    (pkg / "lib.py").write_text("from reproflow import other\n")
    (pkg / "other.py").write_text("X = 1\n")
    (pkg / "unused.py").write_text("Y = 1\n")
    (pkg / "cli" / "job.py").write_text("def run():\n    from reproflow.lib import other  # lazy\n")
    monkeypatch.setattr(deps, "SRC", tmp_path)
    for fn in (deps._direct_imports, deps.module_closure, deps.code_digest, deps._file_digest):
        fn.cache_clear()
    closure = deps.module_closure("reproflow.cli.job")
    assert "reproflow.other" in closure and "reproflow.unused" not in closure
    before = deps.code_digest("reproflow.cli.job")
    deps.code_digest.cache_clear()
    deps._file_digest.cache_clear()
    (pkg / "unused.py").write_text("Y = 2\n")
    assert deps.code_digest("reproflow.cli.job") == before
    deps.code_digest.cache_clear()
    deps._file_digest.cache_clear()
    (pkg / "other.py").write_text("X = 2\n")
    assert deps.code_digest("reproflow.cli.job") != before
    for fn in (deps._direct_imports, deps.module_closure, deps.code_digest, deps._file_digest):
        fn.cache_clear()


def test_code_digest_reads_only_the_settings_classes_a_cli_imports(tmp_path, monkeypatch):
    """A key added to one params.yaml section changes the generated sections module, which every CLI imports: only
    the CLIs that import that section's class (or a class naming it) may change digest, or every job of every scale
    would re-run. A module that takes the sections module itself counts the whole file."""
    pkg = tmp_path / "reproflow"
    for sub in ("cli", "settings"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    sections = pkg / "settings" / "sections.py"

    def write_sections(extra_a: str = "", extra_b: str = "", more: str = "") -> None:
        sections.write_text(
            "from dataclasses import dataclass\n__all__ = ['A', 'B', 'Item', 'Holder'" + (", 'C'" if more else "")
            + "]\n\n@dataclass(frozen=True)\nclass A:\n    x: int\n" + extra_a
            + "\n@dataclass(frozen=True)\nclass B:\n    y: int\n" + extra_b
            + "\n@dataclass(frozen=True)\nclass Item:\n    z: int\n"
            + "\n@dataclass(frozen=True)\nclass Holder:\n    items: tuple[Item, ...]\n" + more)

    (pkg / "cli" / "uses_a.py").write_text("from reproflow.settings.sections import A\n")
    (pkg / "cli" / "uses_b.py").write_text("def run():\n    from reproflow.settings.sections import B  # lazy\n")
    (pkg / "cli" / "uses_holder.py").write_text("from reproflow.settings.sections import Holder\n")
    (pkg / "cli" / "uses_module.py").write_text("from reproflow.settings import sections\n")
    # annotations only (as settings/derived.py): the names do not exist at run time, so they count for nothing
    (pkg / "cli" / "annotates_a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                               "    from reproflow.settings.sections import A\nelse:\n"
                                               "    from reproflow.settings.sections import B\n")
    monkeypatch.setattr(deps, "SRC", tmp_path)
    clis = ["uses_a", "uses_b", "uses_holder", "uses_module", "annotates_a"]

    def digests() -> dict[str, str]:
        for fn in (deps._direct_imports, deps.module_closure, deps.code_digest, deps._file_digest,
                   deps._imported_names, deps._class_sources):
            fn.cache_clear()
        return {c: deps.cli_digest(c) for c in clis}

    write_sections()
    base = digests()
    write_sections(extra_a="    w: float\n")  # a key added to A's section
    assert {c for c, d in digests().items() if d != base[c]} == {"uses_a", "uses_module"}
    write_sections(extra_b="    w: float\n")  # ... and to B's: the else branch of TYPE_CHECKING runs
    assert {c for c, d in digests().items() if d != base[c]} == {"uses_b", "uses_module", "annotates_a"}
    write_sections(more="\n@dataclass(frozen=True)\nclass C:\n    v: int\n")  # a new section (and __all__)
    assert {c for c, d in digests().items() if d != base[c]} == {"uses_module"}
    write_sections()
    sections.write_text(sections.read_text().replace("class Item:\n    z: int", "class Item:\n    z: float"))
    assert {c for c, d in digests().items() if d != base[c]} == {"uses_holder", "uses_module"}  # via Holder's field
    write_sections()
    assert digests() == base
    for fn in (deps._direct_imports, deps.module_closure, deps.code_digest, deps._file_digest, deps._imported_names,
               deps._class_sources):
        fn.cache_clear()


CLIS = sorted(p.stem for p in (REPO / "src" / "reproflow" / "cli").glob("*.py") if not p.stem.startswith("_"))


def test_no_cli_imports_another_cli():
    for name in CLIS:
        tree = ast.parse((REPO / "src" / "reproflow" / "cli" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reproflow.cli."):
                assert node.module == "reproflow.cli._base", f"cli/{name}.py imports {node.module}"


@pytest.mark.parametrize("name", CLIS)
def test_every_cli_runs_alone(name, capsys):
    """`python -m reproflow.cli.<rule> --help` works for every rule's CLI (in-process: one torch import)."""
    import importlib

    mod = importlib.import_module(f"reproflow.cli.{name}")
    with pytest.raises(SystemExit) as exc:
        mod.main(["--help"])
    assert exc.value.code == 0
    assert "--log" in capsys.readouterr().out


def test_editor_and_judge_seeds_are_never_an_attacked_seed_pair():
    """The learned editor trains at max(seeds) + 1: its label classifier is no attacked classifier and no judge;
    each seed's judge is another attacked seed (cyclic)."""
    from reproflow.errors import UserError
    from reproflow.settings import derived

    for seeds in ([0, 1, 2, 3, 4], [3, 1, 7], [0]):
        e = derived.editor_seed(seeds)
        assert e not in seeds and e == max(seeds) + 1
        judges = [derived.judge_seed(seeds, s) for s in seeds]
        assert e not in judges and sorted(judges) == sorted(seeds)
        if len(seeds) > 1:
            assert all(j != s for j, s in zip(judges, seeds))
    with pytest.raises(UserError):
        derived.editor_seed([])
