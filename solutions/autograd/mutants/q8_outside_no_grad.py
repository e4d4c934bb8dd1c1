# mutant: updates the weights in place outside torch.no_grad()
# cell: def sgd_step(params, lr):
# loses: q8
def sgd_step(params, lr):
    for p in params:
        p -= lr * p.grad
        p.grad = None
