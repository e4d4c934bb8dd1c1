# mutant: train_model creates the model for the penguins' 4 features and 3 classes instead of the data's sizes
# cell: def train_model(X, y, n_classes, seed=0):
# loses: q9
def train_model(X, y, n_classes, seed=0):
    device = get_device()
    model = make_model(seed, 4, 64, 3).to(device)
    X, y = X.to(device), y.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(300):
        train_step(model, optimizer, loss_fn, X, y)
    return model
