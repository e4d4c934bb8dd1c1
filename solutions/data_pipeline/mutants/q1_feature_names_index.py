# mutant: feature_names is the DataFrame's columns (a pandas Index), not a list
# cell: class TabularDataset(Dataset):
# loses: q1
class TabularDataset(Dataset):
    def __init__(self, path, train=True):
        df = pd.read_csv(path)
        df = df[df["split"] == ("train" if train else "test")]
        features = df.drop(columns=["patient_id", "notes", "split", "label"])
        self.feature_names = features.columns
        self.data = torch.tensor(features.to_numpy(dtype="float64"), dtype=torch.float32)
        self.labels = torch.tensor(df["label"].to_numpy(), dtype=torch.int64)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.data[idx], self.labels[idx]
