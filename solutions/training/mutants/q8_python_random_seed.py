# mutant: seeds Python's random module instead of torch (torch's generator is unaffected)
# cell: def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
# loses: q8, q9
def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
    import random
    random.seed(seed)
    return MLP(n_features, n_hidden, n_classes, p_drop)
