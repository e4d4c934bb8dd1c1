# mutant: makes the leaf copy through a Python list, so a float64 input comes back as float32
# cell: def weighted_grad(x, v):
# loses: q2
def weighted_grad(x, v):
    x = torch.tensor(x.tolist(), requires_grad=True)
    y = torch.sin(x) * x
    y.backward(gradient=v.to(x.dtype))
    return x.grad
