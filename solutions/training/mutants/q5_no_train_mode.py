# mutant: train_step never calls model.train(), so a step after an evaluation runs in eval mode
# cell: def train_step(model, optimizer, loss_fn, xb, yb):
# loses: q5
def train_step(model, optimizer, loss_fn, xb, yb):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()
