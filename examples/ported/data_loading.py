"""Port of "Writing Custom Datasets, DataLoaders and Transforms": a Dataset subclass with
__len__/__getitem__ (torch.is_tensor(idx) -> idx.tolist()), callable transform classes (Rescale,
RandomCrop, ToTensor) chained with transforms.Compose, DataLoader(batch_size, shuffle, num_workers=0)
with the default collate of dicts and a custom collate_fn, utils.data.Subset, ConcatDataset,
WeightedRandomSampler and BatchSampler.

Generated images with landmark points replace the faces CSV; Compose is the tutorial's usage of
torchvision's, written here so only the DataLoader/Dataset API is exercised.
"""
import json
import os

import numpy as np

if os.environ.get("PORTED_BACKEND") == "torch":
    import torch
    from torch.utils.data import (
        BatchSampler,
        ConcatDataset,
        DataLoader,
        Dataset,
        SequentialSampler,
        Subset,
        WeightedRandomSampler,
    )
    from torch.utils.data.dataloader import default_collate
else:
    import dendrite as torch
    from dendrite.utils.data import (
        BatchSampler,
        ConcatDataset,
        DataLoader,
        Dataset,
        SequentialSampler,
        Subset,
        WeightedRandomSampler,
    )
    from dendrite.utils.data.dataloader import default_collate

rng = np.random.default_rng(0)
landmarks_frame = [(f"face{i}.jpg", rng.random((4, 2)).astype(np.float64) * 20 + 2) for i in range(12)]
images_store = {name: rng.integers(0, 255, (24 + i % 3, 20 + i % 2, 3), dtype=np.uint8)
                for i, (name, _) in enumerate(landmarks_frame)}


class FaceLandmarksDataset(Dataset):
    """Face Landmarks dataset."""

    def __init__(self, frame, transform=None):
        self.landmarks_frame = frame
        self.transform = transform

    def __len__(self):
        return len(self.landmarks_frame)

    def __getitem__(self, idx):
        if torch.is_tensor(idx):
            idx = idx.tolist()

        img_name, landmarks = self.landmarks_frame[idx]
        image = images_store[img_name]
        landmarks = np.array([landmarks], dtype=float).reshape(-1, 2)
        sample = {'image': image, 'landmarks': landmarks}

        if self.transform:
            sample = self.transform(sample)

        return sample


class Rescale(object):
    """Rescale the image in a sample to a given size (nearest-neighbour here instead of skimage)."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        self.output_size = output_size

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']
        h, w = image.shape[:2]
        if isinstance(self.output_size, int):
            if h > w:
                new_h, new_w = self.output_size * h / w, self.output_size
            else:
                new_h, new_w = self.output_size, self.output_size * w / h
        else:
            new_h, new_w = self.output_size
        new_h, new_w = int(new_h), int(new_w)
        rows = (np.arange(new_h) * h // new_h)
        cols = (np.arange(new_w) * w // new_w)
        img = image[rows][:, cols]
        landmarks = landmarks * [new_w / w, new_h / h]
        return {'image': img, 'landmarks': landmarks}


class RandomCrop(object):
    """Crop randomly the image in a sample."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        if isinstance(output_size, int):
            self.output_size = (output_size, output_size)
        else:
            assert len(output_size) == 2
            self.output_size = output_size

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']
        h, w = image.shape[:2]
        new_h, new_w = self.output_size
        top = np.random.randint(0, h - new_h + 1)
        left = np.random.randint(0, w - new_w + 1)
        image = image[top: top + new_h, left: left + new_w]
        landmarks = landmarks - [left, top]
        return {'image': image, 'landmarks': landmarks}


class ToTensor(object):
    """Convert ndarrays in sample to Tensors."""

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']
        image = image.transpose((2, 0, 1))
        return {'image': torch.from_numpy(image),
                'landmarks': torch.from_numpy(landmarks)}


class Compose(object):
    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, sample):
        for t in self.transforms:
            sample = t(sample)
        return sample


np.random.seed(0)
torch.manual_seed(0)
transformed_dataset = FaceLandmarksDataset(landmarks_frame,
                                           transform=Compose([Rescale(20), RandomCrop(16), ToTensor()]))
sample0 = transformed_dataset[0]
item_by_tensor_index = transformed_dataset[torch.tensor(1)]['landmarks'].shape

dataloader = DataLoader(transformed_dataset, batch_size=4, shuffle=False, num_workers=0)
batches = []
for i_batch, sample_batched in enumerate(dataloader):
    batches.append([list(sample_batched['image'].size()), str(sample_batched['image'].dtype),
                    list(sample_batched['landmarks'].size()), str(sample_batched['landmarks'].dtype)])
landmark_sum = float(sum(float(b['landmarks'].sum()) for b in DataLoader(transformed_dataset, batch_size=5)))


def my_collate(batch):
    images = torch.stack([b['image'].float() / 255 for b in batch])
    lengths = torch.tensor([len(b['landmarks']) for b in batch])
    return images, lengths


images, lengths = next(iter(DataLoader(transformed_dataset, batch_size=3, collate_fn=my_collate,
                                       num_workers=0)))
last_partial = [len(b[1]) for b in DataLoader(transformed_dataset, batch_size=5, collate_fn=my_collate)]
dropped = len(DataLoader(transformed_dataset, batch_size=5, drop_last=True))

collated = default_collate([(1, 2.0, torch.tensor([1, 2])), (3, 4.0, torch.tensor([3, 4]))])
collated_desc = [[str(c.dtype), c.tolist()] for c in collated]
collated_np = default_collate([np.array([1.0, 2.0]), np.array([3.0, 4.0])])

plain = FaceLandmarksDataset(landmarks_frame)
sub = Subset(plain, [0, 2, 4])
both = ConcatDataset([sub, Subset(plain, [1])])
sampler = WeightedRandomSampler([0.0, 1.0, 0.0, 1.0], num_samples=6, replacement=True)
weighted = sorted(set(list(sampler)))
batch_idx = list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))

print("RESULT", json.dumps({
    "sample_image": list(sample0['image'].shape), "sample_dtype": str(sample0['image'].dtype),
    "landmarks_dtype": str(sample0['landmarks'].dtype), "tensor_index_shape": list(item_by_tensor_index),
    "batches": batches, "landmark_sum": landmark_sum, "collate_images": list(images.shape),
    "collate_lengths": lengths.tolist(), "last_partial": last_partial, "dropped_len": dropped,
    "default_collate": collated_desc, "default_collate_np": [str(collated_np.dtype), collated_np.tolist()],
    "subset_len": len(sub), "concat_len": len(both), "weighted_indices": weighted, "batch_sampler": batch_idx,
}))
