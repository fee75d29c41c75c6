"""``emonet40`` (METHODS.md section 4): 40 EmoNet-Face intensities (0-7) from one face.

Targets come from the manifest's ``intensities`` cell (mean expert rating per category; ``rated == "all"`` makes the
unlisted categories known zeros, as in the HQ set; otherwise only the listed ones count, as in the Binary set where
each image is asked about two categories and "yes" is 7). The loss is binary cross-entropy of ``sigmoid(logit)``
against ``intensity / 7`` over the known cells, so its minimiser is the mean rating and unknown cells cost nothing.
The test evaluation follows the paper: quadratic-weighted kappa per emotion against every annotator, Krippendorff's
alpha of the annotators, and the Mann-Whitney "could be an annotator" test (``fer_core.agreement``), plus the
basic-8 and valence views.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DatasetError
from ..runs import RunFolder
from ..taxonomy import BASIC8, EMONET40, MAX_INTENSITY, VALENCES, basic8_scores, parse_intensities, valence_scores
from .classifier import ClassifierRecipe, write_test_outputs
from .config import RunConfig
from .data import FaceDataModule
from .module import FerModule, card_for, restore_best
from .recipes import register_recipe

__all__ = ["EmoNetDataModule", "EmoNetModule", "EmoNetRecipe", "intensity_targets"]


def intensity_targets(rows: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 40) intensities and (N, 40) known-masks from the manifest's ``intensities`` / ``rated`` columns."""
    if "intensities" not in rows:
        raise DatasetError(
            "emonet40 needs an intensities column (CATEGORY:RATING;...): import EmoNet-Face with "
            "`fer-core data import emonet-face` or render SynthFACS with label_set: emonet40"
        )
    rated = rows["rated"] if "rated" in rows else pd.Series([""] * len(rows), index=rows.index)
    pairs = [parse_intensities(t, r) for t, r in zip(rows["intensities"], rated)]
    values = torch.from_numpy(np.stack([v for v, _ in pairs])) if pairs else torch.zeros(0, len(EMONET40))
    known = torch.from_numpy(np.stack([k for _, k in pairs])) if pairs else torch.zeros(0, len(EMONET40), dtype=bool)
    return values.float(), known.float()


class EmoNetDataModule(FaceDataModule):
    """Face crops as every recipe loads them, plus per-row ``intensity`` and ``known`` tensors."""

    def setup(self, stage: str | None = None) -> None:
        fresh = not self.tables
        super().setup(stage)
        if fresh:
            for table in self.tables.values():
                table.extras["intensity"], table.extras["known"] = intensity_targets(table.rows)


def _masked_bce(logits: torch.Tensor, intensity: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    per_cell = F.binary_cross_entropy_with_logits(logits.float(), intensity / MAX_INTENSITY, reduction="none")
    return (per_cell * known).sum() / known.sum().clamp_min(1.0)


class EmoNetModule(FerModule):
    """:class:`FerModule` with one sigmoid intensity per EmoNet-40 category and a loss on the known cells only."""

    def __init__(
        self,
        backbone: nn.Module,
        labels: Sequence[str],
        group_names: dict[str, Sequence[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(backbone, labels, group_names, **kwargs)

    def loss_terms(
        self, z: torch.Tensor, logits: torch.Tensor, batch: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        return {"intensity": _masked_bce(logits, batch["intensity"], batch["known"])}

    def on_validation_epoch_start(self) -> None:
        super().on_validation_epoch_start()
        self._abs = torch.zeros(2, dtype=torch.float64)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits = self(batch["image"])
        known = batch["known"]
        self.log("val/loss", _masked_bce(logits, batch["intensity"], known), batch_size=len(logits), sync_dist=True)
        err = (MAX_INTENSITY * torch.sigmoid(logits.float()) - batch["intensity"]).abs() * known
        self._abs += torch.stack([err.sum(), known.sum()]).double().cpu()
        self.val_acc.update(logits.argmax(1), batch["target"])  # strongest category vs the top-rated one
        self.val_f1.update(logits.argmax(1), batch["target"])

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()
        self.log("val/mae", float(self._abs[0] / self._abs[1].clamp_min(1.0)), prog_bar=True)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Presence per category, intensity / 7 (a sigmoid per output: the categories are not exclusive)."""
        return torch.sigmoid(logits)


@register_recipe("emonet40")
class EmoNetRecipe(ClassifierRecipe):
    module_class = EmoNetModule

    def datamodule(self, cfg: RunConfig, progress: bool) -> EmoNetDataModule:
        return EmoNetDataModule(cfg, progress=progress)

    def module(self, cfg: RunConfig, dm: Any) -> EmoNetModule:
        if tuple(dm.labels) != EMONET40:
            raise DatasetError(
                "emonet40 trains the 40 EmoNet categories: give a manifest with label_set emonet40 "
                f"(its labels were {list(dm.labels)[:5]}...)"
            )
        return super().module(cfg, dm)  # type: ignore[return-value]

    def finish(self, run: RunFolder, cfg: RunConfig, trainer: Any, module: EmoNetModule, dm: EmoNetDataModule) -> dict:
        """Best weights -> model.safetensors; test intensities; the agreement evaluation (METHODS 4.4)."""
        from ..agreement import evaluate_agreement, model_ratings, read_ratings

        restore_best(trainer, module)
        module.cpu().eval()
        source = cfg.data.manifest if isinstance(cfg.data.manifest, str) else json.dumps(cfg.data.manifest)
        card = card_for(
            cfg,
            dm.labels,
            run.name,
            training_data=source,
            notes="EmoNet-40 intensities: 7 * sigmoid(logit) per category (0 = absent ... 7 = very "
            "strong); apply a sigmoid per output, not a softmax",
            extra={"task": "emonet40"},
        )
        out, probs, _ = write_test_outputs(run, module, dm, card, cfg.data.target)
        table = dm.tables["test" if "test" in dm.tables else "val"]
        rows = table.rows
        pred = MAX_INTENSITY * probs  # (N, 40) intensities 0-7, in EMONET40 order
        truth, known = table.extras["intensity"].numpy(), table.extras["known"].numpy().astype(bool)
        evaluation: dict[str, Any] = {
            "recipe": "emonet40",
            "run": run.name,
            "split": out["split"].iloc[0],
            "n": len(rows),
            **_intensity_metrics(pred, truth, known, rows["label"].astype(str).tolist()),
        }
        ratings_path = _ratings_path(cfg)
        if ratings_path is not None:
            ratings = read_ratings(ratings_path)
            # ratings name images relative to their own csv; the manifest relative to itself: compare absolute paths
            key_of = {str(Path(p).resolve()): str(p) for p in rows["abs_path"]}
            image = [key_of.get(str((ratings_path.parent / i).resolve())) for i in ratings["image"]]
            ratings = ratings.assign(image=image).dropna(subset=["image"])
            if ratings["image"].nunique() >= 2:
                emotions = [c for c in EMONET40 if c in set(ratings["emotion"])]
                wide = pd.DataFrame(pred[:, [EMONET40.index(c) for c in emotions]], columns=emotions)
                wide.insert(0, "image", rows["abs_path"].astype(str).to_numpy())
                report = evaluate_agreement(ratings, {run.name: model_ratings(wide, run.name)}, n_boot=cfg.emonet.boot)
                evaluation["agreement"] = report.to_json()
                evaluation["agreement_source"] = str(cfg.emonet.ratings or "ratings.csv beside the manifest")
        return run.finish(
            evaluation, test={"intensity_mae": evaluation["intensity_mae"], "top1": evaluation["top1_accuracy"]}
        )

    def summary(self, evaluation: dict) -> list[str]:
        e = evaluation
        lines = [
            f"test: intensity error {e['intensity_mae']:.3f} levels (0-7; {e['intensity_mae_present']:.2f} on "
            f"the categories the experts saw), strongest category right {e['top1_accuracy']:.1%}, basic-8 view "
            f"{e['basic8_accuracy']:.1%}, valence {e['valence_accuracy']:.1%}"
        ]
        a = e.get("agreement")
        if a:
            h = a["summary"]["human"]
            lines.append(
                f"agreement over {a['n_emotions']} emotions, {a['n_images']} images: human vs human mean "
                f"kappa {h['mean']:.3f}, annotators' mean alpha {a['alpha_summary']['mean']:.3f}"
            )
            for m, v in a["verdicts"].items():
                lines.append(
                    f"  {m}: mean kappa vs humans {a['summary'][m]['mean']:.3f}; Mann-Whitney p = "
                    f"{v['p_value']:.3g} -> {'could' if v['could_be_annotator'] else 'could not'} be an "
                    "annotator"
                )
        return lines


def _ratings_path(cfg: Any) -> Path | None:
    from ..data.sources import materialize

    if cfg.emonet.ratings:
        path = Path(cfg.emonet.ratings)
        if not path.is_file():
            raise DatasetError(f"emonet.ratings {path} does not exist")
        return path
    beside = materialize(cfg.data.test_manifest or cfg.data.manifest, cfg.data.cache_dir).parent / "ratings.csv"
    return beside if beside.is_file() else None


def _intensity_metrics(pred: np.ndarray, truth: np.ndarray, known: np.ndarray, labels: list[str]) -> dict:
    """Intensity error over known cells (and over the cells the experts rated above 0), the strongest category
    against the top-rated one, and the basic-8 and valence views of the model's and the experts' intensities."""
    from sklearn.metrics import cohen_kappa_score

    err = np.abs(pred - truth)[known]
    per_emotion = {}
    for j, c in enumerate(EMONET40):
        m = known[:, j]
        if m.sum() >= 2 and len(set(np.rint(truth[m, j]))) > 1:
            per_emotion[c] = {
                "mae": round(float(np.abs(pred[m, j] - truth[m, j]).mean()), 4),
                "kappa_vs_mean_rating": round(
                    float(
                        cohen_kappa_score(
                            np.rint(truth[m, j]).astype(int),
                            np.clip(np.rint(pred[m, j]), 0, 7).astype(int),
                            weights="quadratic",
                            labels=list(range(8)),
                        )
                    ),
                    4,
                ),
            }
    top = [EMONET40[k] for k in pred.argmax(1)]
    # the same 40 -> basic-8 / valence mapping on both sides: the model's 40 intensities against the experts'
    truth_known = np.where(known, truth, 0.0)
    basic_true, basic_pred = basic8_scores(truth_known).argmax(1), basic8_scores(pred).argmax(1)
    val_true, val_pred = valence_scores(truth_known).argmax(1), valence_scores(pred).argmax(1)
    shown = known & (truth > 0)
    return {
        "intensity_mae": round(float(err.mean()) if err.size else float("nan"), 4),
        "intensity_mae_present": round(float(np.abs(pred - truth)[shown].mean()) if shown.any() else float("nan"), 4),
        "top1_accuracy": round(float(np.mean([a == b for a, b in zip(top, labels)])), 4),
        "basic8_accuracy": round(float(np.mean(basic_true == basic_pred)), 4),
        "valence_accuracy": round(float(np.mean(val_true == val_pred)), 4),
        "basic8_confusion": pd.crosstab(
            pd.Series([BASIC8[k] for k in basic_true], name="experts"),
            pd.Series([BASIC8[k] for k in basic_pred], name="model"),
        ).to_dict(),
        "valence_labels": list(VALENCES),
        "per_emotion": per_emotion,
    }
