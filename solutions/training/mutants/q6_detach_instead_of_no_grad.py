# mutant: evaluate detaches the logits after a forward pass with autograd on, instead of torch.no_grad()
# cell: def evaluate(model, X, y):
# loses: q6
def evaluate(model, X, y):
    model.eval()
    logits = model(X).detach()
    loss = F.cross_entropy(logits, y).item()
    accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy
