# mutant: the feature columns are taken by position (the last four columns) instead of by name
# cell: def load_penguins(path):
# loses: q1
def load_penguins(path):
    df = pd.read_csv(path)
    X = torch.tensor(df.iloc[:, -4:].to_numpy(dtype="float32"), dtype=torch.float32)
    X = (X - X.mean(dim=0)) / X.std(dim=0)
    y = torch.tensor([SPECIES.index(s) for s in df["species"]], dtype=torch.int64)
    return X, y
