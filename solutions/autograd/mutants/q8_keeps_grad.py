# mutant: does not reset the gradient after the update
# cell: def sgd_step(params, lr):
# loses: q8
def sgd_step(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
