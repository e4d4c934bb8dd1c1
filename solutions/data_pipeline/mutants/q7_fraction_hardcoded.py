# mutant: the validation size uses the notebook's 0.2 instead of val_fraction
# cell: def split_dataset(dataset, val_fraction, seed):
# loses: q7
def split_dataset(dataset, val_fraction, seed):
    n_val = round(len(dataset) * 0.2)
    n_train = len(dataset) - n_val
    generator = torch.Generator().manual_seed(seed)
    train_subset, val_subset = random_split(dataset, [n_train, n_val], generator=generator)
    return train_subset, val_subset
