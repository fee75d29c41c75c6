"""What every classification recipe does the same way: a :class:`FaceDataModule`, a :class:`FerModule` subclass
built from a backbone and the config's typed sections, and the end of a run (best weights with their card, the test
predictions and embeddings, the fairness report), all written through :class:`fer_core.runs.RunFolder`."""

from __future__ import annotations

import json
from typing import Any

import lightning as L
import pandas as pd
from torch import nn

from .._utils.bootstrap import CLUSTER_COLUMN, cluster_ids
from ..fairness.report import fairness_report, fairness_summary
from ..models import ModelCard, save_checkpoint
from ..runs import RunFolder
from .config import RunConfig
from .data import FaceDataModule
from .module import FerModule, adopt_architecture, build_backbone, card_for, load_weights, restore_best
from .recipes import RecipeInfo

__all__ = ["ClassifierRecipe", "write_test_outputs"]


def write_test_outputs(
    run: RunFolder, module: FerModule, dm: FaceDataModule, card: ModelCard, target: str
) -> tuple[pd.DataFrame, Any, Any]:
    """Best weights with ``card`` -> model.safetensors; the test split's (else validation's) probabilities ->
    test_predictions.csv and embeddings -> test_embeddings.npy. Returns (that table, probabilities, embeddings)."""
    save_checkpoint(module.model, card, run.path(RunFolder.MODEL))
    split = "test" if "test" in dm.tables else "val"
    rows = dm.tables[split].rows
    probs, emb = module.predict_images(dm.tables[split].images)
    pred = probs.argmax(1)
    out = pd.DataFrame(
        {
            "path": rows["abs_path"],
            "source": rows["source"],
            "rel_path": rows["path"],
            "split": split,
            "target": rows[target].astype(str),
            "pred": [dm.labels[i] for i in pred],
            "confidence": probs.max(1).round(5),
        }
    )
    for col in dm.sensitive:
        out[col] = rows[col].astype(str).to_numpy()
    if CLUSTER_COLUMN in rows.columns and CLUSTER_COLUMN not in out.columns:
        out[CLUSTER_COLUMN] = rows[CLUSTER_COLUMN].astype(str).to_numpy()  # what the intervals resample
    for j, lab in enumerate(dm.labels):
        out[f"p_{lab}"] = probs[:, j].round(6)
    run.write_predictions(out, emb)
    return out, probs, emb


def _float(v: Any) -> float | None:
    return None if v is None else round(float(v), 5)


class ClassifierRecipe:
    """The recipe of a softmax classifier; subclasses name their module class and its extra typed arguments."""

    info: RecipeInfo
    module_class: type[FerModule] = FerModule

    # --- before the data --------------------------------------------------------------------------------------
    def prepare(self, cfg: RunConfig) -> None:
        """A run that starts from weights (``model.init``) takes their architecture."""
        if cfg.model.init:
            adopt_architecture(cfg, load_weights(cfg.model.init).card)

    def datamodule(self, cfg: RunConfig, progress: bool) -> L.LightningDataModule:
        return FaceDataModule(cfg, progress=progress)

    # --- the module ---------------------------------------------------------------------------------------------
    def backbone(self, cfg: RunConfig, num_outputs: int) -> nn.Module:
        return build_backbone(cfg.model, num_outputs)

    def module_kwargs(self, cfg: RunConfig, dm: Any) -> dict[str, Any]:
        """The recipe's own typed arguments (its config section), beyond the shared ones."""
        return {}

    def module(self, cfg: RunConfig, dm: Any) -> FerModule:
        backbone = self.backbone(cfg, len(dm.labels))
        return self.module_class(
            backbone,
            list(dm.labels),
            {k: list(v) for k, v in dm.group_names.items()},
            optim=cfg.optim,
            seed=cfg.trainer.seed,
            hflip=cfg.data.hflip,
            **self.module_kwargs(cfg, dm),
        )

    # --- the end of a run ---------------------------------------------------------------------------------------
    def write_artifacts(self, run: RunFolder, module: Any, dm: Any) -> None:
        """Recipe-specific files beside the shared outputs (semi_dtm: its thresholds)."""

    def finish(self, run: RunFolder, cfg: RunConfig, trainer: L.Trainer, module: Any, dm: Any) -> dict:
        """Best weights -> model.safetensors with card; test predictions, embeddings and the fairness evaluation."""
        restore_best(trainer, module)
        module = module.cpu().eval()
        self.write_artifacts(run, module, dm)
        source = cfg.data.manifest if isinstance(cfg.data.manifest, str) else json.dumps(cfg.data.manifest)
        out, _, emb = write_test_outputs(
            run, module, dm, card_for(cfg, dm.labels, run.name, training_data=source), cfg.data.target
        )
        split = "test" if "test" in dm.tables else "val"
        clusters, kind = cluster_ids(out)
        evaluation = (
            fairness_report(
                out["target"],
                out["pred"],
                dm.labels,
                out[dm.sensitive],
                emb,
                seed=cfg.trainer.seed,
                clusters=clusters,
                cluster_kind=kind,
            )
            if dm.sensitive
            else fairness_report(out["target"], out["pred"], dm.labels, pd.DataFrame(index=out.index), None)
        )
        evaluation |= {
            "split": split,
            "run": run.name,
            "recipe": cfg.recipe,
            "best_checkpoint_metric": {cfg.trainer.monitor: _float(trainer.checkpoint_callback.best_model_score)},
        }  # type: ignore[union-attr]
        return run.finish(
            evaluation,
            test={"accuracy": evaluation["overall"].get("accuracy"), "macro_f1": evaluation["overall"].get("macro_f1")},
        )

    def summary(self, evaluation: dict) -> list[str]:
        o = evaluation["overall"]
        lines = [f"test accuracy {o.get('accuracy'):.4f}, macro-F1 {o.get('macro_f1'):.4f}"]
        for attr, rep in evaluation.get("attributes", {}).items():
            lines += fairness_summary(attr, rep)
        return lines
