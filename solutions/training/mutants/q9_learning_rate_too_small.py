# mutant: plain SGD with a tiny learning rate (lr=0.0001): the model hardly moves in 300 steps
# cell: def train_model(X, y, n_classes, seed=0):
# loses: q9
def train_model(X, y, n_classes, seed=0):
    device = get_device()
    model = make_model(seed, X.shape[1], 64, n_classes).to(device)
    X, y = X.to(device), y.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0001)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(300):
        train_step(model, optimizer, loss_fn, X, y)
    return model
