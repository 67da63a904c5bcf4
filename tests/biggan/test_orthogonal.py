"""BigGAN's off-diagonal orthogonal regularisation and orthogonal initialisation."""

import pytest
import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.regularizers.base import GStepInputs
from gan_zoo.regularizers.orthogonal import OrthogonalInit, OrthogonalRegularizer, off_diagonal_gram_sq


def by_hand(w: torch.Tensor) -> torch.Tensor:
    """sum over pairs i != j of (w_i . w_j)^2, filters w_i = rows of W reshaped to [out, fan_in]."""
    rows = w.reshape(w.shape[0], -1)
    total = torch.zeros((), dtype=w.dtype)
    for i in range(rows.shape[0]):
        for j in range(rows.shape[0]):
            if i != j:
                total = total + (rows[i] @ rows[j]) ** 2
    return total


@pytest.mark.parametrize("shape", [(5, 3, 3, 3), (40, 3), (3, 40)])  # conv; tall (W^T W used); wide
def test_penalty_equals_the_formula_on_a_random_weight(shape):
    torch.manual_seed(0)
    w = torch.randn(shape, dtype=torch.float64)
    assert torch.allclose(off_diagonal_gram_sq(w), by_hand(w), rtol=1e-10)


def test_penalty_and_its_gradient_vanish_on_orthogonal_rows_whatever_their_norms():
    q = torch.linalg.qr(torch.randn(12, 6, dtype=torch.float64))[0].T  # 6 orthonormal rows of length 12
    w = (q * torch.tensor([0.5, 1.0, 2.0, 3.0, 1.0, 7.0], dtype=torch.float64)[:, None]).requires_grad_()
    r = off_diagonal_gram_sq(w)  # the diagonal (filter norms) is not penalised: zero for any row norms
    (grad,) = torch.autograd.grad(r, w)
    assert float(r) < 1e-20 and float(grad.abs().max()) < 1e-12


def test_gradient_is_four_beta_off_diagonal_gram_times_w():
    torch.manual_seed(1)
    layer = nn.Linear(7, 5, bias=False).double()
    G = nn.Sequential(layer, nn.Embedding(10, 4).double())  # the embedding must not be penalised
    reg = OrthogonalRegularizer(beta=1e-4)
    term = reg(GStepInputs(G, None, None, None, None, None))["ortho"]
    term.backward()
    w = layer.weight.detach()
    expected = 4 * 1e-4 * ((w @ w.T) * (1 - torch.eye(5, dtype=w.dtype))) @ w  # BGP's utils.ortho adds half
    assert torch.allclose(layer.weight.grad, expected, rtol=1e-10)
    assert G[1].weight.grad is None
    assert float(term) == pytest.approx(1e-4 * float(by_hand(w)), rel=1e-10)


def test_orthogonal_init_transform_and_its_errors():
    G = nn.Sequential(nn.Linear(20, 8), nn.Conv2d(3, 4, 3))
    G = OrthogonalInit(nets=["G"]).transform_generator(G)
    w0, w1 = G[0].weight.detach(), G[1].weight.detach().reshape(4, -1)
    assert torch.allclose(w0 @ w0.T, torch.eye(8), atol=1e-5) and torch.allclose(w1 @ w1.T, torch.eye(4), atol=1e-5)
    D = nn.Linear(3, 3)
    before = D.weight.clone()
    assert torch.equal(OrthogonalInit(nets=["G"]).transform_discriminator(D).weight, before)
    with pytest.raises(ConfigError, match="ortho_init.nets"):
        OrthogonalInit(nets=["X"])
    with pytest.raises(ConfigError, match="ortho.beta"):
        OrthogonalRegularizer(beta=-1.0)
