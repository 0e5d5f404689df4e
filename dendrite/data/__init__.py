"""``dendrite.data``: datasets, loaders, transforms and ready-made data (PyTorch's ``torch.utils.data``).

Data lives on the host as NumPy arrays (this package uses NumPy directly for
files, shuffles and generators); batches become dendrite tensors in the
``DataLoader``.

Example:
    >>> from dendrite.data import DataLoader, load_dataset
    >>> data = load_dataset("digits")
    >>> loader = DataLoader(data.train_dataset(), batch_size=64, shuffle=True, seed=0)
    >>> x, y = next(iter(loader))
    >>> x.shape, y.shape
    ((64, 8, 8), (64,))
"""

from dendrite.data import transforms
from dendrite.data.cifar_python import load_cifar10_python
from dendrite.data.collate import default_collate, default_convert
from dendrite.data.csv_table import csv_splits, encode_csv, scan_csv
from dendrite.data.dataloader import DataLoader
from dendrite.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from dendrite.data.digits import ChecksumError, load_digits
from dendrite.data.file_errors import DataFileError
from dendrite.data.files import CsvData, load_cifar10, load_cifar10_batch, load_csv, load_idx, load_mnist
from dendrite.data.image_folder import ImageArray, index_image_folder
from dendrite.data.iterable import ChainDataset, IterableDataset, get_worker_info
from dendrite.data.lazy_rows import LazyRowsDataset
from dendrite.data.registry import (
    DatasetEntry,
    dataset_names,
    get_dataset_entry,
    list_datasets,
    load_dataset,
    register_dataset,
    unregister_dataset,
)
from dendrite.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    balanced_weights,
)
from dendrite.data.series import (
    load_mackey_glass,
    load_sine,
    mackey_glass,
    make_windows,
    sine_series,
    window_splits,
)
from dendrite.data.splits import DataSplits, train_test_split
from dendrite.data.table_encoding import TableEncoding
from dendrite.data.text import BPTTBatches, CharVocab, bptt_batches, load_pytext, python_corpus
from dendrite.data.toy2d import (
    RING8_CENTRES,
    load_playground,
    load_ring8,
    make_playground,
    make_ring8,
    ring8_centres,
)
from dendrite.data.toy2d_multiclass import make_blob_ring, make_playground_multiclass, make_spiral_arms
from dendrite.data.user_data import DataSpec, load_user_data
