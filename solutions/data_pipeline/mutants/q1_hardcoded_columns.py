# mutant: the feature columns are hard-coded to those of patients.csv instead of dropping the id, notes, split and label columns
# cell: class TabularDataset(Dataset):
# loses: q1, q3
class TabularDataset(Dataset):
    def __init__(self, path, train=True):
        df = pd.read_csv(path)
        df = df[df["split"] == ("train" if train else "test")]
        self.feature_names = ["age", "income", "cholesterol", "bmi", "steps_per_day"]
        self.data = torch.tensor(df[self.feature_names].to_numpy(dtype="float64"), dtype=torch.float32)
        self.labels = torch.tensor(df["label"].to_numpy(), dtype=torch.int64)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return self.data[idx], self.labels[idx]
