import gzip

import numpy as np
import pytest

from gan_zoo.data.idx import read_idx, read_idx_split
from gan_zoo.errors import DataError


def test_header_bytes_are_mnist_magic(tmp_path, fx):
    # MNIST's published magic numbers: 2051 (0x00000803) for images, 2049 (0x00000801) for labels
    images = fx.write_idx(tmp_path / "img", np.zeros((2, 28, 28), np.uint8), gz=False).read_bytes()
    labels = fx.write_idx(tmp_path / "lbl", np.zeros(2, np.uint8), gz=False).read_bytes()
    assert int.from_bytes(images[:4], "big") == 2051 and int.from_bytes(labels[:4], "big") == 2049
    assert int.from_bytes(images[4:8], "big") == 2 and int.from_bytes(images[8:12], "big") == 28


@pytest.mark.parametrize("gz", [True, False])
def test_roundtrip_raw_and_gzip(tmp_path, fx, gz):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(fx.write_idx(tmp_path / "a", array, gz=gz))
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4) and np.array_equal(out, array)


def test_multibyte_big_endian(tmp_path):
    # hand-written file: int32 type (0x0C), 1 dim of size 2, values 1 and -2 big-endian
    raw = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE])
    (tmp_path / "ints").write_bytes(raw)
    out = read_idx(tmp_path / "ints")
    assert out.tolist() == [1, -2] and out.dtype.byteorder in "=<|"


def test_truncated_gzip_names_file(tmp_path, fx):
    path = fx.write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.ones((5, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError) as e:
        read_idx(path)
    assert str(path) in fx.one_line(e) and "truncated" in str(e.value)


def test_truncated_data_names_file_and_sizes(tmp_path, fx):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    payload = gzip.decompress(fx.write_idx(path, np.ones((5, 28, 28), np.uint8)).read_bytes())
    path.write_bytes(gzip.compress(payload[:-100]))
    with pytest.raises(DataError) as e:
        read_idx(path)
    message = fx.one_line(e)
    assert str(path) in message and "(5, 28, 28)" in message and str(5 * 28 * 28 - 100) in message


def test_bad_magic_names_file(tmp_path, fx):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(DataError) as e:
        read_idx(path)
    assert str(path) in fx.one_line(e) and "not an idx file" in str(e.value)


def test_split_reads_train_and_test(tmp_path, fx):
    written = fx.write_idx_dir(tmp_path, n_train=6, n_test=4)
    images, labels = read_idx_split(tmp_path, "train+test")
    assert images.shape == (10, 28, 28) and labels.dtype == np.int64
    assert np.array_equal(images[6:], written["t10k"][0]) and np.array_equal(labels[:6], written["train"][1])


def test_label_count_mismatch_names_labels_file(tmp_path, fx):
    fx.write_idx_dir(tmp_path, n_train=6, n_test=4)
    fx.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError) as e:
        read_idx_split(tmp_path, "train")
    assert "train-labels-idx1-ubyte.gz" in fx.one_line(e) and "5 labels for the 6 images" in str(e.value)


def test_missing_file_names_path(tmp_path, fx):
    fx.write_idx_dir(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError) as e:
        read_idx_split(tmp_path, "train+test")
    assert str(tmp_path / "t10k-images-idx3-ubyte") in fx.one_line(e)
