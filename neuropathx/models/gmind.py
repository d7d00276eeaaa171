"""G-MIND-style baseline (Ghosal et al. 2021; METHOD.md §6), written from the description.

Each modality passes a learnable per-feature dropout (a relaxed-Bernoulli "concrete" mask
whose keep probability per feature is a parameter: the feature-importance mask), then its
own encoder into a shared latent space (the latent code is the mean of the two modality
codes). Decoders reconstruct each modality from the latent code, a classifier reads it.

Loss = weighted BCE + λ_image · MSE(imaging) + λ_genetics · MSE(genetics)
       + λ_dropout · mean keep probability (sparsity on the dropout probabilities).

Weights: image 1e-4, genetics 1e-3, dropout 1e-3 (METHOD.md). Pure module, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from neuropathx.models.losses import classification_loss

TERM_NAMES = ("loss_recon_image", "loss_recon_genetics", "loss_dropout")


@dataclass
class GMindConfig:
    """Shapes, widths and loss weights of :class:`GMind`."""

    n_pathways: int
    n_regions: int
    n_measures: int = 4
    hidden: int = 64
    latent: int = 16
    keep_init: float = 0.9  # initial keep probability of every feature
    temperature: float = 0.1  # of the relaxed Bernoulli mask
    lambda_image: float = 1e-4
    lambda_genetics: float = 1e-3
    lambda_dropout: float = 1e-3
    leaky_slope: float = 0.2

    def __post_init__(self) -> None:
        for name in ("n_pathways", "n_regions", "n_measures", "hidden", "latent"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GMindConfig.{name} must be a positive int, got {value!r}")
        if not 0 < self.keep_init < 1 or self.temperature <= 0:
            raise ValueError("GMindConfig.keep_init must be in (0, 1), temperature > 0")
        for name in ("lambda_image", "lambda_genetics", "lambda_dropout"):
            if getattr(self, name) < 0:
                raise ValueError(f"GMindConfig.{name} must be >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


class FeatureDropout(nn.Module):
    """Per-feature dropout with a learnable keep probability ``sigmoid(logit)``.

    Training: a relaxed Bernoulli mask ``sigmoid((logit + log u - log(1-u)) / t)`` (u
    uniform), so the keep probabilities get gradients; evaluation: the expected mask.
    """

    def __init__(self, n_features: int, keep_init: float, temperature: float):
        super().__init__()
        self.keep_logit = nn.Parameter(
            torch.full((n_features,), math.log(keep_init / (1 - keep_init)))
        )
        self.temperature = temperature

    @property
    def keep_probability(self) -> torch.Tensor:
        return torch.sigmoid(self.keep_logit)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x * self.keep_probability
        u = torch.rand_like(x).clamp_(1e-6, 1 - 1e-6)
        noise = torch.log(u) - torch.log1p(-u)
        return x * torch.sigmoid((self.keep_logit + noise) / self.temperature)


def _mlp(n_in: int, hidden: int, n_out: int, slope: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.LeakyReLU(slope), nn.Linear(hidden, n_out))


class GMind(nn.Module):
    """``forward(genetics (B, P), imaging (B, R, F))`` → ``(logits (B,), None)``."""

    has_attention = False
    term_names = TERM_NAMES

    def __init__(self, config: GMindConfig):
        super().__init__()
        self.config = c = config
        n_img = c.n_regions * c.n_measures
        self.drop_genetics = FeatureDropout(c.n_pathways, c.keep_init, c.temperature)
        self.drop_imaging = FeatureDropout(n_img, c.keep_init, c.temperature)
        self.encode_genetics = _mlp(c.n_pathways, c.hidden, c.latent, c.leaky_slope)
        self.encode_imaging = _mlp(n_img, c.hidden, c.latent, c.leaky_slope)
        self.decode_genetics = _mlp(c.latent, c.hidden, c.n_pathways, c.leaky_slope)
        self.decode_imaging = _mlp(c.latent, c.hidden, n_img, c.leaky_slope)
        self.classifier = _mlp(c.latent, c.hidden, 1, c.leaky_slope)

    def encode(self, genetics: torch.Tensor, imaging: torch.Tensor) -> torch.Tensor:
        """Shared latent code (B, latent): the mean of the two modality codes."""
        flat = imaging.reshape(len(imaging), -1)
        z_g = self.encode_genetics(self.drop_genetics(genetics))
        z_i = self.encode_imaging(self.drop_imaging(flat))
        return 0.5 * (z_g + z_i)

    def forward(self, genetics: torch.Tensor, imaging: torch.Tensor):
        return self.classifier(self.encode(genetics, imaging)).squeeze(-1), None

    def loss_terms(
        self, genetics: torch.Tensor, imaging: torch.Tensor, labels: torch.Tensor, pos_weight: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Total loss, BCE and the (3,) unweighted extra terms of :data:`TERM_NAMES`."""
        c = self.config
        z = self.encode(genetics, imaging)
        logits = self.classifier(z).squeeze(-1)
        bce = classification_loss(logits, labels, pos_weight)
        rec_img = F.mse_loss(self.decode_imaging(z), imaging.reshape(len(imaging), -1))
        rec_gen = F.mse_loss(self.decode_genetics(z), genetics)
        keep = torch.cat([self.drop_genetics.keep_probability, self.drop_imaging.keep_probability])
        sparsity = keep.mean()
        total = (
            bce + c.lambda_image * rec_img + c.lambda_genetics * rec_gen
            + c.lambda_dropout * sparsity
        )  # fmt: skip
        return total, bce, torch.stack([rec_img, rec_gen, sparsity])

    def feature_importance(self, pathways: list[str], imaging_columns: list[str]) -> dict:
        """Keep probability per input feature, genetics then imaging, as table columns."""
        keep_g = self.drop_genetics.keep_probability.detach().cpu().double().numpy()
        keep_i = self.drop_imaging.keep_probability.detach().cpu().double().numpy()
        return {
            "modality": ["genetics"] * len(keep_g) + ["imaging"] * len(keep_i),
            "feature": list(pathways) + list(imaging_columns),
            "keep_probability": [*keep_g.tolist(), *keep_i.tolist()],
        }
