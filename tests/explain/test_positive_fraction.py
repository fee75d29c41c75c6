"""An all-blue map names no region: the share of |relevance| that speaks for the class, by hand."""

from __future__ import annotations

import numpy as np
import torch

from fer_core.explain import MOSTLY_NEGATIVE, positive_fraction, region_share


def test_positive_fraction_by_hand():
    rel = np.array([[3.0, -1.0], [0.0, -6.0]])
    assert positive_fraction(rel) == 3.0 / 10.0
    assert positive_fraction(torch.tensor(rel)[None].repeat(3, 1, 1) / 3) == 3.0 / 10.0  # channels summed first
    assert positive_fraction(np.zeros((4, 4))) == 0.0
    assert positive_fraction(np.ones((2, 2))) == 1.0


def test_a_map_with_a_positive_sliver_is_mostly_negative_although_its_shares_name_a_region():
    rel = -np.ones((8, 8))
    rel[0, 0] = 0.5  # the only red pixel, in the "forehead"
    masks = {"forehead": np.zeros((8, 8), bool), "mouth": np.zeros((8, 8), bool)}
    masks["forehead"][:2] = True
    masks["mouth"][6:] = True
    assert region_share(rel, masks)["forehead"] == 1.0  # what the page used to report: "forehead 100 %"
    assert positive_fraction(rel) < MOSTLY_NEGATIVE


def test_cancellation_by_hand_and_on_a_map_of_one_sign():
    from fer_core.explain import UNSTABLE_CANCELLATION, cancellation

    assert cancellation(np.array([[2.0, 1.0], [0.0, 1.0]])) == 1.0  # one sign: nothing cancels
    assert cancellation(np.array([[500.0, -499.0]])) == 999.0  # |500| + |-499| over the net 1
    assert cancellation(np.array([[500.0, -499.0]])) > UNSTABLE_CANCELLATION
    # channels are summed first: opposite channels at one pixel cancel there, as in the summed heatmap
    assert cancellation(np.array([[[1.0]], [[1.0]], [[-1.0]]])) == 1.0
