# mutant: the sizes are passed as [n_val, n_train], so the first subset is the small one
# cell: def split_dataset(dataset, val_fraction, seed):
# loses: q7
def split_dataset(dataset, val_fraction, seed):
    n_val = round(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    generator = torch.Generator().manual_seed(seed)
    val_subset, train_subset = random_split(dataset, [n_val, n_train], generator=generator)
    return train_subset, val_subset
