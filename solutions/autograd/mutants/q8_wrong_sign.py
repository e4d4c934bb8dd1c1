# mutant: adds the gradient (p += lr * p.grad) instead of subtracting it
# cell: def sgd_step(params, lr):
# loses: q8
def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            p += lr * p.grad
    for p in params:
        p.grad = None
