# mutant: the training loader keeps its last, incomplete batch
# cell: def make_loaders(train_ds, val_ds, batch_size):
# loses: q8
def make_loaders(train_ds, val_ds, batch_size):
    train_loader = DataLoader(train_ds, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_ds, batch_size=batch_size, shuffle=False, drop_last=False)
    return train_loader, val_loader
