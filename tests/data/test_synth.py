"""The out-of-MNIST digit generator: seeded, balanced, sized as asked, both polarities, styles held out."""

import numpy as np
import pytest

from digitnet.data import synth
from digitnet.data.synth import fonts, handwritten, ink, skeletons


def need_fonts(split):
    if not fonts.available(split):
        pytest.skip(f"no {split} font families installed (apt-get install {' '.join(fonts.PACKAGES)})")


def test_same_seed_same_bytes_other_seed_differs():
    a, la = synth.digits(8, seed=3, sizes=(16, 28))
    b, lb = synth.digits(8, seed=3, sizes=(16, 28))
    c, _lc = synth.digits(8, seed=4, sizes=(16, 28))
    assert all(x.tobytes() == y.tobytes() and x.shape == y.shape for x, y in zip(a, b))
    assert np.array_equal(la, lb)
    assert any(x.shape != z.shape or x.tobytes() != z.tobytes() for x, z in zip(a, c))


def test_splits_draw_different_pictures():
    a, _ = synth.digits(4, split="train", seed=0, sizes=(28,))
    b, _ = synth.digits(4, split="heldout", seed=0, sizes=(28,))
    assert all(x.shape != y.shape or x.tobytes() != y.tobytes() for x, y in zip(a, b))


def test_labels_balanced_and_int64():
    _, labels = synth.digits(25, sizes=(16,))
    assert labels.dtype == np.int64 and labels.shape == (25,)
    counts = np.bincount(labels, minlength=10)
    assert counts.min() >= 2 and counts.max() <= 3


def test_sizes_polarity_and_dtype():
    pictures, _ = synth.digits(40, seed=1, sizes=(16, 64))
    borders = []
    for p in pictures:
        assert p.dtype == np.uint8 and p.ndim == 2
        assert max(p.shape) in (16, 64) and min(p.shape) >= 0.75 * max(p.shape) - 1
        borders.append(np.median(np.concatenate([p[0], p[-1], p[:, 0], p[:, -1]])))
    borders = np.array(borders)
    assert (borders > 128).sum() >= 10 and (borders < 128).sum() >= 3  # dark-on-light and light-on-dark


def test_ink_stands_out_from_the_paper():
    pictures, _ = synth.digits(20, seed=2, sizes=(28,))
    for p in pictures:
        assert int(p.max()) - int(p.min()) >= 60


def test_mnist_style_digits_are_prepared_like_to_mnist():
    from digitnet.data.preprocess import to_mnist

    images, labels = synth.mnist_style_digits(12, seed=5)
    assert images.dtype == np.uint8 and images.shape == (12, 28, 28) and labels.shape == (12,)
    assert images[:, :2].max() < 60 and images.max(axis=(1, 2)).min() > 200  # light ink on a dark field
    pictures, same_labels, _ = handwritten.generate(
        12, "train", 5, handwritten.MNIST_STYLE_SIZES, stream="mnist_style_digits"
    )
    assert np.array_equal(labels, same_labels)
    assert np.array_equal(images[3], np.rint(to_mnist(pictures[3]) * 255).astype(np.uint8))


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="split"):
        synth.digits(2, split="test")
    with pytest.raises(ValueError, match="sizes"):
        synth.digits(2, sizes=(4,))
    with pytest.raises(ValueError, match="seed"):
        synth.digits(2, seed=-1)
    with pytest.raises(ValueError, match="n must be"):
        synth.digits(-3)


def test_style_split_is_a_partition():
    train, heldout = fonts.families("train"), fonts.families("heldout")
    assert train and heldout and not {f.name for f in train} & {f.name for f in heldout}
    assert not {p for f in train for p in f.patterns} & {p for f in heldout for p in f.patterns}
    for d in range(10):
        kept = skeletons.variants(d, "train")
        assert skeletons.DIGIT_SKELETONS[d][skeletons.HELDOUT_VARIANT] not in kept
        assert skeletons.variants(d, "heldout") == (skeletons.DIGIT_SKELETONS[d][skeletons.HELDOUT_VARIANT],)
        assert len(kept) == len(skeletons.DIGIT_SKELETONS[d]) - 1


def _record(monkeypatch):
    """Record every font file rendered and every skeleton drawn."""
    paths, drawn = set(), []
    glyph, stroke_ink = fonts.glyph, ink.stroke_ink

    def spy_glyph(path, char):
        paths.add(path)
        return glyph(path, char)

    def spy_stroke(rng, skeleton, *a, **k):
        drawn.append(skeleton)
        return stroke_ink(rng, skeleton, *a, **k)

    monkeypatch.setattr(fonts, "glyph", spy_glyph)
    monkeypatch.setattr(handwritten, "stroke_ink", spy_stroke)
    return paths, drawn


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_a_split_never_renders_the_other_splits_styles(monkeypatch, split):
    need_fonts(split)
    other = "heldout" if split == "train" else "train"
    other_files = {f for fam in fonts.families(other) for f in fam.files()}
    paths, drawn = _record(monkeypatch)
    _, _, sources = handwritten.generate(60, split, 7, (16,))
    assert paths and not paths & other_files
    assert drawn
    heldout_skeletons = [skeletons.DIGIT_SKELETONS[d][skeletons.HELDOUT_VARIANT] for d in range(10)]
    assert all((s in heldout_skeletons) == (split == "heldout") for s in drawn)
    names = {f.name for f in fonts.families(split)}
    assert all(s in names or s.startswith("strokes v") for s in sources)
    assert any(s in names for s in sources) and any(s.startswith("strokes") for s in sources)


def test_every_font_family_has_every_digit():
    need_fonts("train")
    need_fonts("heldout")
    for split in ("train", "heldout"):
        for family, files in fonts.available(split):
            for path in files:
                for d in "0123456789":
                    assert fonts.glyph(path, d) is not None, (family.name, path, d)


def test_ci_installs_every_font_package():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    listed = script.split('SYNTH_PACKAGES="')[1].split('"')[0].split()
    assert set(fonts.PACKAGES) | {"dataset-fashion-mnist"} == set(listed)


def test_excluded_glyphs_are_never_drawn(monkeypatch):
    need_fonts("heldout")
    used = []
    glyph = fonts.glyph
    monkeypatch.setattr(fonts, "glyph", lambda path, char: used.append((path, char)) or glyph(path, char))
    rng = np.random.default_rng(0)
    names = {handwritten.font_glyph(rng, "0", "heldout")[0] for _ in range(40)}
    assert names and "Breip" not in names
    breip = {f for fam in fonts.FAMILIES if fam.name == "Breip" for f in fam.files()}
    assert not any(path in breip and char == "0" for path, char in used)


def test_stroke_curve_passes_through_its_points_at_the_asked_spacing():
    from digitnet.data.synth import strokes

    points = np.array([[0.0, 0.0], [10.0, 5.0], [20.0, 0.0], [25.0, 10.0]])
    path = strokes.curve(points, spacing=0.5)
    for p in points:
        assert np.min(np.linalg.norm(path - p, axis=1)) < 1e-9
    gaps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert gaps.max() <= 0.6 and len(path) > 50


def test_without_fonts_it_warns_and_draws_strokes_only(monkeypatch):
    monkeypatch.setattr(fonts, "available", lambda split: ())
    with pytest.warns(UserWarning, match="pen-stroke digits only"):
        _, _, sources = handwritten.generate(6, "heldout", 0, (16,))
    assert all(s == "strokes v3" for s in sources)
