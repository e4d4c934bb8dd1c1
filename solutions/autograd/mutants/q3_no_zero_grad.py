# mutant: batch_grads never calls zero_grad, so each batch's gradient also contains the earlier batches'
# cell: def batch_grads(model, batches):
# loses: q3
def batch_grads(model, batches):
    result = []
    for x, y in batches:
        loss = F.mse_loss(model(x), y)
        loss.backward()
        result.append([p.grad.clone() for p in model.parameters()])
    return result

def accumulated_grads(model, batches):
    model.zero_grad()
    for x, y in batches:
        loss = F.mse_loss(model(x), y)
        loss.backward()
    return [p.grad.clone() for p in model.parameters()]
