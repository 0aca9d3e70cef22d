"""SLURM runtime and mem_mb per job of the heavy rules, scaled from measured smoke costs to the paper sizes.

The method (docs/cluster.md, section 2, "Resources from measured costs"): every heavy job's CPU-seconds are
start-up plus work, ``cpu = STARTUP_CPU_S + rate * units``, where ``units`` is a size count read from a scale's
configuration (images x epochs x inner steps for the SPA rules, the stacked cell's multiply-adds for a depth
cell; :func:`units`). The smoke scale runs every paper dataset, architecture, defence and Fig. 7 panel with
only sizes cut, so each job kind has a measured smoke job (``benchmarks/job_costs.tsv``, written by
``benchmark_table.py --jobs``). ``rate`` is its ``(cpu_time - STARTUP_CPU_S) / units``, at least
``MIN_WORK_FRACTION`` of its CPU-s (a smoke job that is nearly all start-up gives no rate of its own); where
the cpu scale ran the same architecture (LeNet-5, ``rule_costs.tsv``'s ``cpu_max`` over the cpu scale's
largest job), the larger rate of the two is taken. The paper job then needs ``STARTUP_CPU_S + rate *
units(paper)`` CPU-seconds of one core at one torch thread.

Runtime requested (minutes) = ``SAFETY`` x that / ``GPU_SPEEDUP`` (the paper scale runs these rules on a GPU;
the speed-up of a GPU over one CPU core is ASSUMED until benchmarks/gpu_check.sh has run on one), plus
``FLOOR_MIN`` for the job's start-up and I/O, at most ``MAX_RUNTIME_MIN``. mem_mb = ``SAFETY_MEM`` x (the smoke
job's max RSS + the paper splits it reads held as float32 - the smoke ones), rounded up to 1000 MB.

The result is written into the SLURM profile's ``set-resources`` between ``# slurm_resources:BEGIN`` and
``# slurm_resources:END`` as Snakemake resource expressions over the job's wildcards:

    .venv/bin/python workflow/scripts/slurm_resources.py            # rewrite the block
    .venv/bin/python workflow/scripts/slurm_resources.py --check    # exit 1 if the profile is out of date

Rules not listed here keep the runtime and mem_mb their rules files declare (the bookkeeping rules write no
benchmark file; the mean-field Monte Carlo and training-speed rules are not yet modelled).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "workflow" / "profiles" / "slurm" / "config.yaml"
JOB_COSTS = ROOT / "benchmarks" / "job_costs.tsv"
RULE_COSTS = ROOT / "benchmarks" / "rule_costs.tsv"
BEGIN, END = "  # slurm_resources:BEGIN", "  # slurm_resources:END"

# the method's stated constants
STARTUP_CPU_S = 3.0       # CPU-s of a job that does no work (imports, reading its inputs): docs/cluster.md section 5
MIN_WORK_FRACTION = 0.25  # a job's work is taken as at least this share of its measured CPU-s
SAFETY = 3.0              # runtime requested = 3 x the estimate (the estimate's model and the GPU speed-up are rough)
SAFETY_MEM = 1.5          # mem_mb requested = 1.5 x the estimate
# ASSUMED until benchmarks/gpu_check.sh runs on a GPU: one GPU does the work of this many CPU cores at one torch
# thread, the ratio of docs/cluster.md section 4's assumed sustained GPU rate (67 TFLOP/s peak x 0.4) to the
# depth-sweep trainer's measured CPU rate (41 GFLOP/s per CPU-second); about 650
GPU_SPEEDUP = 67e12 * 0.4 / 41e9
FLOOR_MIN = 10            # minutes added to every runtime: scheduling, start-up, checkpoint and output writes
MAX_RUNTIME_MIN = 2880    # cap (48 h, a common partition limit: sbatch rejects a longer request); a job cut there
                          # checkpoints on SIGTERM and its retry (profile: retries) resumes

# the published datasets' split sizes (torchvision's; CelebA's partitions 0 and 2) and image shapes
TRAIN_N = {"mnist": 60000, "mnist_rot": 60000, "fashion_mnist_rot": 60000, "cifar10": 50000, "cifar10_rot": 50000,
           "celeba": 162770}
TEST_N = {"mnist": 10000, "mnist_rot": 10000, "fashion_mnist_rot": 10000, "cifar10": 10000, "cifar10_rot": 10000,
          "celeba": 19962}
# classes of each dataset's task (CelebA: Male or not); AutoAttack's targeted sub-attacks take min(9, classes - 1)
# targets and the DLR-loss ones (APGD-DLR, APGD-T) need 4 classes (reproflow.attacks.autoattack)
CLASSES = {"mnist": 10, "mnist_rot": 10, "fashion_mnist_rot": 10, "cifar10": 10, "cifar10_rot": 10, "celeba": 2}
PIXELS = {"mnist": 784, "mnist_rot": 784, "fashion_mnist_rot": 784, "cifar10": 3072, "cifar10_rot": 3072,
          "celeba": 3 * 64 * 64}
# a cpu-scale dataset measured with the same architecture as a paper dataset (config/cpu.yaml: LeNet-5)
CPU_ANALOGUE = {"fashion_mnist_rot": "fashion_mnist_rot", "mnist_rot": "fashion_mnist_rot"}


def _n(limit: int | None, full: int) -> int:
    return full if not limit else min(int(limit), full)


def _fixture_n(cfg: dict[str, Any], split: str) -> int:
    """Images per split of a scale (0 = the published size)."""
    return int(cfg["data"][f"max_{split}"] or 0)


def sizes(cfg: dict[str, Any], dataset: str) -> dict[str, int]:
    """Images a scale's jobs see for ``dataset``: data-phase splits, the editors' / generators' and the
    defences' training subsets, and the attacked test images."""
    train = _n(_fixture_n(cfg, "train"), TRAIN_N[dataset])
    test = _n(_fixture_n(cfg, "test"), TEST_N[dataset])
    adv_samples = cfg["advtrain"]["max_samples"]
    return {
        "train": train, "test": test,
        "pretrain": _n(cfg["pretrain"]["max_train"], train),
        "advtrain": _n(cfg["advtrain"]["max_train"], train),
        "attacked": _n(cfg["attack"]["max_samples"], test),
        "defended": _n(cfg["attack"]["max_samples"] if adv_samples is None else adv_samples, test),
    }


def attack_iterations(cfg: dict[str, Any], attacks: list[str], classes: int) -> float:
    """Gradient (or forward) passes per attacked image and eps of ``attacks``, a work model: PGD-like
    attacks their steps x restarts, AutoAttack's APGD sub-attacks ``attack.autoattack.apgd_iterations`` (FAB's
    fixed 100; APGD-T and FAB-T x min(9, classes - 1) targets, APGD-DLR and APGD-T dropped under 4 classes as
    reproflow.attacks.autoattack drops them, Square's queries as a third of a pass each), the attribute scan its grid,
    the generator its recursion steps, SPA its steps x restarts after the grid scan."""
    a = cfg["attack"]
    aa = a["autoattack"]
    it = aa["apgd_iterations"]
    targets, dlr = min(9, classes - 1), classes >= 4
    per_sub = {"apgd-ce": it, "apgd-dlr": it * dlr, "apgd-t": targets * it * dlr, "fab": 100, "fab-t": 100 * targets,
               "square": 5000 / 3}
    subs = ["apgd-ce", "apgd-t", "fab-t", "square"] if aa["version"] == "standard" else aa["sub_attacks"]
    gen_steps = max(int(g.get("steps", 1)) for g in cfg["pretrain"]["generator"].values())
    cost = {
        "fgsm": 1, "pgd": a["pgd"]["steps"] * a["pgd"]["restarts"], "autoattack": sum(per_sub[s] for s in subs),
        "attribute": a["attribute"]["grid_size"], "generator": gen_steps,
        "spa": a["attribute"]["grid_size"] + a["spa"]["steps"] * a["spa"]["restarts"],
        "joint_pgd": a["joint_pgd"]["steps"] * a["joint_pgd"]["restarts"],
        "joint_apgd": a["joint_apgd"]["steps"] * a["joint_apgd"]["restarts"],
        "recon_pgd": 1 + a["pgd"]["steps"] * a["pgd"]["restarts"],
        "grid_pgd": a["attribute"]["grid_size"] * a["pgd"]["steps"],
    }
    total = float(sum(cost.get(name, 1) for name in attacks))
    if a.get("crosscheck"):
        total += per_sub["apgd-ce"]
    return total


def defence_passes(cfg: dict[str, Any], defence: str) -> float:
    """Forward-backward passes per training image and adversarial epoch of ``defence`` (a work model)."""
    adv = cfg["advtrain"]
    spa = adv["spa_at"]
    return float({
        "standard": 1, "pgd_at": 1 + adv["pgd_at"]["steps"], "trades": 2 + adv["trades"]["steps"],
        "attribute_augmentation": 2,
        "spa_at": 3 + spa["grid_size"] + spa["steps"] * spa["restarts"],
        "worst_of_k": 1 + adv["worst_of_k"]["k"] + adv["worst_of_k"]["steps"],
    }[defence])


def units(cfg: dict[str, Any], rule: str, key: dict[str, str]) -> float:
    """Work units of one job of ``rule`` (``key``: its wildcards) at the scale ``cfg`` describes."""
    if rule in ("train_depth_cell", "retrain_depth_cell"):
        panel = {p["name"]: p for p in cfg["depth_sweep"]["panels"]}[key["panel"]]
        nets = len(panel["sw2_grid"]) * len(cfg["depth_sweep"]["seeds"])
        return float(nets * panel["batch"] * cfg["depth_sweep"]["width"] ** 2 * int(key["depth"]) * panel["steps"])
    d = key["dataset"]
    n = sizes(cfg, d)
    pre = cfg["pretrain"]
    eps = len(cfg["attack"]["eps_grid"][d])
    if rule == "train_classifier":
        return float(n["train"] * pre["classifier"][d]["epochs"] + n["test"])
    if rule == "train_manipulator":
        return float(n["pretrain"] * pre["manipulator"][d]["epochs"])
    if rule == "train_generator":
        g = pre["generator"][d]
        return float(n["pretrain"] * g["epochs"] * (1 + g["steps"]))
    if rule == "train_defence":
        t = cfg["advtrain"]["training"][d]
        adv_epochs = t["epochs"] - t["warmup_epochs"]
        return n["advtrain"] * (t["warmup_epochs"] + adv_epochs * defence_passes(cfg, key["defence"])) + n["test"] * t["epochs"]
    if rule == "evaluate_attacks":
        return n["attacked"] * eps * attack_iterations(cfg, cfg["attack"]["attacks"], CLASSES[d])
    if rule == "evaluate_defence":
        attacks = cfg["advtrain"]["attacks"] or cfg["attack"]["attacks"]
        ev_eps = eps if cfg["advtrain"]["eps"] == "grid" else 1
        refit = cfg["advtrain"]["refit"]["batches"] * cfg["advtrain"]["refit"]["batch_size"]
        return len(cfg["advtrain"]["defences"]) * (n["defended"] * ev_eps * attack_iterations(cfg, attacks, CLASSES[d]) + refit)
    raise KeyError(rule)


def held_mb(cfg: dict[str, Any], dataset: str, splits: tuple[str, ...] = ("train", "test")) -> float:
    """MB of a dataset's images (and originals, on the rotated sets) as float32 (reproflow.data.store loads a split whole and converts
    it): what a job that reads ``splits`` holds at once."""
    n = sizes(cfg, dataset)
    copies = 2 if dataset.endswith("_rot") else 1  # the rotated sets keep the unrotated originals beside the images
    return sum(n[s] for s in splits) * PIXELS[dataset] * 4 * copies / 1e6


# the splits a job of each rule reads (the attack phase reads only the test split)
SPLITS = {"evaluate_attacks": ("test",)}


# rule -> the wildcards that key its paper jobs (a depth cell's runtime is a formula in its depth)
MODELLED = {
    "train_classifier": ("dataset",), "train_manipulator": ("dataset",), "train_generator": ("dataset",),
    "train_defence": ("dataset", "defence"), "evaluate_attacks": ("dataset",), "evaluate_defence": ("dataset",),
    "train_depth_cell": ("panel",),
}


def parse_job(rule: str, job: str) -> dict[str, str]:
    """A benchmark file's path under its rule's folder -> the job's wildcards (the rules' ``benchmark:``
    paths: ``<dataset>[/<defence>]/seed~<s>.tsv``, a depth cell's ``<panel>/<depth>.tsv``)."""
    parts = job.removesuffix(".tsv").split("/")
    if parts[0] == rule:
        parts = parts[1:]
    if rule in ("train_depth_cell", "retrain_depth_cell"):
        return {"panel": parts[0], "depth": parts[1]}
    wc = {"dataset": parts[0]}
    if rule == "train_defence" and len(parts) == 3:
        wc["defence"] = parts[1]
    return wc


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _rate(cpu_s: float, work_units: float) -> float:
    return max(cpu_s - STARTUP_CPU_S, MIN_WORK_FRACTION * cpu_s) / work_units


def cpu_scale_rate(rule: str, row: dict[str, str], cpu: dict[str, Any]) -> tuple[float, float] | None:
    """(CPU-s per unit, units) of the cpu scale's largest job of ``rule`` (rule_costs.tsv's ``cpu_max``), for the
    rules whose cpu-scale jobs have the paper's structure: a depth cell (the same trainer at every width), and the
    per-dataset SPA jobs on the cpu scale's LeNet-5 (train_defence is per seed there, every defence in one job)."""
    if rule == "train_depth_cell":
        work = max(units(cpu, rule, {"panel": p["name"], "depth": str(max(p["depth_grid"]))})
                   for p in cpu["depth_sweep"]["panels"])
    elif rule in ("train_classifier", "train_manipulator", "train_generator", "evaluate_attacks", "evaluate_defence"):
        work = max(units(cpu, rule, {"dataset": d}) for d in cpu["pretrain"]["datasets"])
    else:
        return None
    return _rate(float(row["cpu_max"]), work), work


def rates(jobs: list[dict[str, str]], rule_rows: list[dict[str, str]], smoke: dict[str, Any],
          cpu: dict[str, Any] | None) -> dict[tuple[str, str], tuple[float, float]]:
    """(rule, key) -> (CPU-s per unit, max RSS MB). The rate is the one measured on the most work: the smoke job's,
    or the cpu scale's largest job's where that ran the same architecture (CPU_ANALOGUE; any depth cell) and did
    more work; a smoke job measured twice keeps its larger rate."""
    best: dict[tuple[str, str], tuple[float, float, float]] = {}  # (rate, units, rss)
    for row in jobs:
        rule = row["rule"]
        if row["scale"] != "smoke" or rule not in MODELLED:
            continue
        wc = parse_job(rule, row["job"])
        key = "/".join(wc[k] for k in MODELLED[rule])
        work = units(smoke, rule, wc)
        rate, rss = _rate(float(row["cpu_time"]), work), float(row["max_rss"])
        old = best.get((rule, key), (0.0, 0.0, 0.0))
        best[(rule, key)] = (max(old[0], rate), work, max(old[2], rss))
    for row in rule_rows if cpu is not None else []:
        measured = cpu_scale_rate(row["rule"], row, cpu) if row["scale"] == "cpu" and row["rule"] in MODELLED else None
        if measured is None:
            continue
        for (rule, key), (rate, work, rss) in list(best.items()):
            same_arch = rule == "train_depth_cell" or CPU_ANALOGUE.get(key) in cpu["pretrain"]["datasets"]
            if rule == row["rule"] and same_arch and measured[1] > work:
                best[(rule, key)] = (measured[0], measured[1], rss)
    return {k: (rate, rss) for k, (rate, _work, rss) in best.items()}


def paper_resources(paper: dict[str, Any], smoke: dict[str, Any],
                    measured: dict[tuple[str, str], tuple[float, float]]) -> dict[str, dict[str, Any]]:
    """rule -> {'runtime': {key: minutes}, 'mem_mb': {key: MB}, 'estimate_h': {key: GPU-hours before the safety
    factor}} at the paper scale (a depth cell's 'runtime': {panel: minutes per unit of depth, before the floor})."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"runtime": {}, "mem_mb": {}, "estimate_h": {}})
    for (rule, key), (rate, rss) in sorted(measured.items()):
        if rule == "train_depth_cell":
            continue
        wc = dict(zip(MODELLED[rule], key.split("/"), strict=True))
        cpu_s = STARTUP_CPU_S + rate * units(paper, rule, wc)
        out[rule]["runtime"][key] = min(MAX_RUNTIME_MIN, FLOOR_MIN + math.ceil(SAFETY * cpu_s / GPU_SPEEDUP / 60))
        out[rule]["estimate_h"][key] = cpu_s / GPU_SPEEDUP / 3600
        d = wc["dataset"]
        splits = SPLITS.get(rule, ("train", "test"))
        out[rule]["mem_mb"][key] = _mb(SAFETY_MEM * (rss + held_mb(paper, d, splits) - held_mb(smoke, d, splits)))
    if "train_defence" in out:  # a per-seed job (advtrain.train_jobs: per_seed) trains its dataset's defences in turn
        defences = out["train_defence"]
        for d in sorted({k.split("/")[0] for k in defences["runtime"]}):
            mine = [k for k in defences["runtime"] if k.startswith(f"{d}/")]
            defences["estimate_h"][f"{d}/*"] = sum(defences["estimate_h"][k] for k in mine)
            defences["runtime"][f"{d}/*"] = min(MAX_RUNTIME_MIN, sum(defences["runtime"][k] for k in mine))
            defences["mem_mb"][f"{d}/*"] = max(defences["mem_mb"][k] for k in mine)
    cells = [(rate, rss) for (rule, _key), (rate, rss) in measured.items() if rule == "train_depth_cell"]
    if cells:  # one trainer: the best-measured rate and the largest RSS serve every paper panel
        rate, rss = max(c[0] for c in cells), max(c[1] for c in cells)
        for panel in paper["depth_sweep"]["panels"]:
            per_depth = units(paper, "train_depth_cell", {"panel": panel["name"], "depth": "1"}) * rate
            out["train_depth_cell"]["runtime"][panel["name"]] = SAFETY * per_depth / GPU_SPEEDUP / 60  # minutes per layer
            deepest = units(paper, "train_depth_cell", {"panel": panel["name"], "depth": str(max(panel["depth_grid"]))})
            out["train_depth_cell"]["estimate_h"][panel["name"]] = (STARTUP_CPU_S + rate * deepest) / GPU_SPEEDUP / 3600
            # host memory: the job's RSS and its training images (the stacked networks live on the GPU)
            out["train_depth_cell"]["mem_mb"][panel["name"]] = _mb(
                SAFETY_MEM * (rss + held_mb(paper, panel["dataset"], ("train",))))
    return dict(out)


def _mb(x: float) -> int:
    return int(max(2000, 1000 * math.ceil(x / 1000)))


def _lookup(table: dict[str, int], key_expr: str) -> str:
    """A resource expression: the job's value from ``table``, the largest value for a key not in it."""
    return f"{_dict_expr(table)}.get({key_expr}, {max(table.values())})"


def _dict_expr(table: dict[str, Any]) -> str:
    """``dict([(k, v), ...])``: Snakemake reads a runtime value through a time-span parser first, which fails on a
    ``{'k': v}`` literal with a KeyError instead of passing the expression on."""
    return f"dict([{', '.join(f'({k!r}, {v})' for k, v in sorted(table.items()))}])"


def render(resources: dict[str, dict[str, Any]]) -> str:
    """The generated set-resources block (YAML, indented under ``set-resources:``)."""
    lines = [BEGIN,
             "  # runtime (min) and mem_mb per job from measured smoke/cpu costs scaled to the paper sizes by",
             f"  # workflow/scripts/slurm_resources.py (safety x{SAFETY:g} on runtime, x{SAFETY_MEM:g} on memory, an ASSUMED",
             f"  # GPU speed-up of {GPU_SPEEDUP:.0f} CPU cores, +{FLOOR_MIN} min, at most {MAX_RUNTIME_MIN} min); docs/cluster.md section 2.",
             "  # Do not edit by hand:",
             "  # re-run the script (its --check is tested)."]
    for rule in sorted([*MODELLED, "retrain_depth_cell"]):
        source = "train_depth_cell" if rule == "retrain_depth_cell" else rule
        res = resources.get(source)
        note = "  # the platform check re-trains a cell as train_depth_cell does" if rule != source else ""
        if not res:
            lines += [f"  {rule}:  # no smoke job measured yet: the rules file's runtime and mem_mb", "    <<: *gpu"]
            continue
        key_expr = " + '/' + ".join(f"wildcards.{k}" for k in MODELLED[source])
        if source == "train_defence":  # advtrain.train_jobs per_seed (the CPU scales): no defence wildcard, key '<dataset>/*'
            key_expr = "wildcards.dataset + '/' + wildcards.get('defence', '*')"
        if source == "train_depth_cell":
            coef = {k: round(v, 6) for k, v in res["runtime"].items()}
            runtime = (f"min({MAX_RUNTIME_MIN}, {FLOOR_MIN} + 1 + int({_dict_expr(coef)}"
                       f".get(wildcards.panel, {max(coef.values())}) * int(wildcards.depth)))")
        else:
            runtime = _lookup(res["runtime"], key_expr)
        lines += [f"  {rule}:{note}", "    <<: *gpu", f'    runtime: "{runtime}"', f'    mem_mb: "{_lookup(res["mem_mb"], key_expr)}"']
    lines.append(END)
    return "\n".join(lines) + "\n"


def generate(job_costs: Path = JOB_COSTS, rule_costs: Path = RULE_COSTS) -> str:
    """The profile text with the block regenerated from benchmarks/{job,rule}_costs.tsv and the configs."""
    sys.path.insert(0, str(ROOT / "src"))
    from reproflow.config import load_config

    paper = load_config(ROOT / "params.yaml")
    smoke = load_config(ROOT / "params.yaml", ROOT / "config" / "smoke.yaml")
    cpu = load_config(ROOT / "params.yaml", ROOT / "config" / "cpu.yaml")
    measured = rates(read_tsv(job_costs), read_tsv(rule_costs), smoke, cpu)
    resources = paper_resources(paper, smoke, measured)
    for rule in sorted(resources):
        for key, hours in sorted(resources[rule]["estimate_h"].items()):
            request = resources[rule]["runtime"][key]
            request = f"{request:.3f} min/layer" if rule == "train_depth_cell" else f"{request} min"
            print(f"  {rule:<18} {key:<32} estimate {hours:8.2f} GPU-h  request {request:>5}"
                  f"  {resources[rule]['mem_mb'][key]:>6} MB")
    block = render(resources)
    text = PROFILE.read_text()
    head, sep, rest = text.partition(BEGIN + "\n")
    if not sep:
        raise SystemExit(f"[slurm_resources] {PROFILE} has no '{BEGIN.strip()}' line under set-resources")
    _, sep, tail = rest.partition(END + "\n")
    if not sep:
        raise SystemExit(f"[slurm_resources] {PROFILE} has no '{END.strip()}' line")
    return head + block + tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the profile's block differs from the script's")
    ap.add_argument("--job-costs", type=Path, default=JOB_COSTS, help="per-job smoke costs (benchmark_table.py --jobs)")
    ap.add_argument("--rule-costs", type=Path, default=RULE_COSTS, help="per-rule costs (benchmark_table.py --out)")
    args = ap.parse_args(argv)
    new = generate(args.job_costs, args.rule_costs)
    if args.check:
        if new != PROFILE.read_text():
            print(f"[slurm_resources] {PROFILE} is out of date with benchmarks/*_costs.tsv: run "
                  "workflow/scripts/slurm_resources.py", file=sys.stderr)
            return 1
        print("[slurm_resources] profile in sync")
        return 0
    PROFILE.write_text(new)
    print(f"[slurm_resources] wrote {PROFILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
