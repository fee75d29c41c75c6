"""``semi_dtm`` (METHODS.md section 3): labelled faces plus pseudo-labelled unlabelled faces, gated per class by a
confidence threshold: the Dynamic Threshold Module (per class and per training stage), or FlexMatch, FreeMatch or a
fixed threshold as baselines.

Each step: cross-entropy on a class-balanced labelled batch; the model's prediction on a weak view (a flip) of
``mu`` times as many unlabelled faces is its pseudo-label where its confidence reaches that class's threshold; the
loss of those pseudo-labels is taken on a strong view of the same faces (FixMatch consistency); optionally InfoNCE
between the two views' embeddings. DTM thresholds are set at the start of every epoch from a pass of the current model
over the pool (the stage's quantile of each predicted class's confidences); stages split the epochs after the
warm-up evenly. Per epoch and class the run logs the threshold, how many pseudo-labels were taken and, where the pool's
truth is known, their precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..losses import DynamicThreshold, FixedThreshold, FlexMatchThreshold, FreeMatchThreshold, info_nce
from ..runs import RunFolder
from .augment import step_generator, strong_view, weak_view
from .classifier import ClassifierRecipe
from .config import RunConfig, SemiConfig
from .module import FerModule
from .recipes import register_recipe
from .semi_data import SemiDataModule

__all__ = ["SemiModule", "SemiRecipe"]


class SemiModule(FerModule):
    """:class:`FerModule` trained on labelled batches plus pseudo-labelled unlabelled ones (``semi``)."""

    def __init__(
        self,
        backbone: nn.Module,
        labels: Sequence[str],
        group_names: dict[str, Sequence[str]] | None = None,
        *,
        semi: SemiConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(backbone, labels, group_names, **kwargs)
        self.semi = semi or SemiConfig()
        self.hparams["semi"] = asdict(self.semi)
        k = len(self.labels)
        self.threshold: Any = None
        # per-epoch bookkeeping, per class: pseudo-labels taken, taken with known truth, correct among those
        self.register_buffer("_taken", torch.zeros(3, k), persistent=False)
        self.register_buffer("_seen", torch.zeros(1), persistent=False)

    # --- thresholds -------------------------------------------------------------------------------------------
    def _make_threshold(self, pool_size: int) -> Any:
        s, k = self.semi, len(self.labels)
        if s.threshold == "fixed":
            return FixedThreshold(s.tau, num_classes=k)
        if s.threshold == "flexmatch":
            return FlexMatchThreshold(k, pool_size, tau=s.tau)
        if s.threshold == "freematch":
            return FreeMatchThreshold(k)
        return DynamicThreshold(k, schedule=tuple(s.schedule), t_min=s.t_min)

    def stage(self, epoch: int) -> int:
        """DTM stage of ``epoch`` (-1 during warm-up): the epochs after warm-up split evenly over the schedule."""
        s = self.semi
        if epoch < s.warmup_epochs:
            return -1
        span = max(1, self.optim.epochs - s.warmup_epochs)
        return min(len(s.schedule) - 1, (epoch - s.warmup_epochs) * len(s.schedule) // span)

    @torch.no_grad()
    def pool_probs(self, pool: Any = None, batch_size: int = 512) -> torch.Tensor:
        """The current model's probabilities on every unlabelled face (no augmentation), in eval mode."""
        pool = pool if pool is not None else self.trainer.datamodule.pool
        was_training = self.training
        self.eval()
        out = [
            torch.softmax(self(pool.images[i : i + batch_size].to(self.device)).float(), 1).cpu()
            for i in range(0, len(pool), batch_size)
        ]
        self.train(was_training)
        return torch.cat(out)

    def on_fit_start(self) -> None:
        if self.threshold is None:
            self.threshold = self._make_threshold(len(self.trainer.datamodule.pool))

    def on_train_epoch_start(self) -> None:
        self._taken.zero_()
        self._seen.zero_()
        stage = self.stage(self.current_epoch)
        uses_pool = self.semi.lambda_u > 0 or self.semi.lambda_infonce > 0
        if isinstance(self.threshold, DynamicThreshold) and stage >= 0 and uses_pool:  # supervised-only: no pass
            self.threshold.set_stage(stage)
            self.threshold.update(self.pool_probs())

    # --- loss -------------------------------------------------------------------------------------------------
    def _generator(self, batch_idx: int) -> torch.Generator:
        return step_generator(self.seed, self.current_epoch, batch_idx, self.global_rank, 7)

    def training_step(self, batch: dict[str, dict[str, torch.Tensor]], batch_idx: int) -> torch.Tensor:
        s = self.semi
        lab, unl = batch["labeled"], batch["unlabeled"]
        g = self._generator(batch_idx)
        xl = weak_view(self.normalise(lab["image"]), g) if self.hflip else self.normalise(lab["image"])
        use_unlabeled = self.stage(self.current_epoch) >= 0 and (s.lambda_u > 0 or s.lambda_infonce > 0)
        if not use_unlabeled:
            z, logits = self.embed(xl)
            terms = {"ce": F.cross_entropy(logits, lab["target"], label_smoothing=self.optim.label_smoothing)}
            return self._log_step(terms, logits, lab["target"], batch_idx)
        xu = self.normalise(unl["image"])
        xw, xs = weak_view(xu, g), strong_view(xu, g)
        n_l, n_u = len(xl), len(xu)
        z, logits = self.embed(torch.cat([xl, xw, xs]))  # one pass: BatchNorm sees labelled and unlabelled rows
        logits_l, logits_w, logits_s = logits[:n_l], logits[n_l : n_l + n_u], logits[n_l + n_u :]
        terms = {"ce": F.cross_entropy(logits_l, lab["target"], label_smoothing=self.optim.label_smoothing)}
        probs = torch.softmax(logits_w.detach().float(), 1)
        if not isinstance(self.threshold, DynamicThreshold):  # DTM is set once per epoch from the whole pool
            self.threshold.update(probs, unl["index"])
        mask = self.threshold.mask(probs).float()
        pseudo = probs.argmax(1)
        if s.lambda_u > 0:
            terms["unsup"] = s.lambda_u * (F.cross_entropy(logits_s, pseudo, reduction="none") * mask).mean()
        if s.lambda_infonce > 0:
            terms["infonce"] = s.lambda_infonce * info_nce(z[n_l : n_l + n_u], z[n_l + n_u :], s.temperature)
        self._count(pseudo, mask.bool(), unl["truth"])
        if batch_idx % self.trainer.log_every_n_steps == 0:
            self.log("train/mask_rate", mask.mean(), batch_size=n_u)
        return self._log_step(terms, logits_l, lab["target"], batch_idx)

    def _log_step(
        self, terms: dict[str, torch.Tensor], logits: torch.Tensor, target: torch.Tensor, batch_idx: int
    ) -> torch.Tensor:
        loss = torch.stack(list(terms.values())).sum()
        n = len(target)
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        if batch_idx % self.trainer.log_every_n_steps == 0:
            for name, value in terms.items():
                self.log(f"train/{name}", value.detach(), batch_size=n)
            self.log("train/acc", (logits.argmax(1) == target).float().mean(), batch_size=n)
        return loss

    @torch.no_grad()
    def _count(self, pseudo: torch.Tensor, taken: torch.Tensor, truth: torch.Tensor) -> None:
        k = len(self.labels)
        known = truth >= 0
        self._taken[0] += torch.bincount(pseudo[taken], minlength=k).float()
        self._taken[1] += torch.bincount(pseudo[taken & known], minlength=k).float()
        self._taken[2] += torch.bincount(pseudo[taken & known & (pseudo == truth)], minlength=k).float()
        self._seen += len(pseudo)

    def on_train_epoch_end(self) -> None:
        if self.stage(self.current_epoch) < 0:
            return
        counts = self.all_gather(self._taken)
        counts = counts.sum(0) if counts.dim() == 3 else counts
        seen = self.all_gather(self._seen).sum()
        thresholds = self.threshold.thresholds()
        for c, name in enumerate(self.labels):
            self.log(f"semi/threshold_{name}", float(thresholds[c]))
            self.log(f"semi/taken_{name}", counts[0, c])
            if counts[1, c] > 0:
                self.log(f"semi/precision_{name}", counts[2, c] / counts[1, c])
        self.log("semi/stage", float(self.stage(self.current_epoch)))
        self.log("semi/taken_share", counts[0].sum() / seen.clamp_min(1))
        if counts[1].sum() > 0:
            self.log("semi/precision", counts[2].sum() / counts[1].sum())

    # --- state that must survive a resume ---------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        t = self.threshold
        if isinstance(t, FlexMatchThreshold):
            checkpoint["semi_threshold"] = {"selected_label": t.selected_label.clone()}
        elif isinstance(t, FreeMatchThreshold):
            checkpoint["semi_threshold"] = {"global_tau": t.global_tau.clone(), "local_p": t.local_p.clone()}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        state = checkpoint.get("semi_threshold")
        if state is None:
            return
        if "selected_label" in state:
            self.threshold = FlexMatchThreshold(len(self.labels), len(state["selected_label"]), tau=self.semi.tau)
            self.threshold.selected_label = state["selected_label"].clone()
        else:
            self.threshold = FreeMatchThreshold(len(self.labels))
            self.threshold.global_tau, self.threshold.local_p = state["global_tau"], state["local_p"]

    # --- artefacts ----------------------------------------------------------------------------------------------
    def final_thresholds(self, pool: Any) -> dict[str, Any]:
        """The per-class thresholds in force at the end of training, which ``fer-core pseudo-label`` applies to a
        new pool. DTM's are recomputed with the final (best) weights."""
        t = self.threshold
        if isinstance(t, DynamicThreshold):
            t.set_stage(len(self.semi.schedule) - 1)
            t.update(self.pool_probs(pool))
        values = t.thresholds().tolist() if t is not None else [self.semi.tau] * len(self.labels)
        return {
            "kind": self.semi.threshold,
            "labels": list(self.labels),
            "thresholds": {lab: round(float(v), 6) for lab, v in zip(self.labels, values)},
        }


@register_recipe("semi_dtm")
class SemiRecipe(ClassifierRecipe):
    module_class = SemiModule

    def datamodule(self, cfg: RunConfig, progress: bool) -> SemiDataModule:
        return SemiDataModule(cfg, progress=progress)

    def module_kwargs(self, cfg: RunConfig, dm: Any) -> dict[str, Any]:
        return {"semi": cfg.semi}

    def write_artifacts(self, run: RunFolder, module: SemiModule, dm: SemiDataModule) -> None:
        """``thresholds.json``: see :meth:`SemiModule.final_thresholds`."""
        run.write_json(RunFolder.THRESHOLDS, module.final_thresholds(dm.pool))
