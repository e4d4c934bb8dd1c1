# mutant: relies on the notebook's first cell for the seed instead of calling torch.manual_seed(0) itself
# cell: def fit_linear(x, y, lr=0.1, epochs=300):
# loses: q9
def fit_linear(x, y, lr=0.1, epochs=300):
    model = nn.Linear(x.shape[1], 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        pred = model(x).squeeze(1)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
    return model
