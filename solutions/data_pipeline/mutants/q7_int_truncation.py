# mutant: n_val is truncated with int() instead of rounded
# cell: def split_dataset(dataset, val_fraction, seed):
# loses: q7
def split_dataset(dataset, val_fraction, seed):
    n_val = int(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    generator = torch.Generator().manual_seed(seed)
    train_subset, val_subset = random_split(dataset, [n_train, n_val], generator=generator)
    return train_subset, val_subset
