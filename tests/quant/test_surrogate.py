import torch

from bwma_exp.quant.bwma import G, g


def test_g_matches_eq7_including_the_negative_lobe():
    x = torch.tensor([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.0001])
    expected = torch.tensor([0.0, -1 / 3, 5 / 3 - 0.5, 5 / 3, 5 / 3 - 0.5, -1 / 3, 0.0])
    torch.testing.assert_close(g(x), expected, rtol=0, atol=1e-7)


def test_G_matches_eq8_and_saturates_at_plus_minus_one():
    x = torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])

    def inner(v):
        return -2 / 3 * v ** 3 + 5 / 3 * v

    expected = torch.tensor([-1.0, inner(-1.0), inner(-0.5), 0.0, inner(0.5), inner(1.0), 1.0])
    torch.testing.assert_close(G(x), expected, rtol=0, atol=1e-7)


def test_g_is_the_derivative_of_G():
    x = torch.linspace(-1.2, 1.2, 25, dtype=torch.float64, requires_grad=True)
    G(x).sum().backward()
    torch.testing.assert_close(x.grad, g(x.detach()))


def test_g_integrates_to_the_jump_of_sign():
    x = torch.linspace(-1, 1, 200001, dtype=torch.float64)
    assert abs(torch.trapezoid(g(x), x).item() - 2.0) < 1e-9
