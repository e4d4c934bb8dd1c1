# mutant: the scaler is fitted on all rows (train and test together): the test set leaks into training
# cell: def make_scaled_datasets(path):
# loses: q3
def make_scaled_datasets(path):
    train_ds = TabularDataset(path, train=True)
    test_ds = TabularDataset(path, train=False)
    scaler = StandardScaler().fit(torch.cat([train_ds.data, test_ds.data]))
    train_ds.data = scaler.transform(train_ds.data)
    test_ds.data = scaler.transform(test_ds.data)
    return train_ds, test_ds, scaler
