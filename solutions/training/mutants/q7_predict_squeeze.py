# mutant: predict squeezes the logits without a dim, so one example gives a 0-dim result instead of shape (1,)
# cell: def get_device():
# loses: q7
def get_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def predict(model, X):
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        logits = model(X.to(device)).squeeze()
    return logits.argmax(dim=-1).cpu()
