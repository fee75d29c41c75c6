"""timm and transformers ViTs as the registry's :class:`VisionTransformer`, so CP-LRP explains them. A mapping is
kept only where the mapped model gives the original's outputs (within 1e-5 of the largest logit); a ViT of another
layout (register tokens, layer scale, other pooling) stays as it came, with gradient methods only."""

from __future__ import annotations

import torch
from torch import nn

from ..runtime import frozen, relative_error
from ..vit import VisionTransformer

MAPPING_TOLERANCE = 1e-5


def _vit(img_size: int, patch: int, chans: int, classes: int, dim: int, depth: int, heads: int, mlp: float, eps: float):
    return VisionTransformer(
        img_size=img_size,
        patch_size=patch,
        in_chans=chans,
        num_classes=classes,
        embed_dim=dim,
        depth=depth,
        num_heads=heads,
        mlp_ratio=mlp,
        global_pool="token",
        learned_pos=True,
        norm_eps=eps,
    )


def arch_kwargs(vit: VisionTransformer) -> dict:
    """The ``create_model('vit_base', **kwargs)`` arguments that rebuild ``vit`` (for its card)."""
    return {
        "img_size": vit.img_size,
        "patch_size": vit.patch_size,
        "embed_dim": vit.num_features,
        "depth": len(vit.blocks),
        "num_heads": vit.blocks[0].attn.num_heads,
        "mlp_ratio": vit.blocks[0].mlp[0].out_features / vit.num_features,
        "global_pool": vit.global_pool,
        "learned_pos": isinstance(vit.pos_embed, nn.Parameter),
        "norm_eps": vit.fc_norm.eps,
    }


@torch.no_grad()
def from_timm(model: nn.Module) -> VisionTransformer | None:
    """A timm ``VisionTransformer`` (class token, token pooling, no register tokens or layer scale) mapped."""
    try:
        from timm.models.vision_transformer import VisionTransformer as TimmViT
    except ImportError:  # pragma: no cover - timm is a dependency
        return None
    if not isinstance(model, TimmViT) or model.global_pool != "token" or getattr(model, "num_reg_tokens", 0):
        return None
    if getattr(model, "no_embed_class", False) or model.cls_token is None or not isinstance(model.fc_norm, nn.Identity):
        return None
    block = model.blocks[0]
    if not all(isinstance(getattr(block, n, nn.Identity()), nn.Identity) for n in ("ls1", "ls2")):
        return None
    if not isinstance(model.norm_pre, nn.Identity):
        return None
    conv = model.patch_embed.proj
    out = _vit(
        model.patch_embed.img_size[0],
        conv.kernel_size[0],
        conv.in_channels,
        model.num_classes,
        model.embed_dim,
        len(model.blocks),
        block.attn.num_heads,
        block.mlp.fc1.out_features / model.embed_dim,
        model.norm.eps,
    )
    state = {
        "patch_embed.weight": conv.weight,
        "patch_embed.bias": conv.bias,
        "cls_token": model.cls_token,
        "pos_embed": model.pos_embed,
        "fc_norm.weight": model.norm.weight,
        "fc_norm.bias": model.norm.bias,
        "head.weight": model.head.weight,
        "head.bias": model.head.bias,
    }
    for i, b in enumerate(model.blocks):
        pairs = {
            "norm1": b.norm1,
            "norm2": b.norm2,
            "attn.qkv": b.attn.qkv,
            "attn.proj": b.attn.proj,
            "mlp.0": b.mlp.fc1,
            "mlp.2": b.mlp.fc2,
        }
        for ours, theirs in pairs.items():
            state[f"blocks.{i}.{ours}.weight"], state[f"blocks.{i}.{ours}.bias"] = theirs.weight, theirs.bias
    return _load(out, state)


@torch.no_grad()
def from_transformers(wrapper: nn.Module) -> VisionTransformer | None:
    """A transformers ``ViTForImageClassification`` (inside fer_core's logits wrapper) mapped."""
    hf = getattr(wrapper, "hf", wrapper)
    vit, config = getattr(hf, "vit", None), getattr(hf, "config", None)
    if vit is None or config is None or getattr(config, "model_type", "") != "vit":
        return None
    if config.hidden_act != "gelu" or not config.qkv_bias or getattr(vit, "pooler", None) is not None:
        return None
    emb = vit.embeddings
    conv = emb.patch_embeddings.projection
    out = _vit(
        config.image_size,
        config.patch_size,
        config.num_channels,
        config.num_labels,
        config.hidden_size,
        config.num_hidden_layers,
        config.num_attention_heads,
        config.intermediate_size / config.hidden_size,
        config.layer_norm_eps,
    )
    state = {
        "patch_embed.weight": conv.weight,
        "patch_embed.bias": conv.bias,
        "cls_token": emb.cls_token,
        "pos_embed": emb.position_embeddings,
        "fc_norm.weight": vit.layernorm.weight,
        "fc_norm.bias": vit.layernorm.bias,
        "head.weight": hf.classifier.weight,
        "head.bias": hf.classifier.bias,
    }
    layers = vit.encoder.layer if hasattr(vit, "encoder") else getattr(vit, "layers", None)
    if layers is None:
        return None
    for i, layer in enumerate(layers):
        parts = _hf_layer(layer)
        if parts is None:
            return None
        q, k, v, o, fc1, fc2 = parts
        state[f"blocks.{i}.attn.qkv.weight"] = torch.cat([q.weight, k.weight, v.weight])
        state[f"blocks.{i}.attn.qkv.bias"] = torch.cat([q.bias, k.bias, v.bias])
        pairs = {
            "norm1": layer.layernorm_before,
            "norm2": layer.layernorm_after,
            "attn.proj": o,
            "mlp.0": fc1,
            "mlp.2": fc2,
        }
        for ours, theirs in pairs.items():
            state[f"blocks.{i}.{ours}.weight"], state[f"blocks.{i}.{ours}.bias"] = theirs.weight, theirs.bias
    return _load(out, state)


def _hf_layer(layer: nn.Module) -> tuple[nn.Linear, ...] | None:
    """(query, key, value, output, fc1, fc2) of a transformers ViT layer, in the 4.x or the 5.x module layout."""
    att = layer.attention
    if hasattr(att, "q_proj"):  # transformers 5
        mlp = getattr(layer, "mlp", None)
        if mlp is None:
            return None
        return att.q_proj, att.k_proj, att.v_proj, att.o_proj, mlp.fc1, mlp.fc2
    if hasattr(att, "attention") and hasattr(layer, "intermediate"):  # transformers 4
        inner = att.attention
        return inner.query, inner.key, inner.value, att.output.dense, layer.intermediate.dense, layer.output.dense
    return None


def _load(out: VisionTransformer, state: dict[str, torch.Tensor]) -> VisionTransformer | None:
    try:
        out.load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=True)
    except RuntimeError:
        return None
    return out.eval()


@torch.no_grad()
def mapped_if_equal(original: nn.Module, probe: torch.Tensor) -> tuple[VisionTransformer | None, str]:
    """The registry ViT equal to ``original`` on ``probe``, and a note; (None, '') for a model that is no ViT."""
    mapped = from_timm(original) or from_transformers(original)
    if mapped is None:
        return None, ""
    error = relative_error(mapped(probe), original(probe))
    if not error <= MAPPING_TOLERANCE:
        return None, f"mapping this ViT onto the registry ViT differs by {error:.1e}; gradient methods only"
    return frozen(mapped), "mapped onto the registry ViT (equal within 1e-5), so CP-LRP applies"
