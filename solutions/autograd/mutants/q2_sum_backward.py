# mutant: calls y.sum().backward(), which ignores the weights v
# cell: def weighted_grad(x, v):
# loses: q2
def weighted_grad(x, v):
    x = x.detach().clone().requires_grad_(True)
    y = torch.sin(x) * x
    y.sum().backward()
    return x.grad
