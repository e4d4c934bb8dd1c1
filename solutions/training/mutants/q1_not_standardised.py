# mutant: the features are not standardised (raw millimetres and grams)
# cell: def load_penguins(path):
# loses: q1
def load_penguins(path):
    df = pd.read_csv(path)
    X = torch.tensor(df[FEATURES].to_numpy(), dtype=torch.float32)
    y = torch.tensor([SPECIES.index(s) for s in df["species"]], dtype=torch.int64)
    return X, y
