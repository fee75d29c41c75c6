import pytest

from fer_core import taxonomy as tx


def test_label_sets_are_complete_and_unique():
    assert len(tx.EMONET40) == 40 == len(set(tx.EMONET40))
    grouped = [c for members in tx.EMONET40_GROUPS.values() for c in members]
    assert sorted(grouped) == sorted(tx.EMONET40) and len(tx.EMONET40_GROUPS) == 7
    assert set(tx.EMONET40_TO_BASIC8) == set(tx.EMONET40)
    assert all(v is None or v in tx.BASIC8 for v in tx.EMONET40_TO_BASIC8.values())
    for name in ("basic7", "basic8", "affectnet8", "rafdb7", "abaw8"):
        labels = tx.label_set(name)
        assert len(set(labels)) == len(labels)
    assert set(tx.AFFECTNET8) == set(tx.BASIC8) and set(tx.RAFDB7) == set(tx.BASIC7)
    with pytest.raises(ValueError, match="unknown label set"):
        tx.label_set("basic9")


def test_coarse_valence_view():
    assert tx.emonet_to_valence("Amusement") == "positive"
    assert tx.emonet_to_valence("Sadness") == "negative"
    assert tx.emonet_to_valence("Pain") == "negative"  # physical state summarised as sad
    assert tx.emonet_to_valence("Confusion") == "neutral"
    with pytest.raises(ValueError):
        tx.emonet_to_valence("Joy")


def test_au_sets_map_to_regions():
    assert tx.BP4D12 == (1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24) and tx.DISFA8 == (1, 2, 4, 6, 9, 12, 25, 26)
    assert all(tx.AU_REGION[a] in tx.ALL_REGIONS for a in set(tx.BP4D12) | set(tx.DISFA8))
    assert all(tx.coarse_region(tx.AU_REGION[a]) in tx.FACE_REGIONS for a in tx.AU_REGION)
    assert tx.AU_REGION[1] == "inner_brows" and tx.AU_REGION[2] == "outer_brows" and tx.AU_REGION[12] == "mouth_corners"


def test_every_au_with_a_region_has_its_facs_name_and_titles_read_as_facs_does():
    from fer_core.taxonomy import AU_NAMES, AU_REGION, BP4D12, DISFA8, au_title

    assert set(AU_REGION) <= set(AU_NAMES) and set(BP4D12) | set(DISFA8) <= set(AU_NAMES)
    assert au_title("AU12") == "AU12 lip corner puller" and au_title("AU1") == "AU1 inner brow raiser"
    assert au_title("AU99") == "AU99" and au_title("smile") == "smile"  # unknown labels stay as they are
