# mutant: returns the numbers of the public example
# cell: def loss_grad(w, x, y):
# loses: q1
def loss_grad(w, x, y):
    return torch.tensor([-10.0, -15.0])
