"""BigGAN / BigGAN-deep: parameter counts of the presets against the reference, shapes at every block, the
cBN conditioning wiring, the projection term and spectral normalisation."""

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from gan_zoo.models import biggan, biggan_deep
from gan_zoo.models.biggan_layers import ConditionalBatchNorm2d, SelfAttention
from tests.conftest import compose_run

# (model preset, G params, D params, tolerance): reference section 8 (BigGAN-PyTorch's archs, StudioGAN's logs)
COUNTS = [
    ("biggan/imagenet128", 70_433_988, 87_982_370, 0.0),
    ("biggan/imagenet64", 70_377_348, 45_511_970, 0.0),
    ("biggan/cifar10", 4_304_387, 4_207_361, 0.0),
    ("biggan/cifar10_studiogan", 9_416_196, 2_415_170, 0.0),
    ("biggan_deep/imagenet128", 50_240_000, 34_590_000, 0.005),  # the reference rounds to 0.01 M
]


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def build_preset(preset, **extra):
    cfg = compose_run([f"model={preset}"]).model
    kw = {"init": None, "spectral_norm": False, **extra}
    return instantiate(cfg.generator, **kw), instantiate(cfg.discriminator, **kw)


@pytest.mark.parametrize("preset,g,d,tol", COUNTS)
def test_preset_parameter_counts_equal_the_reference(preset, g, d, tol):
    with torch.device("meta"):  # counts only: no memory, no init (SN adds buffers, no parameters)
        G, D = build_preset(preset)
    assert abs(n_params(G) - g) <= tol * g and abs(n_params(D) - d) <= tol * d, (n_params(G), n_params(D))
    if preset == "biggan/imagenet128":  # the issue's +-0.5 % acceptance, and exactly
        assert (n_params(G), n_params(D)) == (70_433_988, 87_982_370)


def test_spectral_norm_and_init_keep_the_count():
    cfg = compose_run(["model=biggan/cifar10"]).model
    G, D = instantiate(cfg.generator), instantiate(cfg.discriminator)
    assert (n_params(G), n_params(D)) == (4_304_387, 4_207_361)


def block_shapes(net, x, *args):
    shapes = []
    mods = [m for m in net.modules() if isinstance(m, (biggan.GBlock, biggan.DBlock, SelfAttention,
                                                         biggan_deep.DeepGBlock, biggan_deep.DeepDBlock))]
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append((type(m).__name__, tuple(o.shape[1:]))))
             for m in mods]
    out = net(x, *args)
    for h in hooks:
        h.remove()
    return shapes, out


def test_biggan_128_shapes_at_every_block():
    ch, n = 4, 2
    G = biggan.Generator(128, z_dim=120, c_dim=5, ch=ch, attention=[64])
    D = biggan.Discriminator(128, c_dim=5, ch=2 * ch, attention=[64])
    c = F.one_hot(torch.tensor([0, 3]), 5).float()
    shapes, img = block_shapes(G, torch.randn(n, 120), c)
    assert shapes == [("GBlock", (64, 8, 8)), ("GBlock", (32, 16, 16)), ("GBlock", (16, 32, 32)),
                      ("GBlock", (8, 64, 64)), ("SelfAttention", (8, 64, 64)), ("GBlock", (4, 128, 128))]
    assert img.shape == (n, 3, 128, 128) and img.abs().max() <= 1
    shapes, logits = block_shapes(D, img, c)
    assert shapes == [("DBlock", (8, 64, 64)), ("SelfAttention", (8, 64, 64)), ("DBlock", (16, 32, 32)),
                      ("DBlock", (32, 16, 16)), ("DBlock", (64, 8, 8)), ("DBlock", (128, 4, 4)),
                      ("DBlock", (128, 4, 4))]
    assert logits.shape == (n,) and D.features(img, c).shape == (n, 128)


def test_biggan_deep_shapes_and_tiny_preset_shapes():
    G = biggan_deep.Generator(64, z_dim=16, c_dim=3, ch=4, shared_dim=8, attention=[32])
    c = F.one_hot(torch.tensor([1, 2]), 3).float()
    shapes, img = block_shapes(G, torch.randn(2, 16), c)
    assert [s for _, s in shapes] == [(64, 4, 4), (64, 8, 8), (64, 8, 8), (32, 16, 16), (32, 16, 16),
                                      (16, 32, 32), (16, 32, 32), (16, 32, 32), (8, 64, 64)]
    D = biggan_deep.Discriminator(64, c_dim=3, ch=4, attention=[32])
    shapes, logits = block_shapes(D, img, c)
    assert [s for _, s in shapes] == [(8, 32, 32), (8, 32, 32), (8, 32, 32), (16, 16, 16), (16, 16, 16),
                                      (32, 8, 8), (32, 8, 8), (64, 4, 4), (64, 4, 4)]
    assert img.shape == (2, 3, 64, 64) and logits.shape == (2,)
    cfg = compose_run(["model=biggan/tiny", "dataset=stacked_digits", "dataset.resolution=16"]).model
    G, D = instantiate(cfg.generator), instantiate(cfg.discriminator)
    c = F.one_hot(torch.tensor([7, 999]), 1000).float()
    shapes, img = block_shapes(G, torch.randn(2, 24), c)
    assert [s for _, s in shapes] == [(32, 8, 8), (32, 8, 8), (32, 16, 16)] and img.shape == (2, 3, 16, 16)
    shapes, _ = block_shapes(D, img, c)
    assert [s for _, s in shapes] == [(32, 8, 8), (32, 8, 8), (32, 4, 4), (32, 4, 4)]


def cbn_affines(G, z, c):
    """(gain, bias) of every cBN of G for one forward, in module order."""
    out = []
    hooks = [m.register_forward_hook(lambda m, i, o: out.append(m.affine(i[1])))
             for m in G.modules() if isinstance(m, ConditionalBatchNorm2d)]
    with torch.no_grad():
        G(z, c)
    for h in hooks:
        h.remove()
    return out


def test_cbn_gains_follow_the_class_and_their_own_z_chunk_only():
    torch.manual_seed(0)
    G = biggan.Generator(32, z_dim=40, c_dim=10, ch=2, shared_dim=6, attention=[16]).eval()
    z, c = torch.randn(3, 40), F.one_hot(torch.tensor([1, 4, 9]), 10).float()
    base = cbn_affines(G, z, c)
    per_block = len(base) // 3  # 3 up blocks, 2 cBNs each, chunk i + 1 conditions block i
    assert G.chunk == 10 and per_block == 2

    def changed(z2, c2):
        return [not (torch.allclose(g, g0) and torch.allclose(b, b0))
                for (g, b), (g0, b0) in zip(cbn_affines(G, z2, c2), base)]

    for chunk in range(4):
        z2 = z.clone()
        z2[:, chunk * 10:(chunk + 1) * 10] += 1.0
        expect = [chunk >= 1 and k // per_block == chunk - 1 for k in range(len(base))]
        assert changed(z2, c) == expect, chunk  # chunk 0 only feeds the first linear layer
    assert all(changed(z, F.one_hot(torch.tensor([2, 4, 9]), 10).float()))  # sample 0's class
    x_only = cbn_affines(G, z, c)  # same inputs, a second forward: identical (nothing else enters)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(x_only, base))


def test_biggan_deep_cbn_sees_the_whole_z():
    G = biggan_deep.Generator(64, z_dim=8, c_dim=3, ch=4, shared_dim=4, attention=[]).eval()
    z, c = torch.randn(2, 8), F.one_hot(torch.tensor([0, 2]), 3).float()
    base = cbn_affines(G, z, c)
    z2 = z.clone()
    z2[:, 7] += 1.0
    assert all(not torch.allclose(a[0], b[0]) for a, b in zip(cbn_affines(G, z2, c), base))


def test_projection_term_is_the_inner_product_with_the_class_embedding():
    torch.manual_seed(1)
    D = biggan.Discriminator(16, c_dim=7, ch=2, attention=[]).eval()
    x, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 6, 3, 3])
    c = F.one_hot(y, 7).float()
    h = D.features(x, c)
    by_hand = torch.stack([sum(D.out.embed.weight[y[i], j] * h[i, j] for j in range(h.shape[1]))
                           for i in range(4)])
    unconditional = D.out.linear(h).squeeze(1)
    assert torch.allclose(D(x, c) - unconditional, by_hand, atol=1e-5)
    assert not torch.allclose(D(x, F.one_hot(torch.tensor([1, 6, 3, 3]), 7).float()), D(x, c))


def test_spectrally_normalised_weights_have_unit_top_singular_value():
    torch.manual_seed(2)
    G = biggan.Generator(16, z_dim=24, c_dim=5, ch=4, shared_dim=8, attention=[8])
    D = biggan.Discriminator(16, c_dim=5, ch=4, attention=[8])
    sn_layers = []
    for net in (G, D):
        for m in net.modules():
            if torch.nn.utils.parametrize.is_parametrized(m, "weight"):
                with torch.no_grad():
                    m.parametrizations.weight.original.normal_().mul_(3.0)  # far from unit norm
                sn_layers.append(m)
    assert not torch.nn.utils.parametrize.is_parametrized(G.shared, "weight")  # G's embedding: no SN
    assert torch.nn.utils.parametrize.is_parametrized(D.out.embed, "weight")  # D's projection embedding: SN
    assert len(sn_layers) > 20
    for m in sn_layers:
        m.train()
        for _ in range(200):  # power iterations, as training steps run them
            m.weight  # noqa: B018
        m.eval()
        w = m.weight.detach()
        sigma = torch.linalg.svdvals(w.reshape(w.shape[0], -1)).max()
        assert abs(float(sigma) - 1) < 1e-3, m


def test_class_interpolation_blends_the_shared_embedding():
    torch.manual_seed(3)
    G = biggan.Generator(16, z_dim=24, c_dim=6, ch=2, shared_dim=4, attention=[]).eval()
    z = torch.randn(24)
    imgs = biggan.interpolate_classes(G, z, 1, 4, steps=5)
    eye = torch.eye(6)
    with torch.no_grad():
        assert torch.allclose(imgs[0], G(z[None], eye[1:2])[0], atol=1e-6)
        assert torch.allclose(imgs[-1], G(z[None], eye[4:5])[0], atol=1e-6)
        middle = G.synthesize(z[None], 0.5 * (G.shared.weight[1] + G.shared.weight[4])[None])[0]
    assert torch.allclose(imgs[2], middle, atol=1e-6) and not torch.allclose(imgs[1], imgs[3])
