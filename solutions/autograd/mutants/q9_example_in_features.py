# mutant: builds nn.Linear(2, 1), the size of the public example, instead of nn.Linear(D, 1)
# cell: def fit_linear(x, y, lr=0.1, epochs=300):
# loses: q9
def fit_linear(x, y, lr=0.1, epochs=300):
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        pred = model(x).squeeze(1)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
    return model
