import torch

from fer_core.models.layers import SamePadMaxPool2d, SeparableConv2d, tf_same_pads


def test_tf_same_pads_match_tensorflow_rule():
    # TensorFlow SAME: out = ceil(in / s); total = max((out - 1) s + k - in, 0); extra pixel goes after.
    assert tf_same_pads(60, 3, 2) == (0, 1)
    assert tf_same_pads(15, 3, 2) == (1, 1)
    assert tf_same_pads(8, 1, 2) == (0, 0)


def test_same_pad_maxpool_windows_start_at_zero():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    out = SamePadMaxPool2d(3, 2)(x)
    # windows rows/cols [0..2] and [2..3]+pad -> maxima 10, 11, 14, 15
    assert out.flatten().tolist() == [10.0, 11.0, 14.0, 15.0]


def test_fused_separable_conv_is_exact():
    torch.manual_seed(0)
    sep = SeparableConv2d(4, 6).double()
    x = torch.randn(2, 4, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(sep.fused()(x), sep(x), rtol=0, atol=1e-12)
