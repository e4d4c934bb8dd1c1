# mutant: zero_grad is called between backward() and step(), so the step uses no gradient at all
# cell: def train_step(model, optimizer, loss_fn, xb, yb):
# loses: q5, q9
def train_step(model, optimizer, loss_fn, xb, yb):
    model.train()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()
