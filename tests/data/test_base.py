"""The uint8 <-> float mapping every image passes through: [0, 255] -> [-1, 1] affinely, and back with
stylegan2-ada's rounding (x * 127.5 + 128, clamped), so an image survives the round trip exactly."""

import torch

from gan_zoo.data.base import to_float, to_uint8


def test_to_float_maps_0_255_affinely_onto_minus_one_one():
    x = torch.arange(256, dtype=torch.uint8)
    y = to_float(x)
    assert y.dtype == torch.float32
    assert y[0] == -1.0 and y[255] == 1.0
    torch.testing.assert_close(y, torch.arange(256, dtype=torch.float64).div(127.5).sub(1).float())
    points = torch.tensor([[0.25, -3.0]])
    assert torch.equal(to_float(points), points)  # float data (2-D points) passes through


def test_to_uint8_rounds_and_clamps():
    x = torch.tensor([-2.0, -1.0, -0.999, 0.0, 0.5 / 127.5 - 1e-4, 1.0 - 0.6 / 127.5, 1.0, 3.0])
    assert to_uint8(x).tolist() == [0, 0, 0, 128, 128, 254, 255, 255]
    assert to_uint8(x).dtype == torch.uint8


def test_round_trip_is_exact_for_every_value():
    x = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    assert torch.equal(to_uint8(to_float(x)), x)
