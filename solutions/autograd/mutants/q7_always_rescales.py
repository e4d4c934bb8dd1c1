# mutant: clips by hand and always multiplies by max_norm / norm, which also scales small gradients up
# cell: def clipped_step(model, optimizer, x, y, max_norm):
# loses: q7
def clipped_step(model, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    with torch.no_grad():
        for g in grads:
            g.mul_(max_norm / (total + 1e-6))
    optimizer.step()
    return float(total)
