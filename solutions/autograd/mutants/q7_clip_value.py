# mutant: uses clip_grad_value_ (clips each value) instead of clip_grad_norm_
# cell: def clipped_step(model, optimizer, x, y, max_norm):
# loses: q7
def clipped_step(model, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), max_norm)
    optimizer.step()
    return float(max_norm)
