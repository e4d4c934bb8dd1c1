# mutant: clips the gradients after optimizer.step(), when the step has already used them
# cell: def clipped_step(model, optimizer, x, y, max_norm):
# loses: q7
def clipped_step(model, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    return float(total)
