# mutant: the labels are int32 (torch.int) instead of int64 (torch.long), which CrossEntropyLoss refuses
# cell: def load_penguins(path):
# loses: q1
def load_penguins(path):
    df = pd.read_csv(path)
    X = torch.tensor(df[FEATURES].to_numpy(), dtype=torch.float32)
    X = (X - X.mean(dim=0)) / X.std(dim=0)
    y = torch.tensor([SPECIES.index(s) for s in df["species"]], dtype=torch.int)
    return X, y
