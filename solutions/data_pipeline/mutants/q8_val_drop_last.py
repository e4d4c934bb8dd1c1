# mutant: the validation loader drops its last batch (drop_last=True), so some samples are never evaluated
# cell: def make_loaders(train_ds, val_ds, batch_size):
# loses: q8
def make_loaders(train_ds, val_ds, batch_size):
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=batch_size, shuffle=False, drop_last=True)
    return train_loader, val_loader
