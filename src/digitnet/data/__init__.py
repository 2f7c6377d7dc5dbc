"""Data: IDX files, MNIST-style datasets (find, download, load), model inputs, preprocessing and
augmentation. Imports NumPy, SciPy, Pillow and tqdm; never digitnet.nn."""

from digitnet.data.datasets import DATASETS, DataNotFoundError, dataset_dir, download, load
from digitnet.data.idx import IDXError, read_idx, write_idx
from digitnet.data.inputs import apply_spec, preprocessing_spec, to_input

__all__ = [
    "DATASETS",
    "DataNotFoundError",
    "IDXError",
    "apply_spec",
    "dataset_dir",
    "download",
    "load",
    "preprocessing_spec",
    "read_idx",
    "to_input",
    "write_idx",
]
