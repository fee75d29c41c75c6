"""A plain Vision Transformer (MAE / timm layout) for faces: tiny, small and base presets, patch 16 (or 8 for small
images), fixed 2-D sine-cosine position embeddings, mean-pooled patch tokens -> LayerNorm -> head (METHODS.md 2.2).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["PRESETS", "VisionTransformer", "sincos_pos_embed", "default_patch"]

PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"embed_dim": 192, "depth": 12, "num_heads": 3},
    "small": {"embed_dim": 384, "depth": 12, "num_heads": 6},
    "base": {"embed_dim": 768, "depth": 12, "num_heads": 12},
}


def default_patch(img_size: int) -> int:
    """Patch 16 as in the paper; 8 for small face crops (below 112 px) so they still give enough tokens."""
    return 16 if img_size >= 112 else 8


def sincos_pos_embed(dim: int, grid: int, cls_token: bool = True) -> torch.Tensor:
    """(1 + grid^2, dim) fixed 2-D sine-cosine embedding (MAE's), with a zero row for the class token."""
    if dim % 4:
        raise ValueError(f"embedding dim must be a multiple of 4 for 2-D sin-cos embeddings, got {dim}")
    omega = 1.0 / 10000 ** (np.arange(dim // 4, dtype=np.float64) / (dim / 4))
    ys, xs = np.meshgrid(np.arange(grid, dtype=np.float64), np.arange(grid, dtype=np.float64), indexing="ij")

    def emb(pos: np.ndarray) -> np.ndarray:
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    table = np.concatenate([emb(xs), emb(ys)], axis=1)
    if cls_token:
        table = np.concatenate([np.zeros((1, dim)), table], axis=0)
    return torch.from_numpy(table).float()


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads, self.scale = num_heads, (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * self.scale).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(
        self, dim: int, num_heads: int, mlp_ratio: float = 4.0, drop_path: float = 0.0, norm_eps: float = 1e-6
    ) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=norm_eps), nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self.drop_path = drop_path

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_path == 0:
            return x
        keep = torch.rand(x.shape[0], 1, 1, device=x.device) >= self.drop_path
        return x * keep / (1 - self.drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self._drop(self.attn(self.norm1(x)))
        return x + self._drop(self.mlp(self.norm2(x)))


class VisionTransformer(nn.Module):
    """ViT with a class token (kept for MAE compatibility) and mean pooling of the patch tokens for the head.

    ``global_pool='token'``, ``learned_pos=True`` and ``norm_eps`` give the classic ViT layout (the class token's
    features after the final LayerNorm; learned position embeddings) that timm's and transformers' ViTs use, so
    their weights map onto this class and CP-LRP explains them.
    """

    def __init__(
        self,
        img_size: int = 48,
        patch_size: int | None = None,
        in_chans: int = 3,
        num_classes: int = 7,
        embed_dim: int = 192,
        depth: int = 12,
        num_heads: int = 3,
        mlp_ratio: float = 4.0,
        drop_path: float = 0.0,
        global_pool: str = "avg",
        learned_pos: bool = False,
        norm_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        if global_pool not in ("avg", "token"):
            raise ValueError(f"global_pool must be 'avg' or 'token', got {global_pool!r}")
        self.global_pool = global_pool
        patch_size = patch_size or default_patch(img_size)
        if img_size % patch_size:
            raise ValueError(f"image size {img_size} must be a multiple of the patch size {patch_size}")
        self.img_size, self.patch_size, self.in_chans = img_size, patch_size, in_chans
        self.grid = img_size // patch_size
        self.patch_embed = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        if learned_pos:
            self.pos_embed = nn.Parameter(sincos_pos_embed(embed_dim, self.grid)[None])
        else:
            self.register_buffer("pos_embed", sincos_pos_embed(embed_dim, self.grid)[None], persistent=False)
        rates = np.linspace(0, drop_path, depth)
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_ratio, float(r), norm_eps) for r in rates])
        self.fc_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.num_features = embed_dim
        self.head = nn.Linear(embed_dim, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.normal_(self.cls_token, std=0.02)
        w = self.patch_embed.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.head.weight, std=2e-5)  # as the AU fine-tuning head of METHODS 2.2

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(N, L, D) patch tokens with position embeddings (no class token)."""
        return self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        t = self.tokens(x)
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(len(t), -1, -1)
        return self.blocks(torch.cat([cls, t], 1))

    def forward_head(self, feats: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        pooled = self.fc_norm(feats[:, 0] if self.global_pool == "token" else feats[:, 1:].mean(1))
        return pooled if pre_logits else self.head(pooled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        self.head = nn.Linear(self.num_features, num_classes)
        nn.init.trunc_normal_(self.head.weight, std=2e-5)
        nn.init.zeros_(self.head.bias)

    def layer_id(self, name: str) -> int:
        """Depth of a parameter for layer-wise learning-rate decay: 0 = embeddings, i + 1 = block i, depth + 1 =
        the norm and heads."""
        if name.startswith(("cls_token", "pos_embed", "patch_embed")):
            return 0
        if name.startswith("blocks."):
            return int(name.split(".")[1]) + 1
        return len(self.blocks) + 1
