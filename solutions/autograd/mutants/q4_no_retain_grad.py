# mutant: forgets h.retain_grad(), so h.grad is None
# cell: def hidden_grads(x, w1, w2):
# loses: q4
def hidden_grads(x, w1, w2):
    w1 = w1.detach().clone().requires_grad_(True)
    h = x @ w1
    out = torch.tanh(h) @ w2
    loss = (out ** 2).sum()
    loss.backward()
    return h.grad, w1.grad
