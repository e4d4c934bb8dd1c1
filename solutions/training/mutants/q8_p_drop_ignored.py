# mutant: make_model does not pass p_drop on, so the MLP always gets the default dropout of 0.2
# cell: def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
# loses: q8
def make_model(seed, n_features, n_hidden, n_classes, p_drop=0.2):
    torch.manual_seed(seed)
    return MLP(n_features, n_hidden, n_classes)
