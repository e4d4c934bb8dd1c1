# mutant: clips each parameter's gradient on its own instead of the norm of all gradients together
# cell: def clipped_step(model, optimizer, x, y, max_norm):
# loses: q7
def clipped_step(model, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    norms = [torch.nn.utils.clip_grad_norm_([p], max_norm) for p in model.parameters()]
    optimizer.step()
    return float(torch.stack(norms).norm())
