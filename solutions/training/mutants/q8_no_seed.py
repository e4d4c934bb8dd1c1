# mutant: never seeds: every call gives different initial weights
# cell: def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
# loses: q8, q9
def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
    return MLP(n_features, n_hidden, n_classes, p_drop)
