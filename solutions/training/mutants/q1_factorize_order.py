# mutant: species are numbered in order of first appearance in the file (pd.factorize), not by SPECIES
# cell: def load_penguins(path):
# loses: q1
def load_penguins(path):
    df = pd.read_csv(path)
    X = torch.tensor(df[FEATURES].to_numpy(), dtype=torch.float32)
    X = (X - X.mean(dim=0)) / X.std(dim=0)
    codes, _ = pd.factorize(df["species"])
    y = torch.tensor(codes, dtype=torch.int64)
    return X, y
