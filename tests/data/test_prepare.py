import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_zoo.data.prepare import main


def smooth_rgb(size, seed):
    """A smooth image (compresses fast as PNG) whose resized versions differ between filters."""
    y, x = np.mgrid[0:size, 0:size] / size
    phase = np.random.default_rng(seed).uniform(0, 6, size=3)
    planes = [127.5 + 127.5 * np.sin(40 * x * (k + 1) + 30 * y + phase[k]) for k in range(3)]
    return Image.fromarray(np.stack(planes, -1).round().astype(np.uint8), "RGB")


@pytest.fixture(scope="module")
def ffhq_source(tmp_path_factory):
    src = tmp_path_factory.mktemp("ffhq1024")
    for i in range(3):
        (src / f"{i // 2:02d}000").mkdir(exist_ok=True)
        smooth_rgb(1024, i).save(src / f"{i // 2:02d}000" / f"{i:05d}.png", compress_level=1)
    return src


def test_ffhq_archive_layout_metadata_and_pixels(ffhq_source, tmp_path, fx, capsys):
    dest = tmp_path / "ffhq64.zip"
    assert main(["ffhq", "--source", str(ffhq_source), "--dest", str(dest), "--resolution", "64"]) == 0
    assert "wrote 3 images (64 px, lanczos)" in capsys.readouterr().out
    with zipfile.ZipFile(dest) as zf:
        names = sorted(zf.namelist())
        meta = json.loads(zf.read("dataset.json"))
    assert names == [f"00000/img0000000{i}.png" for i in range(3)] + ["dataset.json"]
    assert meta["labels"] is None
    info = meta["gan_zoo"]
    assert info["filter"] == "lanczos" and info["resolution"] == 64 and info["source_resolution"] == 1024
    assert info["source"] == str(ffhq_source.resolve()) and info["num_images"] == 3
    ds = fx.make_dataset("ffhq", tmp_path, resolution=64, xflip=False)
    assert ds.images.shape == (3, 3, 64, 64)
    source = sorted(ffhq_source.rglob("*.png"))[1]
    expected = np.asarray(Image.open(source).resize((64, 64), Image.Resampling.LANCZOS)).transpose(2, 0, 1)
    assert np.array_equal(ds.images[1], expected)
    assert "lanczos resize from" in ds.info.source


def test_ffhq_filter_is_recorded_and_used(ffhq_source, tmp_path):
    dest = tmp_path / "box"
    assert main(["ffhq", "--source", str(ffhq_source), "--dest", str(dest), "--resolution", "64",
                 "--filter", "box", "--max-images", "1"]) == 0
    assert json.loads((dest / "dataset.json").read_text())["gan_zoo"]["filter"] == "box"
    got = np.asarray(Image.open(dest / "00000" / "img00000000.png"))
    source = Image.open(sorted(ffhq_source.rglob("*.png"))[0])
    assert np.array_equal(got, np.asarray(source.resize((64, 64), Image.Resampling.BOX)))
    assert not np.array_equal(got, np.asarray(source.resize((64, 64), Image.Resampling.LANCZOS)))


def test_ffhq_rejects_non_1024_source(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    smooth_rgb(512, 0).save(src / "00000.png")
    assert main(["ffhq", "--source", str(src), "--dest", str(tmp_path / "o.zip"), "--resolution", "64"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and str(src / "00000.png") in err
    assert not (tmp_path / "o.zip").exists() and not list(tmp_path.glob("o.zip.tmp-*"))


def test_folder_center_crop_labels_and_loading(tmp_path, fx):
    src = tmp_path / "src"
    for cls in ("cat", "dog"):
        (src / cls).mkdir(parents=True)
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, 10:20] = (255, 0, 0)  # red centre square, blue sides
    wide[:, :10] = wide[:, 20:] = (0, 0, 255)
    Image.fromarray(wide).save(src / "dog" / "a.bmp")  # any PIL format, lossless
    Image.fromarray(np.full((16, 16, 4), 200, np.uint8), "RGBA").save(src / "cat" / "b.png")
    dest = tmp_path / "pets.zip"
    assert main(["folder", "--source", str(src), "--dest", str(dest), "--resolution", "8", "--labels"]) == 0
    ds = fx.make_dataset("folder", tmp_path, root=str(dest), resolution=8, labels=True)
    assert ds.labels.tolist() == [0, 1] and ds.num_classes == 2  # sorted: cat/b.png, dog/a.bmp
    assert np.all(ds.images[0] == 200)  # RGBA -> RGB, alpha dropped
    red = ds.images[1].astype(int)
    assert red[0].min() > 230 and red[2].max() < 25  # only the red centre survives the crop
    with zipfile.ZipFile(dest) as zf:
        meta = json.loads(zf.read("dataset.json"))
    assert meta["gan_zoo"]["class_names"] == ["cat", "dog"] and meta["gan_zoo"]["crop"] == "center"


def test_folder_labels_need_class_subfolders(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src / "loose.png")
    assert main(["folder", "--source", str(src), "--dest", str(tmp_path / "o"), "--resolution", "4",
                 "--labels"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(src / "loose.png") in err and not (tmp_path / "o").exists()


def test_existing_dest_and_corrupt_image(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "taken.zip").write_bytes(b"")
    args = ["folder", "--source", str(src), "--resolution", "8", "--dest"]
    assert main([*args, str(tmp_path / "taken.zip")]) == 2
    assert "taken.zip: already exists" in capsys.readouterr().err
    assert main([*args, str(tmp_path / "new.zip")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(src / "bad.png") in err and not (tmp_path / "new.zip").exists()
