# mutant: the loss uses .sum() instead of .mean()
# cell: def loss_grad(w, x, y):
# loses: q1
def loss_grad(w, x, y):
    w = w.detach().clone().requires_grad_(True)
    loss = ((x @ w - y) ** 2).sum()
    loss.backward()
    return w.grad
