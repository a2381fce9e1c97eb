import pytest

from quant.spec import PRESETS, SpecError, check_act_bits, default_selectors, load_spec_yaml, resolve_spec


def test_deit_presets_match_the_paper():
    for name, dim, heads in (("deit_tiny", 192, 3), ("deit_small", 384, 6), ("deit_base", 768, 12)):
        s = PRESETS[name]
        assert (s.img_size, s.patch_size, s.embed_dim, s.num_heads, s.depth, s.mlp_dim, s.num_classes) == \
            (224, 16, dim, heads, 12, 4 * dim, 1000)
        assert s.num_tokens == 197


def test_custom_spec_from_yaml(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("img_size: 32\nin_chans: 3\npatch_size: 4\nembed_dim: 64\ndepth: 4\nnum_heads: 4\n"
                 "mlp_ratio: 2\nnum_classes: 10\n")
    s = resolve_spec(str(f))
    assert s.name == "mine" and s.num_tokens == 65 and s.mlp_dim == 128


@pytest.mark.parametrize("text, needle", [
    ("img_size: 32\n", "missing key"),
    ("img_size: 32\nin_chans: 3\npatch_size: 4\nembed_dim: 64\ndepth: 4\nnum_heads: 4\nmlp_ratio: 2\n"
     "num_classes: 10\ncolour: red\n", "unknown key"),
    ("img_size: 30\nin_chans: 3\npatch_size: 4\nembed_dim: 64\ndepth: 4\nnum_heads: 4\nmlp_ratio: 2\n"
     "num_classes: 10\n", "not a multiple of patch_size"),
    ("img_size: 32\nin_chans: 3\npatch_size: 4\nembed_dim: 64\ndepth: four\nnum_heads: 4\nmlp_ratio: 2\n"
     "num_classes: 10\n", "'depth' must be an integer"),
    ("[1, 2", "not valid yaml"),
    ("- a\n- b\n", "expected a mapping"),
])
def test_bad_spec_yaml_names_the_problem(tmp_path, text, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(SpecError, match=needle) as e:
        load_spec_yaml(f)
    assert "bad.yaml" in str(e.value)


def test_unknown_model_and_bits():
    with pytest.raises(SpecError, match="unknown model 'deit_huge'"):
        resolve_spec("deit_huge")
    for bad in (1, 9, 0):
        with pytest.raises(SpecError, match="2..8"):
            check_act_bits(bad)


def test_default_selectors_follow_heatvit():
    assert [(p.block, p.keep_ratio) for p in default_selectors(12)] == [(3, 0.7), (6, 0.49), (9, 0.343)]
    assert [p.block for p in default_selectors(6)] == [2, 3, 4]
