"""Masked autoencoder (He et al. 2022; METHODS.md 2.1) around the registry ViT: mask 75 % of the patches, encode the
visible ones, reconstruct every patch with a light decoder, and score only the masked ones (per-patch normalised
pixels by default). The encoder is then an ordinary ``VisionTransformer`` for every other recipe."""

from __future__ import annotations

import torch
from torch import nn

from .vit import Block, VisionTransformer, sincos_pos_embed

__all__ = ["MaskedAutoencoder", "patchify", "unpatchify"]


def patchify(images: torch.Tensor, p: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, L, p*p*C), patches row-major, pixels (row, col, channel) inside a patch."""
    n, c, h, w = images.shape
    x = images.reshape(n, c, h // p, p, w // p, p)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(n, (h // p) * (w // p), p * p * c)


def unpatchify(patches: torch.Tensor, p: int, c: int) -> torch.Tensor:
    n, length, _ = patches.shape
    g = int(round(length**0.5))
    x = patches.reshape(n, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4)
    return x.reshape(n, c, g * p, g * p)


class MaskedAutoencoder(nn.Module):
    def __init__(
        self,
        encoder: VisionTransformer,
        decoder_dim: int = 128,
        decoder_depth: int = 2,
        decoder_heads: int = 4,
        norm_pix_loss: bool = True,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.norm = nn.LayerNorm(encoder.num_features, eps=1e-6)
        self.decoder_embed = nn.Linear(encoder.num_features, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.register_buffer("decoder_pos", sincos_pos_embed(decoder_dim, encoder.grid)[None], persistent=False)
        self.decoder = nn.Sequential(*[Block(decoder_dim, decoder_heads) for _ in range(decoder_depth)])
        self.decoder_norm = nn.LayerNorm(decoder_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(decoder_dim, encoder.patch_size**2 * encoder.in_chans)
        self.norm_pix_loss = norm_pix_loss
        nn.init.normal_(self.mask_token, std=0.02)

    @staticmethod
    def random_masking(
        n: int, length: int, ratio: float, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per image, ``keep`` indices of the visible patches (N, L_keep) and a (N, L) mask, 1 = hidden."""
        keep_n = max(1, int(round(length * (1 - ratio))))
        noise = torch.rand(n, length, generator=generator).to(device)
        order = noise.argsort(1)
        keep = order[:, :keep_n]
        mask = torch.ones(n, length, device=device)
        mask.scatter_(1, keep, 0.0)
        return keep, mask

    def forward(
        self, images: torch.Tensor, mask_ratio: float = 0.75, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss, predicted patches (N, L, p*p*C), mask (N, L))."""
        enc = self.encoder
        tokens = enc.tokens(images)
        n, length, d = tokens.shape
        keep, mask = self.random_masking(n, length, mask_ratio, generator, images.device)
        visible = tokens.gather(1, keep[..., None].expand(-1, -1, d))
        cls = (enc.cls_token + enc.pos_embed[:, :1]).expand(n, -1, -1)
        latent = self.norm(enc.blocks(torch.cat([cls, visible], 1)))
        z = self.decoder_embed(latent)
        full = self.mask_token.expand(n, length, -1).clone()
        full.scatter_(1, keep[..., None].expand(-1, -1, z.shape[-1]), z[:, 1:])
        z = torch.cat([z[:, :1], full], 1) + self.decoder_pos
        pred = self.decoder_pred(self.decoder_norm(self.decoder(z)))[:, 1:]
        return self.loss(images, pred, mask), pred, mask

    def target(self, images: torch.Tensor) -> torch.Tensor:
        t = patchify(images, self.encoder.patch_size)
        if self.norm_pix_loss:
            t = (t - t.mean(-1, keepdim=True)) / (t.var(-1, keepdim=True) + 1e-6).sqrt()
        return t

    def loss(self, images: torch.Tensor, pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean squared error per patch, averaged over the hidden patches only."""
        per_patch = ((pred - self.target(images)) ** 2).mean(-1)
        return (per_patch * mask).sum() / mask.sum().clamp_min(1)

    @torch.no_grad()
    def reconstruct(
        self, images: torch.Tensor, mask_ratio: float = 0.75, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(masked input, reconstruction) as images, visible patches pasted back; normalised targets are mapped back
        with each patch's own mean and spread."""
        _, pred, mask = self(images, mask_ratio, generator)
        p, c = self.encoder.patch_size, self.encoder.in_chans
        if self.norm_pix_loss:
            t = patchify(images, p)
            pred = pred * (t.var(-1, keepdim=True) + 1e-6).sqrt() + t.mean(-1, keepdim=True)
        m = mask[..., None].expand(-1, -1, p * p * c)
        patches = patchify(images, p)
        masked = unpatchify(patches * (1 - m), p, c)
        recon = unpatchify(patches * (1 - m) + pred * m, p, c)
        return masked, recon
