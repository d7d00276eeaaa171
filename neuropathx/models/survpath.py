"""SurvPATH-style baseline (after Jaume et al., CVPR 2024; METHOD.md §6).

Written from METHOD.md's description only (the original code is GPLv3 and was not read):

* pathway tokens: one small MLP per pathway, ``t_j = LeakyReLU(p_j a_j + b_j) W_j + c_j``
  (vectorised: the P MLPs are batched weights (P, h), (P, h, d));
* region tokens: one linear map of the F measures, ``u_r = I_r W + w``;
* one attention layer over the P + R tokens (softmax attention, scaled by √d) in which
  pathways attend to pathways and regions and regions attend to pathways only; a residual
  connection and LayerNorm;
* each token type mean-pooled, the two means concatenated, MLP head → one logit, BCE.

The explanation is the pathway → region block of the attention weights, (B, P, R).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from neuropathx.models.losses import classification_loss


@dataclass
class SurvPathConfig:
    """Shapes and widths of :class:`SurvPath`."""

    n_pathways: int
    n_regions: int
    n_measures: int = 4
    d_token: int = 32
    pathway_hidden: int = 8
    hidden: int = 32
    dropout: float = 0.25

    def __post_init__(self) -> None:
        for name in (
            "n_pathways",
            "n_regions",
            "n_measures",
            "d_token",
            "pathway_hidden",
            "hidden",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SurvPathConfig.{name} must be a positive int, got {value!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"SurvPathConfig.dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def attention_mask(n_pathways: int, n_regions: int) -> torch.Tensor:
    """(P+R, P+R) bool, True where a query token may attend to a key token: pathway rows
    see every token, region rows see pathways only."""
    n = n_pathways + n_regions
    allowed = torch.ones(n, n, dtype=torch.bool)
    allowed[n_pathways:, n_pathways:] = False
    return allowed


class SurvPath(nn.Module):
    """``forward(genetics (B, P), imaging (B, R, F))`` → ``(logits (B,), attention (B, P, R))``."""

    has_attention = True
    term_names = ()

    def __init__(self, config: SurvPathConfig):
        super().__init__()
        self.config = c = config
        h, d = c.pathway_hidden, c.d_token
        bound_in, bound_out = 1.0, 1.0 / math.sqrt(h)  # nn.Linear's bounds for fan-in 1 and h
        self.pathway_in = nn.Parameter(torch.empty(c.n_pathways, h).uniform_(-bound_in, bound_in))
        self.pathway_in_bias = nn.Parameter(
            torch.empty(c.n_pathways, h).uniform_(-bound_in, bound_in)
        )
        self.pathway_out = nn.Parameter(
            torch.empty(c.n_pathways, h, d).uniform_(-bound_out, bound_out)
        )
        self.pathway_out_bias = nn.Parameter(
            torch.empty(c.n_pathways, d).uniform_(-bound_out, bound_out)
        )
        self.region = nn.Linear(c.n_measures, d)
        self.query = nn.Linear(d, d, bias=False)
        self.key = nn.Linear(d, d, bias=False)
        self.value = nn.Linear(d, d, bias=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Sequential(
            nn.Linear(2 * d, c.hidden), nn.ReLU(), nn.Dropout(c.dropout), nn.Linear(c.hidden, 1)
        )
        self.register_buffer("allowed", attention_mask(c.n_pathways, c.n_regions), persistent=False)

    def tokens(self, genetics: torch.Tensor, imaging: torch.Tensor) -> torch.Tensor:
        """(B, P+R, d): pathway tokens (one MLP per pathway) then region tokens."""
        hidden = F.leaky_relu(genetics[..., None] * self.pathway_in + self.pathway_in_bias, 0.2)
        pathways = torch.einsum("bph,phd->bpd", hidden, self.pathway_out) + self.pathway_out_bias
        return torch.cat([pathways, self.region(imaging)], dim=1)

    def attend(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked attention layer: new tokens (B, T, d) and weights (B, T, T)."""
        scores = self.query(x) @ self.key(x).transpose(1, 2) / math.sqrt(x.shape[-1])
        weights = torch.softmax(scores.masked_fill(~self.allowed, float("-inf")), dim=-1)
        return self.norm(x + weights @ self.value(x)), weights

    def forward(self, genetics: torch.Tensor, imaging: torch.Tensor):
        p = self.config.n_pathways
        x, weights = self.attend(self.tokens(genetics, imaging))
        pooled = torch.cat([x[:, :p].mean(1), x[:, p:].mean(1)], dim=-1)
        return self.head(pooled).squeeze(-1), weights[:, :p, p:]

    def loss_terms(
        self, genetics: torch.Tensor, imaging: torch.Tensor, labels: torch.Tensor, pos_weight: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Total loss (= weighted BCE), BCE and no extra terms."""
        logits, _ = self(genetics, imaging)
        bce = classification_loss(logits, labels, pos_weight)
        return bce, bce, bce.new_zeros(0)
