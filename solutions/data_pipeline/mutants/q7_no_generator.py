# mutant: random_split is called without the seeded generator, so the split changes from run to run
# cell: def split_dataset(dataset, val_fraction, seed):
# loses: q7
def split_dataset(dataset, val_fraction, seed):
    n_val = round(len(dataset) * val_fraction)
    n_train = len(dataset) - n_val
    train_subset, val_subset = random_split(dataset, [n_train, n_val])
    return train_subset, val_subset
