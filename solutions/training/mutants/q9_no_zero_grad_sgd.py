# mutant: the loop never calls optimizer.zero_grad(): gradients pile up and SGD diverges
# cell: def train_model(X, y, n_classes, seed=0):
# loses: q9
def train_model(X, y, n_classes, seed=0):
    device = get_device()
    model = make_model(seed, X.shape[1], 64, n_classes).to(device)
    X, y = X.to(device), y.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(300):
        model.train()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
    return model
