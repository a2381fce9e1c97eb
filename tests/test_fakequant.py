import torch

from quant.fakequant import ActQuant, binarize, int8_weights, quantize, round_half_up


def test_round_half_up_matches_the_hardware_convention():
    x = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.49])
    assert round_half_up(x).tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0, 2.0]


def test_binarize_is_sign_times_mean_abs_per_channel():
    w = torch.tensor([[0.5, -1.5, 0.0], [-0.2, -0.4, 0.6]], requires_grad=True)
    b = binarize(w)
    assert torch.allclose(b, torch.tensor([[2 / 3, -2 / 3, 2 / 3], [-0.4, -0.4, 0.4]]))
    b.sum().backward()  # straight-through inside [-1, 1], zero outside
    assert w.grad.tolist() == [[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]


def test_int8_weights_per_channel():
    w = torch.tensor([[1.0, -0.5], [0.01, 0.02]])
    q = int8_weights(w)
    assert q[0, 0] == 1.0 and torch.allclose(q[1], torch.tensor([0.01, 0.02]), atol=1e-4)


def test_quantize_clamps_and_passes_gradient():
    x = torch.tensor([-10.0, -0.26, 0.24, 10.0], requires_grad=True)
    q = quantize(x, 0.5, -4, 3)
    assert q.tolist() == [-2.0, -0.5, 0.0, 1.5]
    q.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_calibrated_scales():
    q = ActQuant()
    q.bits, q.mode = 4, "observe"
    q(torch.linspace(-1, 1, 1000))
    q.finish_calibration()
    assert 0.3 / 7 <= float(q.scale) <= 1.0 / 7
    p = ActQuant("pow2")
    p.bits, p.mode = 8, "observe"
    p(torch.tensor([3.0]))
    p.finish_calibration()
    assert float(p.scale) == 2.0 ** -5 and p.int_bits == 3  # ap_fixed<8,3> holds 3.0
    f = ActQuant("fixed", signed=False)
    f.bits, f.mode = 6, "observe"
    f.finish_calibration()
    assert float(f.scale) == 2.0 ** -6 and (f.lo, f.hi) == (0, 63)
