import hashlib
import tarfile

import numpy as np
import pytest

from gan_zoo.data import cifar10 as cifar_module
from gan_zoo.errors import ConfigError, DataError


@pytest.fixture
def cifar_root(tmp_path, fx):
    written = fx.write_cifar_batches(tmp_path / "cifar10", n_per_batch=4)
    return tmp_path, written


def test_train_split_shapes_values_labels(cifar_root, fx):
    data_dir, written = cifar_root
    ds = fx.make_dataset("cifar10", data_dir, verify_md5=False, xflip=False)
    assert ds.images.shape == (20, 3, 32, 32) and ds.images.dtype == np.uint8 and ds.num_classes == 10
    expected_labels = np.concatenate([written[f"data_batch_{i}"][1] for i in range(1, 6)])
    assert np.array_equal(ds.labels, expected_labels)
    row = written["data_batch_2"][0][1]  # image 5: 2nd image of the 2nd batch
    # rows are R, G, B planes of 1024 bytes, each plane row-major 32x32
    assert ds.images[5, 0, 0, 1] == row[1] and ds.images[5, 1, 0, 0] == row[1024]
    assert ds.images[5, 2, 31, 31] == row[3071] and ds.images[5, 0, 1, 0] == row[32]
    x, y = ds[5]
    assert x.dtype.is_floating_point is False and int(y) == expected_labels[5]
    assert ds.info.summary().startswith("dataset cifar10: 20 images, 32x32x3, 10 classes, from ")


def test_xflip_on_by_default_and_test_split(cifar_root, fx):
    data_dir, written = cifar_root
    ds = fx.make_dataset("cifar10", data_dir, verify_md5=False)
    assert len(ds) == 40 and np.array_equal(ds[20 + 3][0].numpy(), ds.images[3][..., ::-1])
    test = fx.make_dataset("cifar10", data_dir, verify_md5=False, split="test", labels=False)
    assert test.images.shape == (4, 3, 32, 32) and test.num_classes == 0
    assert np.array_equal(test.images.reshape(4, -1), written["test_batch"][0])


def test_published_md5_mismatch_names_file(cifar_root, fx):
    data_dir, _ = cifar_root
    with pytest.raises(DataError) as e:
        fx.make_dataset("cifar10", data_dir)  # verify_md5: true in the yaml
    message = fx.one_line(e)
    assert str(data_dir / "cifar10" / "cifar-10-batches-py" / "data_batch_1") in message
    assert "c99cafc152244af753f735de768cd75f" in message  # torchvision's published md5 of data_batch_1


def test_md5_check_passes_when_sums_match(cifar_root, fx, monkeypatch):
    data_dir, _ = cifar_root
    folder = data_dir / "cifar10" / "cifar-10-batches-py"
    sums = {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in cifar_module.BATCH_MD5}
    monkeypatch.setattr(cifar_module, "BATCH_MD5", sums)
    assert len(fx.make_dataset("cifar10", data_dir, xflip=False)) == 20


def test_offline_without_files_says_where_to_put_them(tmp_path, fx):
    with pytest.raises(DataError) as e:
        fx.make_dataset("cifar10", tmp_path)
    message = fx.one_line(e)
    assert str(tmp_path / "cifar10") in message
    assert "cifar-10-python.tar.gz" in message and "cifar-10-batches-py" in message


def test_tarball_is_extracted(tmp_path, fx):
    fx.write_cifar_batches(tmp_path / "staging", n_per_batch=2)
    (tmp_path / "cifar10").mkdir()
    with tarfile.open(tmp_path / "cifar10" / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "staging" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    ds = fx.make_dataset("cifar10", tmp_path, verify_md5=False, xflip=False)
    assert ds.images.shape == (10, 3, 32, 32)
    assert (tmp_path / "cifar10" / "cifar-10-batches-py" / "data_batch_5").is_file()


def test_tarball_md5_mismatch_names_tarball(tmp_path, fx):
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-python.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(DataError) as e:
        fx.make_dataset("cifar10", tmp_path)
    assert "cifar-10-python.tar.gz" in fx.one_line(e) and "c58f30108f718f92721af3b95e74349a" in str(e.value)


def test_truncated_batch_names_file(cifar_root, fx):
    data_dir, _ = cifar_root
    path = data_dir / "cifar10" / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError) as e:
        fx.make_dataset("cifar10", data_dir, verify_md5=False)
    assert str(path) in fx.one_line(e)


def test_missing_batch_names_file(cifar_root, fx):
    data_dir, _ = cifar_root
    path = data_dir / "cifar10" / "cifar-10-batches-py" / "data_batch_4"
    path.unlink()
    with pytest.raises(DataError) as e:
        fx.make_dataset("cifar10", data_dir, verify_md5=False)
    assert str(path) in fx.one_line(e) and "missing" in str(e.value)


def test_resolution_must_be_32(cifar_root, fx):
    with pytest.raises(ConfigError) as e:
        fx.make_dataset("cifar10", cifar_root[0], resolution=64, verify_md5=False)
    assert "dataset.resolution" in fx.one_line(e)
