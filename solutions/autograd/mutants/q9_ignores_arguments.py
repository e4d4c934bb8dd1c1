# mutant: uses lr=0.1 and 300 epochs whatever lr and epochs it is given
# cell: def fit_linear(x, y, lr=0.1, epochs=300):
# loses: q9
def fit_linear(x, y, lr=0.1, epochs=300):
    torch.manual_seed(0)
    model = nn.Linear(x.shape[1], 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(300):
        optimizer.zero_grad()
        pred = model(x).squeeze(1)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
    return model
