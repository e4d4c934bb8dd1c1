# mutant: optimizer.step() before loss.backward(): each step uses the previous (stale) gradients
# cell: def train_step(model, optimizer, loss_fn, xb, yb):
# loses: q5, q9
def train_step(model, optimizer, loss_fn, xb, yb):
    model.train()
    loss = loss_fn(model(xb), yb)
    optimizer.step()
    optimizer.zero_grad()
    loss.backward()
    return loss.item()
