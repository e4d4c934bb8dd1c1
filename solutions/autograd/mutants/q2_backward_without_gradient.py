# mutant: calls backward() on a non-scalar output without gradient=
# cell: def weighted_grad(x, v):
# loses: q2
def weighted_grad(x, v):
    x = x.detach().clone().requires_grad_(True)
    y = torch.sin(x) * x
    y.backward()
    return x.grad
