"""The Generalist model written plainly in PyTorch, independently of the C# code (src/Generalist.Model).

Module and parameter names equal our checkpoint keys, so `load_state_dict(strict=True)` on our
model.safetensors is the name-by-name check. Shapes in comments: B batch, T length, C width,
K patch positions, V vocabulary.

    x = token_embedding(tokens) [+ value_embedding(tokens)]           (B, T, C)
    x[patch positions] = patch_block(pixels) + row + col              ResNet-v2 block
    x = x + local_position_embedding(local positions)
    x = blocks(x)                                                      pre-norm, causal, rotary
    logits = final_norm(x) @ table.T                                   tied head (+ value rows)
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# PyTorch 1.13 (Debian's python3-torch) has no scaled_dot_product_attention; 2.x does.
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def rope_tables(config, length, device):
    """cos, sin (T, hd/2) fp32: angle position * base^(-2i/hd), computed in float64 first."""
    half = config["head_dim"] // 2
    inverse = torch.exp(torch.arange(0, half, dtype=torch.float64, device=device) * (-math.log(config["rope_base"]) / half))
    positions = torch.arange(0, length, dtype=torch.float64, device=device)
    angles = torch.outer(positions, inverse)
    return angles.cos().float(), angles.sin().float()


def rotate(x, cos, sin):
    """x (B, H, T, hd): channel pairs (i, i + hd/2) rotated by the position's angles."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["heads"]
        self.qkv = nn.Linear(c["model_dim"], 3 * c["model_dim"], bias=False)
        self.proj = nn.Linear(c["model_dim"], c["model_dim"], bias=False)

    def forward(self, x, rope):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))  # (B, H, T, hd)
        if rope is not None:
            q, k = rotate(q, *rope), rotate(k, *rope)
        if HAS_SDPA:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))  # (B, H, T, T)
            causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            y = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(b, t, c))


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Linear(c["model_dim"], c["mlp_dim"], bias=False)
        self.proj = nn.Linear(c["mlp_dim"], c["model_dim"], bias=False)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))  # exact (erf) GELU, as libtorch's default


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention_norm = nn.LayerNorm(c["model_dim"])
        self.attention = CausalSelfAttention(c)
        self.mlp_norm = nn.LayerNorm(c["model_dim"])
        self.mlp = Mlp(c)

    def forward(self, x, rope):
        h = x + self.attention(self.attention_norm(x), rope)
        return h + self.mlp(self.mlp_norm(h))


class PatchEmbedding(nn.Module):
    """conv_in, then a pre-activation residual unit (GroupNorm, GELU, conv) x 2, then GN, GELU, linear."""

    def __init__(self, c):
        super().__init__()
        hidden, groups = c["patch_hidden_channels"], c["patch_norm_groups"]
        self.channels, self.size = c["patch_channels"], c["patch_size"]
        self.conv_in = nn.Conv2d(self.channels, hidden, 3, padding=1)
        self.norm1 = nn.GroupNorm(groups, hidden)
        self.conv1 = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, hidden)
        self.conv2 = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.norm_out = nn.GroupNorm(groups, hidden)
        self.proj = nn.Linear(hidden * self.size * self.size, c["model_dim"])

    def forward(self, patches):  # (K, 3*P*P)
        h = self.conv_in(patches.view(-1, self.channels, self.size, self.size))
        r = self.conv1(F.gelu(self.norm1(h)))
        h = h + self.conv2(F.gelu(self.norm2(r)))
        return self.proj(F.gelu(self.norm_out(h)).flatten(1))  # (K, C)


class ValueEmbedding(nn.Module):
    """W · [y, sin(k pi y), cos(k pi y)]_{k=1..K} for continuous-bin tokens (y: the bin centre), 0 elsewhere."""

    def __init__(self, c):
        super().__init__()
        self.offset, self.bins, self.frequencies = c["continuous_offset"], c["continuous_bins"], c["value_frequencies"]
        self.proj = nn.Linear(2 * self.frequencies + 1, c["model_dim"], bias=False)

    def forward(self, tokens):  # (B, T) -> (B, T, C)
        bin_ = tokens - self.offset
        is_value = ((bin_ >= 0) & (bin_ < self.bins)).unsqueeze(-1).float()
        y = ((bin_.float() + 0.5) / (self.bins / 2.0) - 1.0).unsqueeze(-1)
        k = torch.arange(1, self.frequencies + 1, dtype=torch.float32, device=tokens.device) * math.pi
        angles = y * k
        return self.proj(torch.cat([y, angles.sin(), angles.cos()], dim=-1) * is_value)


class Generalist(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = self.config = config
        if c.get("dropout", 0) != 0:
            raise ValueError(f"dropout {c['dropout']}: the peer implements dropout 0 only (every preset's)")
        self.token_embedding = nn.Embedding(c["vocab_size"], c["model_dim"])
        self.patch_embedding = PatchEmbedding(c)
        self.patch_row_embedding = nn.Embedding(c["max_image_rows"], c["model_dim"])
        self.patch_col_embedding = nn.Embedding(c["max_image_cols"], c["model_dim"])
        self.local_position_embedding = nn.Embedding(c["max_local_positions"], c["model_dim"])
        self.value_embedding = ValueEmbedding(c) if c["value_embedding"] == "fourier" else None
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.final_norm = nn.LayerNorm(c["model_dim"])
        self.head = None if c["tie_embeddings"] else nn.Linear(c["model_dim"], c["vocab_size"], bias=False)

    def embed(self, batch):
        tokens = batch["tokens"]
        b, t = tokens.shape
        x = self.token_embedding(tokens)
        if self.value_embedding is not None:
            x = x + self.value_embedding(tokens)
        if batch["patch_positions"].numel() > 0:
            patches = (self.patch_embedding(batch["patches"]) + self.patch_row_embedding(batch["patch_rows"])
                       + self.patch_col_embedding(batch["patch_cols"]))
            x = x.reshape(b * t, -1).index_copy(0, batch["patch_positions"], patches.to(x.dtype)).view(b, t, -1)
        return x + self.local_position_embedding(batch["local_positions"])

    def logits(self, h):
        if self.head is not None:
            return self.head(h)
        table = self.token_embedding.weight
        c = self.config
        off, bins = c["continuous_offset"], c["continuous_bins"]
        if c["value_head"] and self.value_embedding is not None and off + bins <= table.shape[0]:
            ids = torch.arange(off, off + bins, device=h.device).unsqueeze(0)
            rows = self.value_embedding(ids).squeeze(0).to(table.dtype)
            table = torch.cat([table[:off], table[off:off + bins] + rows, table[off + bins:]], dim=0)
        return F.linear(h, table)

    def forward(self, batch):  # -> (B, T, V)
        x = self.embed(batch)
        rope = rope_tables(self.config, x.shape[1], x.device) if self.config["attention_positions"] == "rope" else None
        for block in self.blocks:
            x = block(x, rope)
        return self.logits(self.final_norm(x))
