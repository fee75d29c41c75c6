"""``transfer`` (METHODS.md section 5): start from a base model trained on another task (age or gender), put a new
head on it for the target, train only the head for ``freeze_epochs``, then the whole network with the backbone at a
lower learning rate.

Arbabzadah et al. use this to ask which base model's features suit a target; the run's heatmaps answer it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from torch import nn

from ..errors import CheckpointError
from ..models import LoadedModel
from .classifier import ClassifierRecipe
from .config import RunConfig, TransferConfig
from .module import FerModule, adopt_architecture, build_backbone, load_weights
from .recipes import register_recipe

__all__ = ["TransferModule", "TransferRecipe", "resolve_transfer"]


def resolve_transfer(cfg: RunConfig) -> LoadedModel:
    """Check ``transfer.base`` and make the config's model section describe the base architecture."""
    if not cfg.transfer.base:
        raise CheckpointError("the transfer recipe needs transfer.base: a run folder, checkpoint or pretrained name")
    base = load_weights(cfg.transfer.base)
    adopt_architecture(cfg, base.card)
    return base


class TransferModule(FerModule):
    """:class:`FerModule` whose backbone (all but the head) is frozen for ``transfer.freeze_epochs``, then trains at
    ``transfer.backbone_lr_factor`` times the head's learning rate."""

    def __init__(
        self,
        backbone: nn.Module,
        labels: Sequence[str],
        group_names: dict[str, Sequence[str]] | None = None,
        *,
        transfer: TransferConfig | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(backbone, labels, group_names, **kwargs)
        self.transfer = transfer or TransferConfig()
        self.hparams["transfer"] = asdict(self.transfer)

    def _backbone_params(self) -> list[nn.Parameter]:
        head = {id(p) for p in self.model.get_classifier().parameters()}
        return [p for p in self.model.parameters() if id(p) not in head]

    def frozen(self) -> bool:
        return self.current_epoch < self.transfer.freeze_epochs

    def on_train_epoch_start(self) -> None:
        for p in self._backbone_params():
            p.requires_grad_(not self.frozen())

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """A frozen backbone keeps its BatchNorm statistics too; set on every batch because Lightning restores each
        module's mode after validation."""
        training = not self.frozen()
        for m in self.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.train(training)

    def param_groups(self) -> list[dict[str, Any]]:
        lr = self.optim.lr
        return [
            {"params": list(self.model.get_classifier().parameters()), "lr": lr},
            {"params": self._backbone_params(), "lr": lr * self.transfer.backbone_lr_factor},
        ]


@register_recipe("transfer")
class TransferRecipe(ClassifierRecipe):
    module_class = TransferModule

    def prepare(self, cfg: RunConfig) -> None:
        resolve_transfer(cfg)

    def backbone(self, cfg: RunConfig, num_outputs: int) -> nn.Module:
        return build_backbone(cfg.model, num_outputs, start_from=cfg.transfer.base)

    def module_kwargs(self, cfg: RunConfig, dm: Any) -> dict[str, Any]:
        return {"transfer": cfg.transfer}
