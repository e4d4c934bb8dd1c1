# mutant: forgets optimizer.step(), so the model is never updated
# cell: def fit_linear(x, y, lr=0.1, epochs=300):
# loses: q9
def fit_linear(x, y, lr=0.1, epochs=300):
    torch.manual_seed(0)
    model = nn.Linear(x.shape[1], 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(x).squeeze(1), y)
        loss.backward()
    return model
