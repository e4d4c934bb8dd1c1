# mutant: predict returns the logits instead of the predicted class indices
# cell: def get_device():
# loses: q7
def get_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def predict(model, X):
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        logits = model(X.to(device))
    return logits.cpu()
