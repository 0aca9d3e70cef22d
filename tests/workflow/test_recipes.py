"""docs/recipes.md, followed to the letter in a copy of the repository: a dummy attack and a dummy defence, each
with its own params.yaml section, are added exactly as the recipes say; the generators, a dry run at the tiny scale
and the newcomer's own unit tests then pass, and the hand-edited files are as many as the recipe states.

The edits anchor on declarations (an enum's members, a dict's opening line, a schema's ``required`` list), not on
neighbouring entries, so the test follows the files as they grow; an anchor that disappears fails with its name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPES = (REPO / "docs" / "recipes.md").read_text()
# written by the generators, never by hand
GENERATED = {"src/reproflow/settings/sections.py", "dvc.yaml"}

DUMMY_ATTACK = '''"""A scaffold attack (tests/workflow/test_recipes.py): ``steps`` signed-gradient steps of eps / steps, projected
onto the l_inf ball (iterated FGSM, Kurakin, Goodfellow, Bengio, ICLR 2017 workshop)."""

from __future__ import annotations

from typing import Any

import torch

from reproflow.attacks.base import Attack, AttackResult, project


class DummyAttack(Attack):
    name = "dummy_attack"

    def __init__(self, classifier: torch.nn.Module, eps: float, *, steps: int, **base: Any):
        super().__init__(classifier, eps, **base)
        self.steps = int(steps)

    def _run(self, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor | None, keys: torch.Tensor) -> AttackResult:
        best = self._start_worst_case(x, y, None)
        x_adv = x
        for _ in range(self.steps):
            grad, _, _ = self._input_grad(x_adv, y)
            x_adv = project(x, x_adv + self.eps / self.steps * grad.sign(), self.eps)
        with torch.no_grad():
            loss, logits = self._loss(x_adv, y)
        best.update(x_adv, x, None, loss, logits, y)
        return best.result()
'''

DUMMY_DEFENCE = '''"""A scaffold defence (tests/workflow/test_recipes.py): cross-entropy on images with uniform noise of
``noise`` x eps per pixel (per-sample seeded)."""

from __future__ import annotations

import torch
from torch import nn

from reproflow.defences.base import Defence, StepOutput, acc, ce
from reproflow.seeding import derive_seed


class DummyDefence(Defence):
    name = "dummy_defence"

    def __init__(self, eps: float, *, noise: float, seed: int = 0) -> None:
        super().__init__(eps, seed=seed)
        self.noise = float(noise)

    def step(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor, keys: torch.Tensor) -> StepOutput:
        u = torch.stack([torch.rand(x.shape[1:], generator=torch.Generator().manual_seed(derive_seed(self.seed, "dummy",
                                                                                                    int(k))))
                         for k in keys.tolist()]).to(x)
        loss, logits = ce(model, (x + self.noise * self.eps * (2 * u - 1)).clamp(0.0, 1.0), y)
        return StepOutput(loss, {"adv_accuracy": acc(logits, y)})
'''

SCHEMA_SECTION = """  {name}:
    type: object{group}
    additionalProperties: false
    required: [{key}]
    properties:
      {key}: {spec}
"""


def _stated(recipe: str) -> int:
    """The recipe's file count for an addition with its own params.yaml section."""
    body = RECIPES.split(f"## {recipe}\n", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"Files touched: \*\*(\d+)\*\* for an? \w+ with its own params\.yaml section", body)
    assert m, f"docs/recipes.md '{recipe}' states no file count"
    return int(m.group(1))


class Copy:
    def __init__(self, root: Path) -> None:
        self.root = root

    def edit(self, rel: str, pattern: str, insert: str, *, before: bool = False) -> None:
        """Insert ``insert`` right after (or before) the first match of the regex ``pattern`` in ``rel``."""
        path = self.root / rel
        text = path.read_text()
        m = re.search(pattern, text, re.M | re.S)
        assert m, f"{rel}: anchor {pattern!r} not found (the recipe's place moved?)"
        at = m.start() if before else m.end()
        path.write_text(text[:at] + insert + text[at:])

    def add(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text)

    def run(self, *args: str, timeout: int = 300) -> str:
        env = dict(os.environ, PYTHONPATH=str(self.root / "src"), XDG_CACHE_HOME=str(self.root / ".cache"),
                   DVC_NO_ANALYTICS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        res = subprocess.run(list(args), cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)
        out = res.stdout + res.stderr
        assert res.returncode == 0, f"{' '.join(args)} failed:\n{out[-4000:]}"
        return out

    def git(self, *args: str) -> str:
        return self.run("git", "-c", "user.name=scaffold", "-c", "user.email=scaffold@example.org", "-c", "commit.gpgsign=false",
                        *args)

    def changed(self) -> set[str]:
        """Files the change edited or added by hand (against the last commit of the copy)."""
        lines = self.git("status", "--porcelain", "--untracked-files=all").splitlines()
        return {line[3:] for line in lines if not line[3:].startswith(".cache/")} - GENERATED

    def regenerate_and_dry_run(self) -> None:
        self.run(sys.executable, "workflow/scripts/gen_settings.py")
        self.run(sys.executable, "workflow/scripts/gen_dvc.py")
        self.run(sys.executable, "-m", "snakemake", "all", "-n", "--nolock", "--quiet", "rules",
                 "--configfile", "config/tiny.yaml")


def _copy_of_the_repository(tmp_path: Path) -> Copy:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    root = tmp_path / "repo"
    for rel in filter(None, files.split("\0")):
        src = REPO / rel
        if src.is_file():  # a tracked file deleted in the working tree is not copied
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / rel)
    copy = Copy(root)
    copy.git("init", "-q")
    copy.git("add", "-A")
    copy.git("commit", "-qm", "copy")
    return copy


def _listed_with_section(c: Copy, phase: str, listed: str, name: str, key: str, value: object, spec: str,
                         comment: str, group: str | None = None) -> None:
    """Step 4 of both recipes: ``name`` in params.yaml's ``<phase>.<listed>``, its section ``{key: value}`` with a
    comment, and the section in the phase's schema (properties and ``required``; ``x-group: <group>`` if given)."""
    c.edit("params.yaml", rf"^{phase}:\n(?:.*?\n)*?  {listed}: \[[^\]]*", f", {name}")
    c.edit("params.yaml", rf"^{phase}:\n(?:.*?\n)*?  {listed}: .*?\n", f"  {name}: {{{key}: {value}}}  # {comment}\n")
    schema = f"workflow/schemas/{phase}.schema.yaml"
    c.edit(schema, r"^required: \[", f"{name}, ")
    c.edit(schema, r"^properties:\n", SCHEMA_SECTION.format(name=name, key=key, spec=spec,
                                                            group=f"\n    x-group: {group}" if group else ""))


def _add_attack(c: Copy) -> None:
    """docs/recipes.md, "Add an attack", steps 1-5, for an attack with a params.yaml section."""
    c.add("src/reproflow/attacks/dummy_attack.py", DUMMY_ATTACK)  # 1
    c.edit("src/reproflow/vocab.py", r"^ATTACKS: tuple\[AttackSpec, \.\.\.\] = \(.*?(?=^\)$)",  # 2
           '    AttackSpec("dummy_attack", "C9", settings="dummy_attack"),\n')
    reg = "src/reproflow/attacks/registry.py"  # 3
    c.edit(reg, r"^from reproflow\.attacks\.base import Attack\n", "from reproflow.attacks.dummy_attack import DummyAttack\n")
    c.edit(reg, r"^class AttackName\(str, enum\.Enum\):\n(?:.*?\n)*?(?:    [A-Z_]+ = \"\w+\"\n)+", '    DUMMY_ATTACK = "dummy_attack"\n')
    c.edit(reg, r"^ATTACKS: dict\[AttackName, type\[Attack\]\] = \{\n", "    AttackName.DUMMY_ATTACK: DummyAttack,\n")
    _listed_with_section(c, "attack", "attacks", "dummy_attack", "steps", 2, "{type: integer, minimum: 1}",  # 4
                         "the scaffold attack: signed-gradient steps of eps / steps", group="suite")
    c.edit("tests/unit/test_attacks.py", r"^SETTINGS = \{\n", '    AttackName.DUMMY_ATTACK: {"steps": 2},\n')  # 5


def _add_defence(c: Copy) -> None:
    """docs/recipes.md, "Add a defence", steps 1-6, for a defence with a params.yaml section."""
    c.add("src/reproflow/defences/dummy_defence.py", DUMMY_DEFENCE)  # 1
    c.edit("src/reproflow/vocab.py", r"^DEFENCES: tuple\[DefenceSpec, \.\.\.\] = \(.*?(?=^\)$)",  # 2
           '    DefenceSpec("dummy_defence", settings=True),\n')
    c.edit("src/reproflow/defences/base.py",  # 3
           r"^class DefenceName\(str, enum\.Enum\):\n(?:.*?\n)*?(?:    [A-Z_]+ = \"\w+\"\n)+", '    DUMMY_DEFENCE = "dummy_defence"\n')
    reg = "src/reproflow/defences/registry.py"
    c.edit(reg, r"^from reproflow\.defences\.base import", "from reproflow.defences.dummy_defence import DummyDefence\n",
           before=True)
    c.edit(reg, r"^from reproflow\.settings\.sections import ", "AdvtrainDummyDefence, ")
    c.edit(reg, r"^SETTINGS: dict\[DefenceName, type\[", "AdvtrainDummyDefence | ")
    c.edit(reg, r"^SETTINGS: dict\[DefenceName, .*?\n", "    DefenceName.DUMMY_DEFENCE: AdvtrainDummyDefence,\n")
    c.edit(reg, r"^DEFENCES: dict\[DefenceName, type\[Defence\]\] = \{\n", "    DefenceName.DUMMY_DEFENCE: DummyDefence,\n")
    _listed_with_section(c, "advtrain", "defences", "dummy_defence", "noise", 0.5, "{type: number, minimum: 0}",  # 4
                         "the scaffold defence: uniform pixel noise of noise x eps")
    c.edit("tests/unit/test_defences.py", r"^SETTINGS = \{\n", '    DefenceName.DUMMY_DEFENCE: {"noise": 0.5},\n')  # 5
    cli = "src/reproflow/cli/train_defence.py"  # 6
    c.edit(cli, r"^from reproflow\.settings\.sections import \(\n", "    AdvtrainDummyDefence,\n")
    c.edit(cli, r"^    worst_of_k: AdvtrainWorstOfK \| None\n", "    dummy_defence: AdvtrainDummyDefence | None\n")


# (recipe, what follows it, the newcomer's name, its unit-test file), applied one after the other in one copy
RECIPE_RUNS = (("Add an attack", _add_attack, "dummy_attack", "test_attacks.py"),
               ("Add a defence", _add_defence, "dummy_defence", "test_defences.py"))


def test_the_recipes_add_an_attack_and_a_defence_with_the_stated_file_counts(tmp_path):
    c = _copy_of_the_repository(tmp_path)
    for recipe, add, name, unit_tests in RECIPE_RUNS:
        add(c)
        c.regenerate_and_dry_run()
        # its own unit tests (the parametrised ones pick it up) and the vocabulary's agreement checks
        c.run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", f"{name} or test_vocab",
              f"tests/unit/{unit_tests}", "tests/unit/test_vocab.py")
        files = c.changed()
        assert len(files) == _stated(recipe), (recipe, sorted(files))
        c.git("add", "-A")
        c.git("commit", "-qm", name)
