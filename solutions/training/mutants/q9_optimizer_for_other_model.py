# mutant: the optimizer is created for one model, then a new model is created and returned untrained
# cell: def train_model(X, y, n_classes, seed=0):
# loses: q9
def train_model(X, y, n_classes, seed=0):
    device = get_device()
    model = make_model(seed, X.shape[1], 64, n_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model = make_model(seed + 1, X.shape[1], 64, n_classes).to(device)
    X, y = X.to(device), y.to(device)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(300):
        train_step(model, optimizer, loss_fn, X, y)
    return model
