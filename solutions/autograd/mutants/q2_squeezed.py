# mutant: squeezes the input to drop "extra" dimensions, so a size-1 dimension disappears from the gradient
# cell: def weighted_grad(x, v):
# loses: q2
def weighted_grad(x, v):
    x = x.detach().clone().squeeze().requires_grad_(True)
    y = torch.sin(x) * x
    y.backward(gradient=v.reshape(x.shape))
    return x.grad
