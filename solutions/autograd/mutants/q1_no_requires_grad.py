# mutant: w is used as it is, without a leaf copy that requires grad
# cell: def loss_grad(w, x, y):
# loses: q1
def loss_grad(w, x, y):
    loss = ((x @ w - y) ** 2).mean()
    loss.backward()
    return w.grad
