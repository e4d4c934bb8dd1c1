# mutant: forgets optimizer.zero_grad(), so old gradients are added to the new ones
# cell: def train_step(model, optimizer, loss_fn, xb, yb):
# loses: q5
def train_step(model, optimizer, loss_fn, xb, yb):
    model.train()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()
