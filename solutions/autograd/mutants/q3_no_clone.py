# mutant: stores p.grad without clone() and zeroes with zero_grad(set_to_none=False), so all stored gradients are the same tensor
# cell: def batch_grads(model, batches):
# loses: q3
def batch_grads(model, batches):
    result = []
    for x, y in batches:
        model.zero_grad(set_to_none=False)
        loss = F.mse_loss(model(x), y)
        loss.backward()
        result.append([p.grad for p in model.parameters()])
    return result

def accumulated_grads(model, batches):
    model.zero_grad()
    for x, y in batches:
        loss = F.mse_loss(model(x), y)
        loss.backward()
    return [p.grad.clone() for p in model.parameters()]
