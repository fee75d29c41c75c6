"""Training configuration: typed sections read from YAML, every key documented, unknown keys rejected by name.

A config file holds the sections below (all optional except ``data.manifest``); ``--set section.key=value`` on the
command line overrides single keys. The resolved config is written into the run folder, so a run can always be
reproduced or resumed from that file alone.
"""

from __future__ import annotations

import difflib
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ..errors import FerCoreError

__all__ = [
    "ConfigError",
    "RunConfig",
    "load_config",
    "config_from_dict",
    "config_help",
    "apply_overrides",
    "save_config",
]


class ConfigError(FerCoreError):
    """A config file or override that cannot be used (unknown key, wrong type, bad value)."""


def _opt(default: Any, help: str, choices: tuple | None = None) -> Any:
    meta = {"help": help, "choices": choices}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class DataConfig:
    manifest: Any = _opt(
        None,
        "training manifest (.csv/.parquet), or {synthfacs: {...SynthSpec fields}} to render "
        "a SynthFACS set into the cache first. Rows with split train/val/test are used as such",
    )
    test_manifest: Any = _opt(
        None, "separate test manifest (same forms as manifest); default: the manifest's test rows"
    )
    target: str = _opt("label", "column holding the class to predict (e.g. label, gender, age)")
    labels: Any = _opt(None, "class names in output order; default: the label set (label) or sorted values (others)")
    sensitive: Any = _opt(
        None,
        "sensitive attribute column(s) for group-balanced batches, the fairness loss and the "
        "test-set fairness report (e.g. skin_tone or [skin_tone, gender])",
    )
    aligned: Any = _opt(
        None,
        "true: images are aligned face crops (resized only); false: detect and align every "
        "image through the crop cache; null: crops if every image is at most 160 px",
        None,
    )
    template: str = _opt("tight", "alignment template of the crops (fer2013 or tight)", ("fer2013", "tight"))
    cache_dir: Any = _opt(
        None,
        "where rendered SynthFACS sets and aligned crops are cached (default $FER_CORE_CACHE or ~/.cache/fer_core)",
    )
    val_fraction: float = _opt(0.15, "share of subjects held out for validation when the manifest has no split")
    test_fraction: float = _opt(0.15, "share of subjects held out for testing when the manifest has no split")
    sampler: str = _opt(
        "random", "batch composition", ("random", "class_balanced", "group_balanced", "group_class_balanced")
    )
    per_group: int = _opt(4, "group_balanced: at least this many rows of every sensitive group per batch")
    hflip: bool = _opt(True, "random horizontal flips while training")
    num_workers: int = _opt(0, "data-loader worker processes (crops are in memory, so 0 is usually fastest)")
    extra_manifests: list = _opt(
        [],
        "extra labelled manifests added to the training rows, e.g. reviewed pseudo-labels "
        "from `fer-core review export` (all their rows are used for training)",
    )


@dataclass
class ModelConfig:
    arch: str = _opt("mini_xception", "registry architecture (see `fer-core models`)")
    input_size: int = _opt(48, "input side in pixels")
    in_chans: int = _opt(3, "1 = grey, 3 = RGB", (1, 3))
    arch_kwargs: dict = _opt({}, "extra architecture arguments, e.g. {widths: [8, 16, 32, 64]}")
    init: Any = _opt(None, "start from these weights: a run folder, a .safetensors checkpoint or a pretrained name")


@dataclass
class OptimConfig:
    epochs: int = _opt(12, "training epochs")
    batch_size: int = _opt(64, "rows per batch (per device)")
    lr: float = _opt(3e-3, "peak learning rate")
    weight_decay: float = _opt(1e-4, "decoupled weight decay (AdamW)")
    schedule: str = _opt("onecycle", "learning-rate schedule", ("onecycle", "cosine", "constant"))
    label_smoothing: float = _opt(0.0, "cross-entropy label smoothing")
    accumulate_grad_batches: int = _opt(1, "gradient accumulation: optimiser step every N batches")
    gradient_clip: Any = _opt(None, "clip the gradient norm to this value (null: off)")


@dataclass
class FairConfig:
    attributes: Any = _opt(
        None,
        "sensitive column(s) the fairness terms act on (default: the first of data.sensitive; "
        "the others are only reported)",
    )
    lambda_mmd: float = _opt(1.0, "weight of the shrinkage-MMD term between sensitive groups' embeddings")
    lambda_adv: float = _opt(0.1, "weight of the adversary that predicts the group behind gradient reversal")
    grl_scale: float = _opt(1.0, "gradient-reversal scale of the adversary branch")
    shrink: bool = _opt(True, "kernel mean shrinkage (R-KMSE, closed-form intensity); false = plain MMD")
    bandwidths: list = _opt([1.0], "RBF bandwidth multipliers of the batch median distance (several = multi-kernel)")
    adversary_hidden: int = _opt(64, "hidden width of the adversary MLP")


@dataclass
class TransferConfig:
    base: Any = _opt(None, "base model: a run folder, a .safetensors checkpoint or a pretrained name (required)")
    freeze_epochs: int = _opt(3, "epochs with a frozen backbone (only the new head trains)")
    backbone_lr_factor: float = _opt(0.1, "after unfreezing, the backbone learns at lr x this factor")


@dataclass
class SemiConfig:
    unlabeled: Any = _opt(
        None,
        "unlabelled face pool: a manifest, a folder of face images or {synthfacs: {...}} "
        "(labels in it, if any, are never trained on; they only measure pseudo-label "
        "precision)",
    )
    labeled_fraction: float = _opt(
        1.0,
        "keep the labels of this share of the training rows (per class, seeded); "
        "the other rows join the unlabelled pool",
    )
    threshold: str = _opt(
        "dtm",
        "pseudo-label threshold: dtm (per class and stage), flexmatch, freematch, fixed",
        ("dtm", "flexmatch", "freematch", "fixed"),
    )
    tau: float = _opt(0.95, "fixed threshold, and the base threshold of flexmatch")
    schedule: list = _opt(
        [0.5, 0.7, 0.9],
        "dtm: per stage, the quantile of the pool's confidences per predicted "
        "class that becomes that class's threshold (stricter at later stages)",
    )
    t_min: float = _opt(0.5, "dtm: no class threshold below this")
    warmup_epochs: int = _opt(2, "epochs on labelled data only before pseudo-labels are used")
    lambda_u: float = _opt(
        1.0,
        "weight of the pseudo-label loss on strongly augmented unlabelled faces "
        "(0: supervised-only on the labelled share)",
    )
    mu: int = _opt(2, "unlabelled rows per labelled row in a batch")
    lambda_infonce: float = _opt(0.0, "weight of InfoNCE between the weak and strong view of each unlabelled face")
    temperature: float = _opt(0.1, "InfoNCE temperature")


@dataclass
class MaeConfig:
    pool: Any = _opt(None, "mae_pretrain: unlabelled faces, a manifest, a folder of face images or {synthfacs: {...}}")
    preset: str = _opt("tiny", "ViT size (METHODS 2.1 uses small / base / large)", ("tiny", "small", "base"))
    depth: Any = _opt(None, "override the preset's number of blocks (small test models)")
    patch: Any = _opt(None, "patch side in pixels (default 16, or 8 below 112 px)")
    mask_ratio: float = _opt(0.75, "share of patches hidden from the encoder")
    norm_pix_loss: bool = _opt(True, "reconstruct per-patch normalised pixels")
    decoder_dim: int = _opt(128, "decoder width (the paper's 512 is for 224 px inputs)")
    decoder_depth: int = _opt(2, "decoder blocks")
    warmup_epochs: int = _opt(1, "linear learning-rate warm-up before the half-cycle cosine")
    blr: float = _opt(1.5e-4, "base learning rate; lr = blr x batch size / 256")
    weight_decay: float = _opt(0.05, "AdamW weight decay (not on biases, norms and tokens)")
    val_fraction: float = _opt(0.05, "share of the pool held out to score reconstruction")
    previews: int = _opt(8, "faces in each epoch's reconstruction preview (previews/epoch_NNN.png)")


@dataclass
class AUConfig:
    au_set: Any = _opt("BP4D12", "action units to detect: BP4D12, DISFA8 or a list of AU numbers")
    active_threshold: float = _opt(0.25, "an AU whose intensity in the manifest's aus column reaches this is active")
    folds: int = _opt(3, "subject-independent folds")
    fold: int = _opt(
        0,
        "the fold whose subjects are the test set (the others train; data.val_fraction of their "
        "subjects pick the checkpoint and the decision threshold)",
    )
    lambda_id: float = _opt(
        1.0,
        "Identity Adversarial Training: gradient-reversal scale of the identity head "
        "(METHODS 2.3 presets 0.5 / 1 / 2; 0 turns IAT off)",
    )
    layer_decay: float = _opt(0.65, "layer-wise learning-rate decay for ViT backbones (1 = off)")
    id_loss: str = _opt(
        "bce",
        "identity loss: bce on a one-hot subject vector (the paper's code, METHODS 2.3) or ce "
        "(softmax cross-entropy, the classic domain-adversarial form: its reversed gradient "
        "only moves subjects apart-or-together, never all logits at once)",
        ("bce", "ce"),
    )
    id_lr_scale: float = _opt(
        1.0,
        "learning rate of the identity head relative to optim.lr: a head that keeps up "
        "with the backbone makes the reversed gradient remove identity rather than chase "
        "a stale head",
    )
    lambda_ramp: bool = _opt(
        True,
        "raise the reversal scale from 0 to lambda_id over training (DANN's "
        "2 / (1 + exp(-10 p)) - 1), so the AU head learns before identity is fought",
    )


@dataclass
class EmoNetConfig:
    ratings: Any = _opt(
        None,
        "emonet40: per-annotator ratings csv (image, emotion, annotator, rating 0-7) for the "
        "agreement evaluation; default: ratings.csv beside the manifest, if there is one",
    )
    boot: int = _opt(1000, "bootstrap resamples for the agreement intervals (METHODS 4.4 uses 1000)")


@dataclass
class TrainerConfig:
    seed: int = _opt(0, "seed of initialisation, sampling and augmentation (same seed -> same run)")
    accelerator: str = _opt("auto", "cpu, gpu, mps or auto")
    devices: Any = _opt("auto", "number of devices or auto")
    num_nodes: int = _opt(1, "nodes for multi-node DDP (torchrun / SLURM set the rest)")
    strategy: str = _opt("auto", "auto, ddp, ddp_spawn, fsdp, ...")
    precision: str = _opt("32-true", "32-true, 16-mixed, bf16-mixed (AMP)")
    early_stopping_patience: Any = _opt(None, "stop after this many epochs without improvement (null: off)")
    monitor: Any = _opt(
        None,
        "validation metric that picks the best checkpoint (default: the recipe's own: "
        "val/acc, val/loss for mae_pretrain, val/au_f1 for au_iat)",
    )
    threads: Any = _opt(None, "CPU threads for torch (null: torch's default)")


@dataclass
class RunConfig:
    recipe: str = _opt("supervised", "recipe name")
    name: Any = _opt(None, "run name (default: the recipe and a time stamp)")
    out_dir: str = _opt("runs", "folder that holds run folders")
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    fair: FairConfig = field(default_factory=FairConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    semi: SemiConfig = field(default_factory=SemiConfig)
    mae: MaeConfig = field(default_factory=MaeConfig)
    au: AUConfig = field(default_factory=AUConfig)
    emonet: EmoNetConfig = field(default_factory=EmoNetConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)

    def to_dict(self) -> dict:
        return asdict(self)


_SECTION_CLASSES = {
    "data": DataConfig,
    "model": ModelConfig,
    "optim": OptimConfig,
    "fair": FairConfig,
    "transfer": TransferConfig,
    "semi": SemiConfig,
    "mae": MaeConfig,
    "au": AUConfig,
    "emonet": EmoNetConfig,
    "trainer": TrainerConfig,
}
_SECTIONS = {f.name: f.type for f in fields(RunConfig) if f.name in _SECTION_CLASSES}
_TOP_KEYS = ("recipe", "name", "out_dir")


def _unknown(key: str, known: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown config key {where}{key!r}{hint}; known: {', '.join(known)}")


def _coerce(cls: type, key: str, value: Any, where: str) -> Any:
    f = {x.name: x for x in fields(cls)}[key]
    default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
    choices = f.metadata.get("choices")
    if value is None:
        return None
    if f.type in ("Any", Any):  # free-form keys (paths or mappings, numbers or "auto") are checked where used
        return value
    if isinstance(default, bool) and not isinstance(value, bool):
        raise ConfigError(f"{where}{key} must be true or false, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(f"{where}{key} must be an integer, got {value!r}")
        value = int(value)
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}{key} must be a number, got {value!r}")
        value = float(value)
    elif isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"{where}{key} must be text, got {value!r}")
    elif isinstance(default, list) and not isinstance(value, list):
        value = [value]
    elif isinstance(default, dict) and not isinstance(value, dict):
        raise ConfigError(f"{where}{key} must be a mapping, got {value!r}")
    if choices and value not in choices:
        raise ConfigError(f"{where}{key} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def config_from_dict(raw: dict | None) -> RunConfig:
    """Build a :class:`RunConfig` from plain data, rejecting unknown keys and wrongly typed values by name."""
    raw = dict(raw or {})
    known_top = list(_TOP_KEYS) + list(_SECTION_CLASSES)
    for key in raw:
        if key not in known_top:
            raise _unknown(key, known_top, "")
    top = {k: raw[k] for k in _TOP_KEYS if k in raw}
    for k, v in top.items():
        top[k] = _coerce(RunConfig, k, v, "")
    sections = {}
    for name, cls in _SECTION_CLASSES.items():
        values = raw.get(name) or {}
        if not isinstance(values, dict):
            raise ConfigError(f"config section {name!r} must be a mapping of keys, got {values!r}")
        known = [f.name for f in fields(cls)]
        for key in values:
            if key not in known:
                raise _unknown(key, known, f"{name}.")
        sections[name] = cls(**{k: _coerce(cls, k, v, f"{name}.") for k, v in values.items()})
    cfg = RunConfig(**top, **sections)
    _check_values(cfg)
    return cfg


def _check_values(cfg: RunConfig) -> None:
    d, o = cfg.data, cfg.optim
    for name, value in (("data.val_fraction", d.val_fraction), ("data.test_fraction", d.test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"{name} must be in [0, 1), got {value}")
    if d.val_fraction + d.test_fraction >= 1.0:
        raise ConfigError("data.val_fraction + data.test_fraction must leave rows for training")
    for name, value, low in (
        ("optim.epochs", o.epochs, 1),
        ("optim.batch_size", o.batch_size, 1),
        ("optim.accumulate_grad_batches", o.accumulate_grad_batches, 1),
        ("data.per_group", d.per_group, 1),
        ("model.input_size", cfg.model.input_size, 16),
    ):
        if value < low:
            raise ConfigError(f"{name} must be >= {low}, got {value}")
    if o.lr <= 0:
        raise ConfigError(f"optim.lr must be > 0, got {o.lr}")
    if not 0.0 <= o.label_smoothing < 1.0:
        raise ConfigError(f"optim.label_smoothing must be in [0, 1), got {o.label_smoothing}")
    if cfg.fair.lambda_mmd < 0 or cfg.fair.lambda_adv < 0:
        raise ConfigError("fair.lambda_mmd and fair.lambda_adv must be >= 0")
    sm = cfg.semi
    if not 0.0 < sm.labeled_fraction <= 1.0:
        raise ConfigError(f"semi.labeled_fraction must be in (0, 1], got {sm.labeled_fraction}")
    if sm.mu < 1 or sm.warmup_epochs < 0 or sm.lambda_u < 0 or sm.lambda_infonce < 0:
        raise ConfigError("semi.mu must be >= 1; semi.warmup_epochs, lambda_u and lambda_infonce must be >= 0")
    if not sm.schedule or any(not isinstance(q, (int, float)) or not 0 <= q <= 1 for q in sm.schedule):
        raise ConfigError(f"semi.schedule must be a list of quantiles in [0, 1], got {sm.schedule}")
    if not cfg.fair.bandwidths or any(not isinstance(b, (int, float)) or b <= 0 for b in cfg.fair.bandwidths):
        raise ConfigError(f"fair.bandwidths must be a list of numbers > 0, got {cfg.fair.bandwidths}")


def _parse_scalar(text: str) -> Any:
    return yaml.safe_load(text) if text.strip() else ""


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``section.key=value`` overrides (values parsed as YAML: 0.1, true, [1, 2], text) to raw config data."""
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in (raw or {}).items()}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value, e.g. optim.epochs=5")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        if len(parts) == 1:
            raw[parts[0]] = _parse_scalar(value)
        elif len(parts) == 2:
            section = raw.setdefault(parts[0], {})
            if not isinstance(section, dict):
                raise ConfigError(f"override {item!r}: {parts[0]!r} is not a section")
            section[parts[1]] = _parse_scalar(value)
        else:
            raise ConfigError(f"override {item!r}: keys have at most two parts (section.key)")
    return raw


def load_config(path: str | Path | None, overrides: list[str] | None = None, recipe: str | None = None) -> RunConfig:
    """Read a YAML config (or start empty), apply overrides and the recipe given on the command line."""
    raw: dict = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist")
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {p} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {p} must hold a mapping of sections, got {type(raw).__name__}")
        _resolve_relative(raw, p.parent)
    raw = apply_overrides(raw, overrides or [])
    if recipe is not None:
        if raw.get("recipe") not in (None, recipe):
            raise ConfigError(f"the config is for recipe {raw['recipe']!r} but {recipe!r} was asked for")
        raw["recipe"] = recipe
    return config_from_dict(raw)


def _resolve_relative(raw: dict, base: Path) -> None:
    """Paths in a config file are relative to the file, so a config and its data can move together."""
    data = raw.get("data")
    if isinstance(data, dict):
        for key in ("manifest", "test_manifest"):
            value = data.get(key)
            if isinstance(value, str) and not Path(value).is_absolute():
                data[key] = str((base / value).resolve())
        extra = data.get("extra_manifests")
        if isinstance(extra, list):
            data["extra_manifests"] = [
                str((base / v).resolve()) if isinstance(v, str) and not Path(v).is_absolute() else v for v in extra
            ]
    for section, key in (("semi", "unlabeled"), ("mae", "pool")):
        values = raw.get(section)
        if isinstance(values, dict) and isinstance(values.get(key), str) and not Path(values[key]).is_absolute():
            values[key] = str((base / values[key]).resolve())


def save_config(cfg: RunConfig, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False), encoding="utf-8")
    return path


def config_help() -> str:
    """Every config key with its default and meaning, for ``fer-core train --help``."""
    lines = ["config keys (YAML sections; override one with --set section.key=value):"]
    for name in _TOP_KEYS:
        f = {x.name: x for x in fields(RunConfig)}[name]
        lines.append(f"  {name:<34} {f.metadata['help']} [default: {f.default}]")
    for section, cls in _SECTION_CLASSES.items():
        lines.append(f"  {section}:")
        for f in fields(cls):
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            choices = f.metadata.get("choices")
            extra = f" {{{', '.join(map(str, choices))}}}" if choices else ""
            lines.append(f"    {f.name:<32} {f.metadata['help']}{extra} [default: {default}]")
    return "\n".join(lines)
