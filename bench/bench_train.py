"""Training step time of the Lightning recipes vs a plain PyTorch loop of the same model, batch and loss.

DESIGN 6 asks the recipes' step time to be within 1.15x a plain loop. Both sides run the same number of steps on the
same in-memory SynthFACS crops, with the same optimiser and schedule; the step time is the median interval between
the starts of consecutive steps, fastest of interleaved repeats (data fetch, forward, backward, optimiser step and,
for Lightning, logging and the run-status callback). Runs on a GPU when one is present (``--device cuda``), else
on CPU. Prints JSON.

Usage: ``python bench/bench_train.py [--steps 60] [--repeats 3] [--device cpu|cuda] [--recipes supervised,fair_mmd]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback

from fer_core.losses import grad_reverse, group_mmd_loss
from fer_core.train import config_from_dict, get_recipe
from fer_core.train.data import FaceDataModule
from fer_core.train.run import _trainer

WARMUP = 10


def _config(recipe: str, steps: int, device: str, cache: Path, batch: int, size: int) -> dict:
    n = int(steps * batch / 0.7) + batch * 4  # 70 % of the identities land in train
    return {
        "recipe": recipe,
        "name": f"bench_{recipe}",
        "out_dir": str(cache / "runs"),
        "data": {
            "manifest": {"synthfacs": {"n": n, "size": size, "seed": 5}},
            "sensitive": "skin_tone",
            "sampler": "group_class_balanced" if recipe == "fair_mmd" else "random",
            "cache_dir": str(cache),
        },
        "model": {"input_size": size, "arch_kwargs": {"widths": [8, 16, 32, 64]}},
        "optim": {"epochs": 1, "batch_size": batch},
        "trainer": {"accelerator": "gpu" if device == "cuda" else "cpu", "devices": 1, "precision": "32-true"},
    }


class _StepTimer(Callback):
    def __init__(self) -> None:
        self.starts: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        self.starts.append(time.perf_counter())


def _median_step(starts: list[float]) -> float:
    gaps = [b - a for a, b in zip(starts[WARMUP:], starts[WARMUP + 1 :])]
    return statistics.median(gaps)


def lightning_step(raw: dict, folder: Path) -> float:
    cfg = config_from_dict(raw)
    dm = FaceDataModule(cfg)
    dm.setup()
    module = get_recipe(cfg.recipe).module(cfg, dm)
    trainer = _trainer(cfg, folder, progress=False, on_progress=None)
    timer = _StepTimer()
    trainer.callbacks.append(timer)
    L.seed_everything(0, verbose=False)
    trainer.fit(module, datamodule=dm)  # validation runs once, after the timed steps
    return _median_step(timer.starts)


def plain_step(raw: dict, device: str) -> float:
    """The same model, data loader, loss terms, AdamW and OneCycle schedule, hand-written."""
    cfg = config_from_dict(raw)
    dm = FaceDataModule(cfg)
    dm.setup()
    torch.manual_seed(0)
    module = get_recipe(cfg.recipe).module(cfg, dm).to(device)
    model = module.model
    adversary = getattr(module, "adversaries", None)
    params = list(module.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    loader = dm.train_dataloader()
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.optim.lr, total_steps=len(loader))
    starts = []
    for batch in loader:
        if device == "cuda":
            torch.cuda.synchronize()
        starts.append(time.perf_counter())
        x = batch["image"].to(device).float().div(255).sub(0.5).div(0.5)
        flip = torch.rand(x.shape[0], device=device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        y, g = batch["target"].to(device), batch["groups"][:, 0].to(device)
        feats = model.forward_features(x)
        z, logits = model.forward_head(feats, pre_logits=True), model.forward_head(feats)
        loss = F.cross_entropy(logits, y)
        if adversary is not None:
            loss = loss + cfg.fair.lambda_mmd * group_mmd_loss(z, g)
            loss = loss + cfg.fair.lambda_adv * F.cross_entropy(adversary[0](grad_reverse(z, 1.0)), g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return _median_step(starts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--recipes", default="supervised,fair_mmd")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved repeats; the fastest of each side counts")
    args = ap.parse_args()
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    out = {
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else f"cpu ({args.threads} threads)",
        "batch": args.batch,
        "input": f"{args.size}x{args.size} RGB",
        "steps": args.steps,
        "recipes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in args.recipes.split(","):
            raw = _config(recipe, args.steps + WARMUP + 1, args.device, Path(tmp), args.batch, args.size)
            plain, lit = [], []
            for rep in range(args.repeats):  # interleaved, so drift in machine speed hits both sides alike
                plain.append(plain_step(raw, args.device))
                raw["name"] = f"bench_{recipe}_{rep}"
                lit.append(lightning_step(raw, Path(tmp) / f"run_{recipe}_{rep}"))
            ref, ours = min(plain), min(lit)
            out["recipes"][recipe] = {
                "plain_ms": round(1000 * ref, 2),
                "lightning_ms": round(1000 * ours, 2),
                "ratio": round(ours / ref, 3),
                "target": 1.15,
                "all_plain_ms": [round(1000 * v, 1) for v in plain],
                "all_lightning_ms": [round(1000 * v, 1) for v in lit],
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
