"""Pieces the subcommands share: data options, loading models and turning images into model inputs."""

from __future__ import annotations

import argparse

import numpy as np

from digitnet.data.inputs import DEFAULT_PREPROCESSING as PREPROCESSING  # noqa: F401  (train.py records it)


def add_data_options(parser: argparse.ArgumentParser, dataset: bool = True, dataset_default="mnist") -> None:
    if dataset:
        parser.add_argument(
            "--dataset",
            default=dataset_default,
            help="mnist, fashion-mnist, or a folder of IDX files in the MNIST layout (default mnist)",
        )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where the dataset files are (default $DIGITNET_DATA, else ~/.cache/digitnet/<name>)",
    )


def formatter(prog):
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def load_split(args, split: str):
    """(uint8 images (N, 28, 28), int labels (N,)) of a dataset split named by the command's options."""
    from digitnet.data import load
    from digitnet.data.datasets import check_base_dir

    check_base_dir(args.data_dir)
    images, labels = load(getattr(args, "dataset", "mnist"), split=split, data_dir=args.data_dir)
    return images, labels.astype(np.int64)


def model_inputs(images, model) -> np.ndarray:
    """Images (N, 28, 28), uint8 or floats in [0, 1], as the float inputs ``model`` was trained on."""
    from digitnet.data.inputs import model_inputs as inputs_for

    return inputs_for(images, model)


def load_model(path, digit: bool = True):
    """A model from a .npz file or a run folder holding model.npz, checked as a digit model
    (digitnet.digitmodel: 28x28 inputs, 10 or 11 outputs) unless ``digit=False``."""
    from digitnet import digitmodel
    from digitnet.nn import Sequential

    from digitnet.runs import model_file

    return digitmodel.load(path) if digit else Sequential.load(model_file(path))
