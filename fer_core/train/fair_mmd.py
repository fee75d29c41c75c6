"""``fair_mmd`` (METHODS.md section 1): cross-entropy + shrinkage-MMD between sensitive groups' embeddings + an
adversary that guesses the group behind gradient reversal.

The MMD term pulls the groups' embedding distributions together (kernel mean shrinkage keeps small per-batch groups
from adding noise); the adversary removes what a classifier could still read off. Batches should hold every group
(``data.sampler: group_class_balanced`` is the default of this recipe's shipped configs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DatasetError
from ..losses import grad_reverse, group_mmd_loss
from .classifier import ClassifierRecipe
from .config import FairConfig, RunConfig
from .module import FerModule
from .recipes import register_recipe

__all__ = ["FairMMDModule", "FairMMDRecipe"]


class FairMMDModule(FerModule):
    """:class:`FerModule` plus the shrinkage-MMD and adversary terms of ``fair`` on ``fair.attributes``."""

    def __init__(
        self,
        backbone: nn.Module,
        labels: Sequence[str],
        group_names: dict[str, Sequence[str]] | None = None,
        *,
        fair: FairConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(backbone, labels, group_names, **kwargs)
        self.fair = fair or FairConfig()
        self.hparams["fair"] = asdict(self.fair)
        if not self.sensitive:
            raise DatasetError("fair_mmd needs data.sensitive: the column(s) with the sensitive group")
        wanted = self.fair.attributes or self.sensitive[:1]
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        unknown = [c for c in wanted if c not in self.sensitive]
        if unknown:
            raise DatasetError(f"fair.attributes {unknown} must be among data.sensitive {self.sensitive}")
        self.fair_columns = [self.sensitive.index(c) for c in wanted]
        hidden, width = self.fair.adversary_hidden, self.model.num_features
        self.adversaries = nn.ModuleList(
            nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, len(self.group_names[c])))
            for c in wanted
        )

    def loss_terms(
        self, z: torch.Tensor, logits: torch.Tensor, batch: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        terms = super().loss_terms(z, logits, batch)
        f = self.fair
        mmd, adv = [], []
        for j, head in zip(self.fair_columns, self.adversaries):
            g = batch["groups"][:, j]
            keep = g >= 0  # rows whose group was not seen in training carry no group signal
            if f.lambda_mmd > 0:
                mmd.append(group_mmd_loss(z[keep], g[keep], shrink=f.shrink, bandwidths=tuple(f.bandwidths)))
            if f.lambda_adv > 0 and keep.any():
                adv.append(F.cross_entropy(head(grad_reverse(z[keep], f.grl_scale)), g[keep]))
        if mmd:
            terms["mmd"] = f.lambda_mmd * torch.stack(mmd).mean()
        if adv:
            terms["adv"] = f.lambda_adv * torch.stack(adv).mean()
        return terms


@register_recipe("fair_mmd")
class FairMMDRecipe(ClassifierRecipe):
    module_class = FairMMDModule

    def module_kwargs(self, cfg: RunConfig, dm: Any) -> dict[str, Any]:
        return {"fair": cfg.fair}
