# mutant: passes gradient=torch.ones_like(y) instead of v
# cell: def weighted_grad(x, v):
# loses: q2
def weighted_grad(x, v):
    x = x.detach().clone().requires_grad_(True)
    y = torch.sin(x) * x
    y.backward(gradient=torch.ones_like(y))
    return x.grad
