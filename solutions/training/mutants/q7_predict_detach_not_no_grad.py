# mutant: predict runs the model with autograd on and detaches the result, instead of torch.no_grad()
# cell: def get_device():
# loses: q7
def get_device():
    return "cuda" if torch.cuda.is_available() else "cpu"


def predict(model, X):
    device = next(model.parameters()).device
    model.eval()
    logits = model(X.to(device)).detach()
    return logits.argmax(dim=1).cpu()
