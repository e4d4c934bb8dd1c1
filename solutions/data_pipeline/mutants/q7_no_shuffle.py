# mutant: the split takes the first rows for training and the last ones for validation, without shuffling
# cell: def split_dataset(dataset, val_fraction, seed):
# loses: q7
def split_dataset(dataset, val_fraction, seed):
    n_val = round(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    from torch.utils.data import Subset
    return Subset(dataset, list(range(n_train))), Subset(dataset, list(range(n_train, len(dataset))))
