# mutant: the test split gets its own scaler, fitted on the test rows
# cell: def make_scaled_datasets(path):
# loses: q3
def make_scaled_datasets(path):
    train_ds = TabularDataset(path, train=True)
    test_ds = TabularDataset(path, train=False)
    scaler = StandardScaler().fit(train_ds.data)
    train_ds.data = scaler.transform(train_ds.data)
    test_ds.data = StandardScaler().fit(test_ds.data).transform(test_ds.data)
    return train_ds, test_ds, scaler
