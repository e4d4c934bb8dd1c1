# mutant: assigns a new tensor to p.data instead of updating p in place, so p gets new memory
# cell: def sgd_step(params, lr):
# loses: q8
def sgd_step(params, lr):
    for p in params:
        p.data = p.data - lr * p.grad
        p.grad = None
