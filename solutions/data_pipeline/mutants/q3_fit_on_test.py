# mutant: the scaler is fitted on the test split and applied to both
# cell: def make_scaled_datasets(path):
# loses: q3
def make_scaled_datasets(path):
    train_ds = TabularDataset(path, train=True)
    test_ds = TabularDataset(path, train=False)
    scaler = StandardScaler().fit(test_ds.data)
    train_ds.data = scaler.transform(train_ds.data)
    test_ds.data = scaler.transform(test_ds.data)
    return train_ds, test_ds, scaler
