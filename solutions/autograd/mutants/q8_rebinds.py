# mutant: writes p = p - lr * p.grad, which makes a new tensor and leaves the parameter unchanged
# cell: def sgd_step(params, lr):
# loses: q8
def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            p = p - lr * p.grad
    for p in params:
        p.grad = None
