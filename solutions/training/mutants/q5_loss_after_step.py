# mutant: returns the loss recomputed after the update instead of the loss that was minimised
# cell: def train_step(model, optimizer, loss_fn, xb, yb):
# loses: q5
def train_step(model, optimizer, loss_fn, xb, yb):
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        return loss_fn(model(xb), yb).item()
