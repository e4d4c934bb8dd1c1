# mutant: averages by dividing by 2, the number of rows of the public example, instead of taking the mean
# cell: def loss_grad(w, x, y):
# loses: q1
def loss_grad(w, x, y):
    w = w.detach().clone().requires_grad_(True)
    loss = ((x @ w - y) ** 2).sum() / 2
    loss.backward()
    return w.grad
