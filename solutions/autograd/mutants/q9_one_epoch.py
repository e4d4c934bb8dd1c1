# mutant: trains for a single step instead of `epochs` steps
# cell: def fit_linear(x, y, lr=0.1, epochs=300):
# loses: q9
def fit_linear(x, y, lr=0.1, epochs=300):
    torch.manual_seed(0)
    model = nn.Linear(x.shape[1], 1)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    optimizer.zero_grad()
    loss_fn(model(x).squeeze(1), y).backward()
    optimizer.step()
    return model
