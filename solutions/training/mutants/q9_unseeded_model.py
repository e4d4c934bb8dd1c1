# mutant: creates the model with MLP(...) directly, without a seed, so results are not reproducible
# cell: def train_model(X, y, n_classes, seed=0):
# loses: q9
def train_model(X, y, n_classes, seed=0):
    device = get_device()
    model = MLP(X.shape[1], 64, n_classes).to(device)
    X, y = X.to(device), y.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(300):
        train_step(model, optimizer, loss_fn, X, y)
    return model
