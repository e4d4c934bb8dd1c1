# mutant: get_device returns a device string computed once, when the cell ran
# cell: def get_device():
# loses: q7
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def get_device():
    return DEVICE


def predict(model, X):
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        logits = model(X.to(device))
    return logits.argmax(dim=1).cpu()
