import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from gan_zoo.data.image_archive import MappedImageDataset
from gan_zoo.errors import ConfigError, DataError


def rgb(n, res=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 3, res, res), dtype=np.uint8)


@pytest.mark.parametrize("as_zip", [True, False])
def test_folder_config_exact_pixels_and_labels(tmp_path, fx, as_zip):
    images, labels = rgb(5), [3, 0, 2, 2, 1]
    root = fx.write_png_archive(tmp_path / ("set.zip" if as_zip else "set"), images, labels, as_zip=as_zip)
    ds = fx.make_dataset("folder", tmp_path, root=str(root), resolution=8, labels=True)
    assert isinstance(ds, MappedImageDataset) and isinstance(ds.images, np.memmap)
    assert ds.images.shape == (5, 3, 8, 8) and ds.images.dtype == np.uint8
    assert np.array_equal(ds.images, images)  # PNG is lossless, channel order R, G, B
    assert ds.labels.tolist() == labels and ds.num_classes == 4
    assert (tmp_path / f"{root.name}.uint8.npy").is_file()  # the cache sits next to the archive


def test_cache_is_reused_and_invalidated(tmp_path, fx):
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(3))
    fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    cache = tmp_path / "set.zip.uint8.npy"
    first = cache.stat().st_mtime_ns
    fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    assert cache.stat().st_mtime_ns == first  # stamp matched: not rebuilt
    new = rgb(4, seed=1)
    root.unlink()
    fx.write_png_archive(root, new)
    os.utime(root, ns=(first + 10**9, first + 10**9))
    ds = fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    assert np.array_equal(ds.images, new)


def test_no_cache_decodes_into_memory(tmp_path, fx):
    images = rgb(3)
    root = fx.write_png_archive(tmp_path / "set.zip", images)
    ds = fx.make_dataset("folder", tmp_path, root=str(root), resolution=8, cache=False, xflip=True)
    assert not isinstance(ds.images, np.memmap) and np.array_equal(ds.images, images)
    assert len(ds) == 6 and np.array_equal(ds[4][0].numpy(), images[1][..., ::-1])
    assert not (tmp_path / "set.zip.uint8.npy").exists()


def test_greyscale_archive(tmp_path, fx):
    grey = rgb(2)[:, :1]
    root = fx.write_png_archive(tmp_path / "g.zip", grey)
    ds = fx.make_dataset("folder", tmp_path, root=str(root), resolution=8, channels=1)
    assert ds.images.shape == (2, 1, 8, 8) and np.array_equal(ds.images, grey)


def test_mapped_dataset_pickles_by_path(tmp_path, fx):
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(50, res=16))
    ds = fx.make_dataset("folder", tmp_path, root=str(root), resolution=16)
    blob = pickle.dumps(ds)
    assert len(blob) < 50 * 3 * 16 * 16 // 4  # the pixels are not in the pickle
    back = pickle.loads(blob)
    assert np.array_equal(back.images, ds.images) and back.info == ds.info


def test_mapped_items_are_writable_copies(tmp_path, fx):
    images = rgb(2)
    root = fx.write_png_archive(tmp_path / "set.zip", images)
    ds = fx.make_dataset("folder", tmp_path, root=str(root), resolution=8, xflip=True)
    start, stop = ds.images.ctypes.data, ds.images.ctypes.data + ds.images.nbytes
    for i in (1, 3):
        x, _ = ds[i]
        assert not start <= x.data_ptr() < stop and x.is_contiguous()
        x.zero_()
    assert np.array_equal(ds.images, images) and np.array_equal(ds[3][0].numpy(), images[1][..., ::-1])


def test_ffhq_config_root_follows_resolution(tmp_path, fx):
    images = rgb(3, res=64)
    fx.write_png_archive(tmp_path / "ffhq64.zip", images)
    ds = fx.make_dataset("ffhq", tmp_path, resolution=64)  # root: ${paths.data_dir}/ffhq${.resolution}.zip
    assert ds.info.name == "ffhq64" and len(ds) == 6 and ds.num_classes == 0  # xflip on
    assert np.array_equal(ds.images, images)
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("ffhq", tmp_path, resolution=128)
    assert "dataset.resolution" in fx.one_line(e)


def test_resolution_mismatch_is_config_error(tmp_path, fx):
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(2))
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=16)
    message = fx.one_line(e)
    assert "dataset.resolution = 16" in message and "8x8" in message and str(root) in message


def test_one_wrong_size_image_names_file(tmp_path, fx):
    extra = {"00000/img00000002.png": fx.png_bytes(rgb(1, res=9)[0])}
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(2), extra=extra)
    (tmp_path / "set.zip.uint8.npy").touch()  # a stale cache without a stamp must not be trusted
    with pytest.raises(DataError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    message = fx.one_line(e)
    assert "set.zip/00000/img00000002.png" in message and "9x9" in message
    assert not list(tmp_path.glob("*.tmp-*"))  # the half-written cache was removed


def test_wrong_mode_names_file(tmp_path, fx):
    images = rgb(2)
    rgba = np.concatenate([images[:1], np.full((1, 1, 8, 8), 255, np.uint8)], axis=1)[0]
    extra = {"00000/img00000001.png": fx.png_bytes(rgba)}  # RGBA replaces the 2nd image
    root = fx.write_png_archive(tmp_path / "set", images, as_zip=False, extra=extra)
    with pytest.raises(DataError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    assert "img00000001.png" in fx.one_line(e) and "RGBA" in str(e.value)


def test_label_count_mismatch_names_dataset_json(tmp_path, fx):
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(3), labels=[0, 1, 2])
    with zipfile.ZipFile(root, "a") as zf:
        zf.writestr("00000/img00000003.png", fx.png_bytes(rgb(1)[0]))
    with pytest.raises(DataError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=8, labels=True)
    message = fx.one_line(e)
    assert "set.zip/dataset.json" in message and "3 labels for 4 images" in message
    assert "img00000003.png" in message


def test_labels_requested_but_absent(tmp_path, fx):
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(2))
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=8, labels=True)
    assert "dataset.labels" in fx.one_line(e)


def test_missing_root_names_path(tmp_path, fx):
    with pytest.raises(DataError) as e:
        fx.make_dataset("ffhq", tmp_path)
    assert str(tmp_path / "ffhq256.zip") in fx.one_line(e)


@pytest.mark.parametrize("as_zip", [True, False])
def test_empty_archive_names_it(tmp_path, fx, as_zip):
    root = fx.write_png_archive(tmp_path / ("e.zip" if as_zip else "e"), np.zeros((0, 3, 8, 8), np.uint8),
                                as_zip=as_zip)
    with pytest.raises(DataError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    assert str(root) in fx.one_line(e) and "no PNG images" in str(e.value)


def test_truncated_zip_names_file(tmp_path, fx):
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(4))
    root.write_bytes(root.read_bytes()[: root.stat().st_size // 2])
    with pytest.raises(DataError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    assert str(root) in fx.one_line(e)


def test_truncated_png_names_member(tmp_path, fx):
    png = fx.png_bytes(rgb(1)[0])
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(1), extra={"00000/img00000001.png": png[:40]})
    with pytest.raises(DataError) as e:
        fx.make_dataset("folder", tmp_path, root=str(root), resolution=8, cache=False)
    assert "set.zip/00000/img00000001.png" in fx.one_line(e)


def test_prepare_metadata_appears_in_source(tmp_path, fx):
    meta = {"labels": None, "gan_zoo": {"filter": "lanczos", "source": "/raw/ffhq", "resolution": 8}}
    extra = {"dataset.json": json.dumps(meta).encode()}
    root = fx.write_png_archive(tmp_path / "set.zip", rgb(1), extra=extra)
    ds = fx.make_dataset("folder", tmp_path, root=str(root), resolution=8)
    assert ds.info.source.endswith("(lanczos resize from /raw/ffhq)")
