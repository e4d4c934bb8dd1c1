# mutant: the gradient is written by hand and forgets the factor 2
# cell: def loss_grad(w, x, y):
# loses: q1
def loss_grad(w, x, y):
    return x.T @ (x @ w - y) / x.shape[0]
