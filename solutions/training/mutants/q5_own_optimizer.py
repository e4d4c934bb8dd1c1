# mutant: train_step creates its own SGD optimizer (lr=0.1) instead of using the one it is given
# cell: def train_step(model, optimizer, loss_fn, xb, yb):
# loses: q5
def train_step(model, optimizer, loss_fn, xb, yb):
    model.train()
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    sgd.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    sgd.step()
    return loss.item()
