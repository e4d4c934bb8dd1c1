# mutant: torch.manual_seed is called after the model is created (the initial weights are not seeded)
# cell: def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
# loses: q8, q9
def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
    model = MLP(n_features, n_hidden, n_classes, p_drop)
    torch.manual_seed(seed)
    return model
