# mutant: the validation loader keeps the notebook's batch size of 32 instead of batch_size
# cell: def make_loaders(train_ds, val_ds, batch_size):
# loses: q8
def make_loaders(train_ds, val_ds, batch_size):
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True, drop_last=True)
    val_loader = DataLoader(val_ds, batch_size=32, shuffle=False, drop_last=False)
    return train_loader, val_loader
