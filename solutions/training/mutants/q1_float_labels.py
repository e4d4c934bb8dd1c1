# mutant: the labels are loaded as float32 (CrossEntropyLoss needs int64 class indices)
# cell: def load_penguins(path):
# loses: q1
def load_penguins(path):
    df = pd.read_csv(path)
    X = torch.tensor(df[FEATURES].to_numpy(), dtype=torch.float32)
    X = (X - X.mean(dim=0)) / X.std(dim=0)
    y = torch.tensor([SPECIES.index(s) for s in df["species"]], dtype=torch.float32)
    return X, y
