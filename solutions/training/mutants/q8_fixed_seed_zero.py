# mutant: always seeds with 0 instead of the `seed` argument
# cell: def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
# loses: q8
def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
    torch.manual_seed(0)
    return MLP(n_features, n_hidden, n_classes, p_drop)
