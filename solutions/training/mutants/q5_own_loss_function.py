# mutant: train_step computes F.cross_entropy itself instead of using the loss_fn it is given
# cell: def train_step(model, optimizer, loss_fn, xb, yb):
# loses: q5
def train_step(model, optimizer, loss_fn, xb, yb):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()
