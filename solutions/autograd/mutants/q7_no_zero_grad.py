# mutant: never calls optimizer.zero_grad(), so gradients accumulate from one step to the next
# cell: def clipped_step(model, optimizer, x, y, max_norm):
# loses: q7
def clipped_step(model, optimizer, x, y, max_norm):
    loss = F.mse_loss(model(x), y)
    loss.backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return float(total)
