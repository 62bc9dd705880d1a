"""The CodeFormer network (Zhou et al., "Towards Robust Blind Face Restoration with Codebook Lookup
Transformer", NeurIPS 2022), written for faceboard: no package on PyPI ships it in a maintained form.

A VQGAN encoder turns a 512x512 face into 16x16 features; a transformer predicts, for each of the 256
positions, which of the 1024 codebook entries it is; the VQGAN generator decodes the looked-up codes,
while controllable feature transformation blocks mix in encoder features at 32..256 px with fidelity
weight `w` (0: the codebook prior alone, 1: most faithful to the input).

Module and parameter names follow the released checkpoint (`params_ema` in codeformer.pth), so it
loads with a strict key check.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_SIZE = 512
BASE_CHANNELS = 64
CHANNEL_MULT = (1, 2, 2, 4, 4, 8)  # per resolution, 512 px down to 16 px
RES_BLOCKS = 2
ATTENTION_AT = 16  # px
CODE_DIM = 256
CODEBOOK_SIZE = 1024
EMBED_DIM = 512
HEADS = 8
LAYERS = 9
FUSED_SIZES = ("32", "64", "128", "256")  # px where encoder features are fused into the generator


def _group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels, eps=1e-6)


def _conv3(c_in: int, c_out: int, stride: int = 1, padding: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, padding=padding)


class ResBlock(nn.Module):
    """Pre-activation residual block (GroupNorm, swish, conv) x 2, 1x1 projection when widths differ."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = _group_norm(c_in), _conv3(c_in, c_out)
        self.norm2, self.conv2 = _group_norm(c_out), _conv3(c_out, c_out)
        self.conv_out = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (x if self.conv_out is None else self.conv_out(x))


class AttnBlock(nn.Module):
    """Single-head self-attention over all positions of a feature map, with a residual connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = _group_norm(channels)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(channels, channels, 1) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        normed = self.norm(x)
        q, k, v = (proj(normed).reshape(b, 1, c, h * w).transpose(2, 3) for proj in (self.q, self.k, self.v))
        attended = F.scaled_dot_product_attention(q, k, v).transpose(2, 3).reshape(b, c, h, w)
        return x + self.proj_out(attended)


class Downsample(nn.Module):
    """Stride-2 3x3 convolution after padding one pixel at the right and bottom."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = _conv3(channels, channels, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    """Nearest-neighbour x2, then a 3x3 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = _conv3(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Blocks(nn.Module):
    """A plain sequence of blocks (the checkpoint names them `<part>.blocks.<i>`)."""

    def __init__(self, blocks: list[nn.Module]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)


def _encoder() -> Blocks:
    channels, size = BASE_CHANNELS, IMAGE_SIZE
    blocks: list[nn.Module] = [_conv3(3, channels)]
    for level, mult in enumerate(CHANNEL_MULT):
        for _ in range(RES_BLOCKS):
            blocks.append(ResBlock(channels, BASE_CHANNELS * mult))
            channels = BASE_CHANNELS * mult
            if size == ATTENTION_AT:
                blocks.append(AttnBlock(channels))
        if level < len(CHANNEL_MULT) - 1:
            blocks.append(Downsample(channels))
            size //= 2
    blocks += [ResBlock(channels, channels), AttnBlock(channels), ResBlock(channels, channels),
               _group_norm(channels), _conv3(channels, CODE_DIM)]
    return Blocks(blocks)


def _generator() -> Blocks:
    channels, size = BASE_CHANNELS * CHANNEL_MULT[-1], IMAGE_SIZE // 2 ** (len(CHANNEL_MULT) - 1)
    blocks: list[nn.Module] = [_conv3(CODE_DIM, channels), ResBlock(channels, channels), AttnBlock(channels),
                               ResBlock(channels, channels)]
    for level in reversed(range(len(CHANNEL_MULT))):
        for _ in range(RES_BLOCKS):
            blocks.append(ResBlock(channels, BASE_CHANNELS * CHANNEL_MULT[level]))
            channels = BASE_CHANNELS * CHANNEL_MULT[level]
            if size == ATTENTION_AT:
                blocks.append(AttnBlock(channels))
        if level > 0:
            blocks.append(Upsample(channels))
            size *= 2
    blocks += [_group_norm(channels), _conv3(channels, 3)]
    return Blocks(blocks)


class Codebook(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(CODEBOOK_SIZE, CODE_DIM)


class TransformerLayer(nn.Module):
    """Pre-norm self-attention (positions added to queries and keys) and a GELU MLP, both residual."""

    def __init__(self) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(EMBED_DIM, HEADS)
        self.linear1, self.linear2 = nn.Linear(EMBED_DIM, 2 * EMBED_DIM), nn.Linear(2 * EMBED_DIM, EMBED_DIM)
        self.norm1, self.norm2 = nn.LayerNorm(EMBED_DIM), nn.LayerNorm(EMBED_DIM)

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        normed = self.norm1(tokens)
        query = normed + positions
        tokens = tokens + self.self_attn(query, query, normed, need_weights=False)[0]
        return tokens + self.linear2(F.gelu(self.linear1(self.norm2(tokens))))


class FuseBlock(nn.Module):
    """Controllable feature transformation: decoder features + w * (decoder * scale + shift)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.encode_enc = ResBlock(2 * channels, channels)
        self.scale, self.shift = (nn.Sequential(_conv3(channels, channels), nn.LeakyReLU(0.2, True),
                                                _conv3(channels, channels)) for _ in range(2))

    def forward(self, encoded: torch.Tensor, decoded: torch.Tensor, w: float) -> torch.Tensor:
        mixed = self.encode_enc(torch.cat([encoded, decoded], dim=1))
        return decoded + w * (decoded * self.scale(mixed) + self.shift(mixed))


class CodeFormer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = _encoder()
        self.quantize = Codebook()
        self.generator = _generator()
        tokens = (IMAGE_SIZE // 2 ** (len(CHANNEL_MULT) - 1)) ** 2
        self.position_emb = nn.Parameter(torch.zeros(tokens, EMBED_DIM))
        self.feat_emb = nn.Linear(CODE_DIM, EMBED_DIM)
        self.ft_layers = nn.Sequential(*(TransformerLayer() for _ in range(LAYERS)))
        self.idx_pred_layer = nn.Sequential(nn.LayerNorm(EMBED_DIM), nn.Linear(EMBED_DIM, CODEBOOK_SIZE, bias=False))
        widths = {str(IMAGE_SIZE >> level): BASE_CHANNELS * mult for level, mult in enumerate(CHANNEL_MULT)}
        self.fuse_convs_dict = nn.ModuleDict({size: FuseBlock(widths[size]) for size in FUSED_SIZES})

    def forward(self, x: torch.Tensor, w: float = 0.5, adain: bool = True) -> torch.Tensor:
        """(N, 3, 512, 512) RGB in [-1, 1] -> the restored faces, same layout."""
        skips = {}
        for block in self.encoder.blocks:
            if isinstance(block, Downsample):  # the last features at each resolution
                skips[str(x.shape[-1])] = x
            x = block(x)
        codes = self._predict_codes(x)
        quantized = self.quantize.embedding(codes).transpose(1, 2).reshape(x.shape)
        if adain:
            quantized = _match_statistics(quantized, x)
        out, upsampled = quantized, False
        for block in self.generator.blocks:
            out = block(out)
            size = str(out.shape[-1])
            if upsampled and w > 0 and size in self.fuse_convs_dict:  # after the first block at a new size
                out = self.fuse_convs_dict[size](skips[size], out, w)
            upsampled = isinstance(block, Upsample)
        return out

    def _predict_codes(self, features: torch.Tensor) -> torch.Tensor:
        """Codebook index per position, (N, H*W), positions in row-major order."""
        tokens = self.feat_emb(features.flatten(2).permute(2, 0, 1))  # (H*W, N, EMBED_DIM)
        positions = self.position_emb.unsqueeze(1)
        for layer in self.ft_layers:
            tokens = layer(tokens, positions)
        return self.idx_pred_layer(tokens).argmax(dim=-1).transpose(0, 1)


def _match_statistics(content: torch.Tensor, style: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Adaptive instance normalisation: `content` with the per-channel mean and std of `style`."""
    def stats(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = t.flatten(2)
        return flat.mean(-1)[..., None, None], (flat.var(-1) + eps).sqrt()[..., None, None]

    content_mean, content_std = stats(content)
    style_mean, style_std = stats(style)
    return (content - content_mean) / content_std * style_std + style_mean
