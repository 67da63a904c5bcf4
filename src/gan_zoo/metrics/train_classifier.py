"""``gan-zoo-train-classifier dataset=<mnist|fmnist|digits> [key=value ...]``: train and cache the CNN that
classifies StackedMNIST channels and provides offline ``classifier:<name>`` features.

Keys: ``dataset`` (required), ``root`` (idx directory; default the dataset's own default), ``resolution``
(28, 32 = zero-padded, or 16 / 8 = padded to 32 and 2x2 / 4x4 area-downsampled, as the datasets do;
8 for digits),
``epochs``, ``batch_size``, ``lr``, ``seed``, ``name`` (cache name, default the dataset), ``cache_dir``
(default ``$GAN_ZOO_CACHE`` or ``~/.cache/gan_zoo``).
The net is saved to ``<cache_dir>/classifiers/<name>.pt``; the test accuracy is printed and stored with it.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from gan_zoo.errors import ConfigError, exit_code_of
from gan_zoo.metrics.classifier import DigitClassifier, classifier_path, save_classifier, train_classifier

DEFAULTS = {
    "dataset": None,
    "root": None,
    "resolution": None,
    "epochs": None,
    "batch_size": 128,
    "lr": 2e-3,
    "seed": 0,
    "name": None,
    "cache_dir": None,
}
EPOCHS = {"mnist": 4, "fmnist": 6, "digits": 40}
SHIFT = {"mnist": 2, "fmnist": 1, "digits": 1}  # px of random translation (garments are centred: less)
DIGITS_TEST_FRACTION = 0.2


def parse_args(argv: list[str]) -> dict:
    """Hydra-style ``key=value`` arguments (``--help`` prints the module docstring)."""
    args = dict(DEFAULTS)
    for token in argv:
        key, sep, value = token.partition("=")
        key = key.lstrip("+")
        if not sep or key not in DEFAULTS:
            raise ConfigError(f"argument {token!r}: expected key=value with key in {sorted(DEFAULTS)}")
        args[key] = value
    if args["dataset"] not in EPOCHS:
        raise ConfigError(f"dataset={args['dataset']}: choose one of {sorted(EPOCHS)} (e.g. dataset=fmnist)")
    try:
        for key, cast in (
            ("resolution", int),
            ("epochs", int),
            ("batch_size", int),
            ("lr", float),
            ("seed", int),
        ):
            if args[key] is not None:
                args[key] = cast(args[key])
    except ValueError as e:
        raise ConfigError(f"{key}={args[key]}: not a number ({e})") from e
    args["epochs"] = args["epochs"] or EPOCHS[args["dataset"]]
    args["name"] = args["name"] or args["dataset"]
    return args


def load_splits(dataset: str, root: str | None, resolution: int | None, seed: int):
    """(train images, labels), (test images, labels) as uint8 [N, H, W] / int64, and the resolution."""
    if dataset == "digits":
        from gan_zoo.data.digits import load_digit_images

        if resolution not in (None, 8):
            raise ConfigError(
                f"resolution={resolution}: scikit-learn digits are 8x8; leave it unset or use 8"
            )
        images, labels = load_digit_images()
        perm = np.random.default_rng(seed).permutation(len(images))
        n_test = int(round(len(images) * DIGITS_TEST_FRACTION))
        test, train = perm[:n_test], perm[n_test:]
        return (images[train], labels[train]), (images[test], labels[test]), 8
    from gan_zoo.data.mnist import FASHION_MNIST_DIR, load_idx_images

    resolution = resolution or 28
    root = root or (FASHION_MNIST_DIR if dataset == "fmnist" else "data/mnist")
    train_x, train_y, _ = load_idx_images(root, dataset, "train", resolution)
    test_x, test_y, _ = load_idx_images(root, dataset, "test", resolution)
    return (train_x, train_y), (test_x, test_y), resolution


def run(args: dict, log=print) -> dict:
    train, test, resolution = load_splits(args["dataset"], args["root"], args["resolution"], args["seed"])
    log(
        f"training classifier {args['name']!r} on {args['dataset']}: {len(train[0])} train / "
        f"{len(test[0])} test images at {resolution} px, {args['epochs']} epochs"
    )
    model = DigitClassifier(int(train[1].max()) + 1, resolution, args["name"])
    shift = SHIFT[args["dataset"]]
    result = train_classifier(
        model,
        train,
        test,
        epochs=args["epochs"],
        batch_size=args["batch_size"],
        lr=args["lr"],
        seed=args["seed"],
        shift=shift,
        log=log,
    )
    path = save_classifier(
        model,
        classifier_path(args["name"], args["cache_dir"]),
        dataset=args["dataset"],
        train_seconds=result.train_seconds,
        epochs=result.epochs,
        trained_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    log(f"test accuracy {result.test_accuracy:.4f} after {result.train_seconds:.0f} s; saved {path}")
    return {"test_accuracy": result.test_accuracy, "train_seconds": result.train_seconds, "path": str(path)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    return exit_code_of(lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
