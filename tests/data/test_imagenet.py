import numpy as np
import pytest

from gan_zoo.data.image_archive import MappedImageDataset
from gan_zoo.data.prepare import main as prepare_main
from gan_zoo.errors import ConfigError, DataError

TRAIN = [f"train_data_batch_{i}" for i in range(1, 11)]


@pytest.fixture
def npz_root(tmp_path, fx):
    written = fx.write_imagenet_npz(tmp_path / "imagenet32", resolution=32, n_per_batch=3)
    return tmp_path, written


def test_npz_batches_load_directly(npz_root, fx):
    data_dir, written = npz_root
    ds = fx.make_dataset("imagenet32", data_dir, xflip=False)
    assert not isinstance(ds, MappedImageDataset)
    assert ds.images.shape == (30, 3, 32, 32) and ds.images.dtype == np.uint8 and ds.num_classes == 1000
    expected = np.concatenate([written[name][1] for name in TRAIN]) - 1  # 1-based on disk, 0-based here
    assert np.array_equal(ds.labels, expected) and ds.labels.min() >= 0
    row = written["train_data_batch_4"][0][2]  # image 11
    assert ds.images[11, 0, 0, 5] == row[5] and ds.images[11, 1, 0, 0] == row[1024]
    assert ds.images[11, 2, 1, 0] == row[2048 + 32]
    assert ds.info.summary().startswith("dataset imagenet32: 30 images, 32x32x3, 1000 classes")


def test_prepare_converts_to_memory_mapped_npy(npz_root, fx, capsys):
    data_dir, _ = npz_root
    direct = fx.make_dataset("imagenet32", data_dir)
    root = data_dir / "imagenet32"
    assert prepare_main(["imagenet", "--source", str(root), "--resolution", "32"]) == 0
    assert "imagenet32_train_images.npy" in capsys.readouterr().out
    mapped = fx.make_dataset("imagenet32", data_dir)
    assert isinstance(mapped, MappedImageDataset) and isinstance(mapped.images, np.memmap)
    assert np.array_equal(mapped.images, direct.images) and np.array_equal(mapped.labels, direct.labels)
    assert len(mapped) == 60  # xflip on in the yaml
    assert not list(root.glob("*.tmp-*"))


def test_val_split_and_unlabelled(npz_root, fx):
    data_dir, written = npz_root
    ds = fx.make_dataset("imagenet32", data_dir, split="val", labels=False, xflip=False)
    assert np.array_equal(ds.images.reshape(3, -1), written["val_data"][0]) and ds.num_classes == 0


def test_resolution_mismatch_names_key(tmp_path, fx):
    fx.write_imagenet_npz(tmp_path / "imagenet64", resolution=32, n_per_batch=1)
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("imagenet64", tmp_path)  # 32 px data in the 64 px preset's folder
    message = fx.one_line(e)
    assert "dataset.resolution = 64" in message and "train_data_batch_1.npz" in message and "32x32" in message


def test_truncated_npz_names_file(npz_root, fx):
    data_dir, _ = npz_root
    path = data_dir / "imagenet32" / "train_data_batch_6.npz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError) as e:
        fx.make_dataset("imagenet32", data_dir)
    assert str(path) in fx.one_line(e)


def test_missing_batch_names_file(npz_root, fx):
    data_dir, _ = npz_root
    path = data_dir / "imagenet32" / "train_data_batch_7.npz"
    path.unlink()
    with pytest.raises(DataError) as e:
        fx.make_dataset("imagenet32", data_dir)
    assert str(path) in fx.one_line(e)


def test_missing_folder_says_what_to_download(tmp_path, fx):
    with pytest.raises(DataError) as e:
        fx.make_dataset("imagenet64", tmp_path)
    message = fx.one_line(e)
    assert str(tmp_path / "imagenet64") in message and "Imagenet64_train_npz.zip" in message


def test_labels_outside_1_to_1000(tmp_path, fx):
    fx.write_imagenet_npz(tmp_path / "imagenet32", n_per_batch=2)
    path = tmp_path / "imagenet32" / "train_data_batch_2.npz"
    np.savez(path, data=np.zeros((2, 3072), np.uint8), labels=[0, 5])
    with pytest.raises(DataError) as e:
        fx.make_dataset("imagenet32", tmp_path)
    assert str(path) in fx.one_line(e) and "1..1000" in str(e.value)


def test_prepare_error_is_one_line_exit_2(tmp_path, capsys):
    assert prepare_main(["imagenet", "--source", str(tmp_path / "nope"), "--resolution", "64"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "train_data_batch_1.npz" in err
