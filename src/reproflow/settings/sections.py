"""Typed settings, one dataclass per params.yaml (sub)section: GENERATED from workflow/schemas/ by
workflow/scripts/gen_settings.py. Do not edit; edit the schema and re-run the generator.

Build them from plain config values with :func:`reproflow.settings.load`.
"""

# ruff: noqa: E501
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ['Advtrain', 'AdvtrainEvaluation', 'AdvtrainFit', 'AdvtrainPgdAt', 'AdvtrainPlateau', 'AdvtrainRefit', 'AdvtrainRoster', 'AdvtrainSeeds', 'AdvtrainSpaAt', 'AdvtrainT2', 'AdvtrainT2Primary', 'AdvtrainTrades', 'AdvtrainTraining', 'AdvtrainWorstOfK', 'Attack', 'AttackAblation', 'AttackAttribute', 'AttackAutoattack', 'AttackCollect', 'AttackEps', 'AttackEvaluation', 'AttackExamples', 'AttackGate', 'AttackJointApgd', 'AttackJointPgd', 'AttackPgd', 'AttackSelection', 'AttackSpa', 'AttackSuite', 'AttackT1', 'Data', 'DataPrepare', 'DataRotationDeg', 'DataSamples', 'DepthSweep', 'DepthSweepCell', 'DepthSweepFit', 'DepthSweepPanelsItem', 'DepthSweepPanelsItemCell', 'DepthSweepPlatformCheck', 'DepthSweepPlatformCheckCellsItem', 'DepthSweepSpeed', 'DepthSweepSpeedJob', 'DepthSweepSpeedSettingsItem', 'Figures', 'Meanfield', 'MeanfieldCaptionsItem', 'MeanfieldForward', 'MeanfieldForwardSettingsItem', 'MeanfieldGradients', 'MeanfieldGradientsMeasure', 'MeanfieldGradientsRates', 'MeanfieldGradientsRunsItem', 'MeanfieldGradientsUniversality', 'MeanfieldSeeding', 'MeanfieldTheory', 'Pretrain', 'PretrainClassifier', 'PretrainEvaluation', 'PretrainGenerator', 'PretrainGrid', 'PretrainManipulator', 'PretrainSeeds', 'PretrainSgd', 'PretrainSubset', 'PretrainSweep', 'Report', 'Section']


@dataclass(frozen=True)
class DataRotationDeg:
    """Settings at data.rotation_deg."""

    digits_rot: float
    mnist_rot: float
    fashion_mnist_rot: float
    cifar10_rot: float


@dataclass(frozen=True)
class Data:
    """Settings at data."""

    datasets: tuple[Literal['digits', 'digits_rot', 'mnist', 'mnist_rot', 'fashion_mnist', 'fashion_mnist_rot', 'cifar10', 'cifar10_rot', 'celeba'], ...]
    download: bool
    verify_checksums: bool  # check the md5 sums torchvision knows for CIFAR-10 and CelebA files (false = check they are present)
    seed: int
    rotation_deg: DataRotationDeg
    digits_test_fraction: float
    max_train: int
    max_test: int
    celeba_size: int
    celeba_attribute: str
    celeba_class_attribute: str
    sample_grid: int


@dataclass(frozen=True)
class DataPrepare:
    """what prepare_dataset reads (reproflow.data.prepare.PrepareSpec)"""

    download: bool
    verify_checksums: bool  # check the md5 sums torchvision knows for CIFAR-10 and CelebA files (false = check they are present)
    seed: int
    rotation_deg: DataRotationDeg
    digits_test_fraction: float
    max_train: int
    max_test: int
    celeba_size: int
    celeba_attribute: str
    celeba_class_attribute: str


@dataclass(frozen=True)
class DataSamples:
    """what plot_dataset_samples reads"""

    sample_grid: int


@dataclass(frozen=True)
class PretrainSgd:
    """Settings at pretrain.sgd."""

    momentum: float
    nesterov: bool


@dataclass(frozen=True)
class PretrainClassifier:
    """Settings at pretrain.classifier."""

    arch: Literal['smallcnn', 'lenet5', 'resnet20', 'resnet18']
    epochs: int
    batch_size: int
    optimizer: Literal['sgd', 'adam']
    lr: float
    weight_decay: float
    augment: Literal['none', 'flip', 'crop_flip']


@dataclass(frozen=True)
class PretrainManipulator:
    """Settings at pretrain.manipulator."""

    latent_dim: int
    width: int
    epochs: int
    batch_size: int
    lr: float
    msp_weight: float
    label_weight: float
    edit_weight: float


@dataclass(frozen=True)
class PretrainGenerator:
    """Settings at pretrain.generator."""

    manipulator: Literal['oracle', 'msp']
    steps: int
    step_fraction: float
    z_dim: int
    width: int
    epochs: int
    batch_size: int
    lr: float
    adam_beta1: float
    adam_beta2: float
    grad_clip: float
    adv_weight: float
    div_weight: float


@dataclass(frozen=True)
class Pretrain:
    """pretrain phase (classifier, rotation oracle, MSP manipulator, noise generator per dataset and seed)"""

    datasets: tuple[Literal['digits_rot', 'mnist_rot', 'fashion_mnist_rot', 'cifar10_rot', 'celeba'], ...]
    seeds: tuple[int, ...]
    eval_batch_size: int
    max_train: int
    grid_rows: int
    grid_steps: int
    sgd: PretrainSgd
    classifier: dict[str, PretrainClassifier]
    manipulator: dict[str, PretrainManipulator]
    generator: dict[str, PretrainGenerator]


@dataclass(frozen=True)
class PretrainSeeds:
    """the seeds of the SPA jobs (pretrain, attack, advtrain), as the results page states them"""

    seeds: tuple[int, ...]


@dataclass(frozen=True)
class PretrainEvaluation:
    """what every pretraining job's held-out evaluation reads"""

    eval_batch_size: int


@dataclass(frozen=True)
class PretrainSubset:
    """the training subset of the editor and generator jobs (the classifiers train on the whole split)"""

    max_train: int


@dataclass(frozen=True)
class PretrainGrid:
    """the manipulator grid collect_pretrain draws"""

    grid_rows: int
    grid_steps: int


@dataclass(frozen=True)
class PretrainSweep:
    """the datasets and seeds every SPA phase runs over (the tables over all of them read it)"""

    datasets: tuple[Literal['digits_rot', 'mnist_rot', 'fashion_mnist_rot', 'cifar10_rot', 'celeba'], ...]
    seeds: tuple[int, ...]


@dataclass(frozen=True)
class AttackGate:
    """Settings at attack.gate."""

    relative_margin: float


@dataclass(frozen=True)
class AttackPgd:
    """Settings at attack.pgd."""

    steps: int
    step_factor: float
    restarts: int


@dataclass(frozen=True)
class AttackAutoattack:
    """Settings at attack.autoattack."""

    version: Literal['standard', 'custom']
    apgd_iterations: int
    sub_attacks: tuple[Literal['apgd-ce', 'apgd-dlr', 'apgd-t', 'fab', 'fab-t', 'square'], ...]


@dataclass(frozen=True)
class AttackAttribute:
    """Settings at attack.attribute."""

    grid_size: int


@dataclass(frozen=True)
class AttackSpa:
    """Settings at attack.spa."""

    steps: int
    restarts: int
    lr: float
    attr_lr: float


@dataclass(frozen=True)
class AttackJointPgd:
    """Settings at attack.joint_pgd."""

    steps: int
    restarts: int
    step_factor: float
    attr_step_factor: float


@dataclass(frozen=True)
class AttackJointApgd:
    """Settings at attack.joint_apgd."""

    steps: int
    restarts: int
    attr_step: float


@dataclass(frozen=True)
class AttackExamples:
    """Settings at attack.examples."""

    rows: int
    sweep: int
    codes: int


@dataclass(frozen=True)
class AttackT1:
    """Settings at attack.t1."""

    primary_eps: Literal['headline', 'min', 'max']
    baselines: tuple[Literal['fgsm', 'pgd', 'autoattack', 'attribute', 'generator', 'recon_pgd'], ...]
    composed_baselines: tuple[Literal['joint_pgd', 'joint_apgd', 'grid_pgd'], ...]


@dataclass(frozen=True)
class Attack:
    """attack phase (every attack over the eps grid against the pretrained classifiers; claim T1)"""

    model: str
    eps_grid: dict[str, tuple[float, ...]]
    attacks: tuple[Literal['fgsm', 'pgd', 'autoattack', 'attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...]
    editor: Literal['oracle', 'learned']
    learned_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...]
    gate: AttackGate
    oracle_ablation: bool
    oracle_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd'], ...]
    crosscheck: bool
    crosscheck_tolerance: float
    max_samples: int
    pgd: AttackPgd
    autoattack: AttackAutoattack
    attribute: AttackAttribute
    spa: AttackSpa
    joint_pgd: AttackJointPgd
    joint_apgd: AttackJointApgd
    batch_size: int
    edge_tol: float
    reference: tuple[Literal['spa', 'joint_pgd', 'joint_apgd', 'grid_pgd'], ...]
    examples: AttackExamples
    t1: AttackT1


@dataclass(frozen=True)
class AttackSelection:
    """which attacks run with which editors on how many test images: read by the attack phase's evaluations and, where advtrain names no subset of its own, by the defence evaluations"""

    attacks: tuple[Literal['fgsm', 'pgd', 'autoattack', 'attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...]
    editor: Literal['oracle', 'learned']
    learned_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...]
    oracle_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd'], ...]
    max_samples: int


@dataclass(frozen=True)
class AttackEvaluation:
    """what evaluate_attacks reads beside the selection: the attacked model's label, the cross-check and the image grid"""

    model: str
    crosscheck: bool
    examples: AttackExamples


@dataclass(frozen=True)
class AttackCollect:
    """what collect_attack reads"""

    crosscheck_tolerance: float


@dataclass(frozen=True)
class AttackAblation:
    """whether the semantic attacks also run through the exact editor beside a learned primary one"""

    oracle_ablation: bool


@dataclass(frozen=True)
class AttackEps:
    """the eps grids, which jobs outside the attack phase derive their budget from (the generator's training eps, the defences' training eps, the headline eps of tables and figures): a rule hands a job its dataset's grid alone"""

    eps_grid: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class AttackSuite:
    """what every evaluation job hands reproflow.attacks.suite.evaluate_suite: each attack's own subsection (which attack reads which: reproflow.vocab.AttackSpec.settings) and the suite-wide batch size, edge tolerance and reference set"""

    pgd: AttackPgd
    autoattack: AttackAutoattack
    attribute: AttackAttribute
    spa: AttackSpa
    joint_pgd: AttackJointPgd
    joint_apgd: AttackJointApgd
    batch_size: int
    edge_tol: float
    reference: tuple[Literal['spa', 'joint_pgd', 'joint_apgd', 'grid_pgd'], ...]


@dataclass(frozen=True)
class AdvtrainTraining:
    """Settings at advtrain.training."""

    epochs: int
    warmup_epochs: int
    batch_size: int
    optimizer: Literal['sgd', 'adam']
    lr: float
    weight_decay: float


@dataclass(frozen=True)
class AdvtrainPgdAt:
    """Settings at advtrain.pgd_at."""

    steps: int
    step_factor: float


@dataclass(frozen=True)
class AdvtrainTrades:
    """Settings at advtrain.trades."""

    beta: float
    steps: int
    step_factor: float


@dataclass(frozen=True)
class AdvtrainSpaAt:
    """Settings at advtrain.spa_at."""

    steps: int
    restarts: int
    lr: float
    attr_lr: float
    grid_size: int
    gen_steps: int | None
    gen_step_factor: float | None
    loss_weights: tuple[float, ...]
    refresh_every: int
    refresh_batches: int
    refresh_batch_size: int
    refresh_lr: float
    refresh_div_weight: float


@dataclass(frozen=True)
class AdvtrainWorstOfK:
    """Settings at advtrain.worst_of_k."""

    k: int
    steps: int
    step_factor: float


@dataclass(frozen=True)
class AdvtrainPlateau:
    """Settings at advtrain.plateau."""

    val_samples: int
    grid_size: int
    steps: int
    step_factor: float
    restarts: int
    epochs: int
    tolerance: float
    coverage: float


@dataclass(frozen=True)
class AdvtrainRefit:
    """Settings at advtrain.refit."""

    batches: int
    batch_size: int
    lr: float
    div_weight: float


@dataclass(frozen=True)
class AdvtrainT2Primary:
    """Settings at advtrain.t2.primary."""

    attack: str
    baseline: Literal['standard', 'pgd_at', 'trades', 'attribute_augmentation', 'spa_at', 'worst_of_k']


@dataclass(frozen=True)
class AdvtrainT2:
    """Settings at advtrain.t2."""

    primary: AdvtrainT2Primary
    baselines: tuple[Literal['standard', 'pgd_at', 'trades', 'attribute_augmentation', 'spa_at', 'worst_of_k'], ...]
    joint_attacks: tuple[str, ...]
    cost_baselines: tuple[Literal['standard', 'pgd_at', 'trades', 'attribute_augmentation', 'spa_at', 'worst_of_k'], ...]


@dataclass(frozen=True)
class Advtrain:
    """Settings at advtrain."""

    defences: tuple[Literal['standard', 'pgd_at', 'trades', 'attribute_augmentation', 'spa_at', 'worst_of_k'], ...]
    train_jobs: Literal['per_defence', 'per_seed']
    manipulator: Literal['msp', 'oracle']
    init: Literal['scratch', 'pretrained']
    seeds: tuple[int, ...] | None
    max_train: int
    eval_batch_size: int
    max_samples: int | None
    eps: Literal['grid', 'headline']
    attacks: tuple[Literal['fgsm', 'pgd', 'autoattack', 'attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...] | None
    learned_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...] | None
    oracle_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd'], ...] | None
    training: dict[str, AdvtrainTraining]
    pgd_at: AdvtrainPgdAt
    trades: AdvtrainTrades
    spa_at: AdvtrainSpaAt
    worst_of_k: AdvtrainWorstOfK
    plateau: AdvtrainPlateau
    refit: AdvtrainRefit
    t2: AdvtrainT2


@dataclass(frozen=True)
class AdvtrainRoster:
    """the defences trained and evaluated"""

    defences: tuple[Literal['standard', 'pgd_at', 'trades', 'attribute_augmentation', 'spa_at', 'worst_of_k'], ...]


@dataclass(frozen=True)
class AdvtrainSeeds:
    """the seeds the defences are trained at (null = every pretrain seed)"""

    seeds: tuple[int, ...] | None


@dataclass(frozen=True)
class AdvtrainFit:
    """how each defence's classifier is fit besides its schedule (advtrain.training) and its own section"""

    init: Literal['scratch', 'pretrained']
    max_train: int
    eval_batch_size: int


@dataclass(frozen=True)
class AdvtrainEvaluation:
    """what the defence evaluations change of the attack phase's selection (null = the attack phase's) and which radii they evaluate"""

    max_samples: int | None
    eps: Literal['grid', 'headline']
    attacks: tuple[Literal['fgsm', 'pgd', 'autoattack', 'attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...] | None
    learned_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd', 'joint_apgd', 'recon_pgd', 'grid_pgd'], ...] | None
    oracle_attacks: tuple[Literal['attribute', 'generator', 'spa', 'joint_pgd'], ...] | None


@dataclass(frozen=True)
class MeanfieldCaptionsItem:
    """Settings at meanfield.captions.item."""

    activation: Literal['linear', 'tanh', 'relu', 'hardtanh', 'erf']
    sw2: float
    sb2: float
    rho: float
    quantity: Literal['q_star', 'c_star']
    value: float
    sig_figs: int
    printed_figs: int


@dataclass(frozen=True)
class MeanfieldForwardSettingsItem:
    """Settings at meanfield.forward.settings.item."""

    name: str
    activation: Literal['linear', 'tanh', 'relu', 'hardtanh', 'erf']
    sw2: float
    sb2: float


@dataclass(frozen=True)
class MeanfieldForward:
    """Settings at meanfield.forward."""

    settings: tuple[MeanfieldForwardSettingsItem, ...]
    rho_grid: tuple[float, ...]
    input_q_grid: tuple[float, ...]
    input_c_grid: tuple[float, ...]
    width: int
    depth: int
    draws: int
    map_q_grid: tuple[float, ...]
    map_c_grid: tuple[float, ...]
    map_inputs: int


@dataclass(frozen=True)
class MeanfieldGradientsRunsItem:
    """Settings at meanfield.gradients.runs.item."""

    name: str
    role: Literal['paper', 'stress']
    activation: Literal['linear', 'tanh', 'relu', 'hardtanh', 'erf']
    sw2: float
    sb2: float
    rho: float
    width: int
    inputs: Literal['standard', 'fixed_point']


@dataclass(frozen=True)
class MeanfieldGradients:
    """Settings at meanfield.gradients."""

    depth: int
    draws: int
    draws_per_batch: int
    record_every: int
    fit_skip: int
    transient_factor: float
    min_z: float
    n_boot: int
    cv2_band: float
    level: float
    runs: tuple[MeanfieldGradientsRunsItem, ...]


@dataclass(frozen=True)
class MeanfieldGradientsMeasure:
    """what measure_gradients reads beside its group's runs, the networks' depth and how many are drawn"""

    depth: int
    draws: int
    draws_per_batch: int


@dataclass(frozen=True)
class MeanfieldGradientsRates:
    """what fit_gradients reads, the decay-rate fit's window, the bootstrap and its level"""

    fit_skip: int
    transient_factor: float
    min_z: float
    n_boot: int
    level: float


@dataclass(frozen=True)
class MeanfieldGradientsUniversality:
    """what fit_universality reads, the layers it uses and the bootstrap of the V ~ m^2 slopes"""

    record_every: int
    min_z: float
    n_boot: int
    cv2_band: float
    level: float


@dataclass(frozen=True)
class Meanfield:
    """mean-field phase (Huang et al. 2020); sw2/sb2 are variances, rho is the keep probability"""

    seed: int
    activations: tuple[Literal['linear', 'tanh', 'relu', 'hardtanh', 'erf'], ...]
    sw2_min: float
    sw2_max: float
    sw2_step: float
    sb2_grid: tuple[float, ...]
    rho_grid: tuple[float, ...]
    critical_sw2_bracket: tuple[float, ...]
    captions: tuple[MeanfieldCaptionsItem, ...]
    forward: MeanfieldForward
    gradients: MeanfieldGradients


@dataclass(frozen=True)
class MeanfieldTheory:
    """what compute_phase_diagram reads, the phase diagram's grids, the critical-point bracket and Fig. 1's captions"""

    activations: tuple[Literal['linear', 'tanh', 'relu', 'hardtanh', 'erf'], ...]
    sw2_min: float
    sw2_max: float
    sw2_step: float
    sb2_grid: tuple[float, ...]
    rho_grid: tuple[float, ...]
    critical_sw2_bracket: tuple[float, ...]
    captions: tuple[MeanfieldCaptionsItem, ...]


@dataclass(frozen=True)
class MeanfieldSeeding:
    """the seed of every mean-field job that draws random numbers (networks, inputs, bootstrap resamples)"""

    seed: int


@dataclass(frozen=True)
class DepthSweepPlatformCheckCellsItem:
    """Settings at depth_sweep.platform_check.cells.item."""

    panel: str  # a panels[].name
    depth: int  # one of that panel's depth_grid


@dataclass(frozen=True)
class DepthSweepPlatformCheck:
    """cells re-trained as on another CPU, compared with the sweep's own"""

    aten_cpu_capability: Literal['default', 'avx2', 'avx512']  # ATEN_CPU_CAPABILITY of the re-run
    mkl_cbwr: Literal['AUTO', 'COMPATIBLE', 'SSE4_2', 'AVX', 'AVX2', 'AVX512']  # MKL_CBWR of the re-run
    cells: tuple[DepthSweepPlatformCheckCellsItem, ...]


@dataclass(frozen=True)
class DepthSweepPanelsItem:
    """Settings at depth_sweep.panels.item."""

    name: str  # panel name (folder panel~<name>)
    dataset: str
    rho: float
    init: Literal['gaussian', 'orthogonal']
    optimizer: Literal['sgd', 'rmsprop']
    lr: float
    batch: int
    steps: int
    sw2_grid: tuple[float, ...]
    depth_grid: tuple[int, ...]


@dataclass(frozen=True)
class DepthSweepPanelsItemCell:
    """what each of the panel's train_depth_cell jobs reads (all but the depth grid, whose depth is the job's)"""

    name: str  # panel name (folder panel~<name>)
    dataset: str
    rho: float
    init: Literal['gaussian', 'orthogonal']
    optimizer: Literal['sgd', 'rmsprop']
    lr: float
    batch: int
    steps: int
    sw2_grid: tuple[float, ...]


@dataclass(frozen=True)
class DepthSweepSpeedSettingsItem:
    """Settings at depth_sweep.speed.settings.item."""

    rho: float
    depth_grid: tuple[int, ...]


@dataclass(frozen=True)
class DepthSweepSpeed:
    """Settings at depth_sweep.speed."""

    dataset: str
    width: int
    sw2: float
    sb2: float
    init: Literal['gaussian', 'orthogonal']
    batch: int
    settings: tuple[DepthSweepSpeedSettingsItem, ...]
    lr_exponents: tuple[float, ...]
    seeds: tuple[int, ...]
    max_steps: int
    eval_every: int
    fine_eval_steps: int
    target_accuracy: float
    train_size: int
    test_size: int


@dataclass(frozen=True)
class DepthSweepSpeedJob:
    """what every measure_training_speed job reads beside its (rho, depth), from the wildcards"""

    dataset: str
    width: int
    sw2: float
    sb2: float
    init: Literal['gaussian', 'orthogonal']
    batch: int
    lr_exponents: tuple[float, ...]
    seeds: tuple[int, ...]
    max_steps: int
    eval_every: int
    fine_eval_steps: int
    target_accuracy: float
    train_size: int
    test_size: int


@dataclass(frozen=True)
class DepthSweep:
    """depth_sweep section: trainability of deep tanh dropout networks over (sw2, depth) panels (Huang et al. 2020, Fig. 7), the fitted multiplier of the trainable depth, and training speed (Fig. 6)."""

    width: int  # hidden width N
    sb2: float  # bias variance
    seeds: tuple[int, ...]
    train_size: int  # training images used, 0 = all
    test_size: int  # test images evaluated, 0 = all
    curve_every: int
    checkpoint_every: int
    max_stack: int  # networks per stacked model, 0 = whole cell
    boundary_metric: Literal['train_accuracy', 'test_accuracy']
    boundary_fraction: float
    contour_fraction: float
    n_boot: int
    level: float  # two-sided level of the bootstrap percentile intervals
    reference_panels: tuple[str, ...]
    fit_seed: int
    platform_check: DepthSweepPlatformCheck  # cells re-trained as on another CPU, compared with the sweep's own
    panels: tuple[DepthSweepPanelsItem, ...]
    speed: DepthSweepSpeed


@dataclass(frozen=True)
class DepthSweepCell:
    """what every train_depth_cell job reads beside its panel, the networks' width and bias variance, the seeds and the job's sizing"""

    width: int  # hidden width N
    sb2: float  # bias variance
    seeds: tuple[int, ...]
    train_size: int  # training images used, 0 = all
    test_size: int  # test images evaluated, 0 = all
    curve_every: int
    checkpoint_every: int
    max_stack: int  # networks per stacked model, 0 = whole cell


@dataclass(frozen=True)
class DepthSweepFit:
    """what fit_depth_formula reads, the boundary's metric and thresholds and the bootstrap over seeds"""

    boundary_metric: Literal['train_accuracy', 'test_accuracy']
    boundary_fraction: float
    contour_fraction: float
    n_boot: int
    level: float  # two-sided level of the bootstrap percentile intervals
    fit_seed: int


@dataclass(frozen=True)
class Report:
    """Decision thresholds of the reproduction summary (report phase)."""

    coverage: float  # coverage of every interval a verdict over seeds is read from (Student-t over seeds)
    slope_tolerance: float  # V ~ m^2 band half-width around slope 2
    rate_tolerance: float  # band half-width around rate / ln chi_1 = 1
    cstar_margin: float  # c* < 1 means 1 - c* > this
    accuracy_metric: str  # attack-table metric drawn against eps by dvc plots


@dataclass(frozen=True)
class Figures:
    """The figure style every plotting rule applies."""

    style: str  # matplotlib style file (sizes, fonts, palette, DPI), relative to the repository root


@dataclass(frozen=True)
class Section:
    """Workflow config (params.yaml merged with --configfile overlays). Each phase's section is described in its own file and inlined by reproflow.config.load_schema."""

    results_root: str  # root folder of every output of this scale
    data_root: str  # torchvision dataset root
    device: str
    gpus_per_job: int
    scale: Literal['paper', 'cpu', 'quick', 'tiny', 'smoke']
    data: Data
    pretrain: Pretrain  # pretrain phase (classifier, rotation oracle, MSP manipulator, noise generator per dataset and seed)
    attack: Attack  # attack phase (every attack over the eps grid against the pretrained classifiers; claim T1)
    advtrain: Advtrain
    meanfield: Meanfield  # mean-field phase (Huang et al. 2020); sw2/sb2 are variances, rho is the keep probability
    depth_sweep: DepthSweep  # depth_sweep section: trainability of deep tanh dropout networks over (sw2, depth) panels (Huang et al. 2020, Fig. 7), the fitted multiplier of the trainable depth, and training speed (Fig. 6).
    report: Report  # Decision thresholds of the reproduction summary (report phase).
    figures: Figures  # The figure style every plotting rule applies.
