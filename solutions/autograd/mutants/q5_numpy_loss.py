# mutant: distill_backward returns the loss through numpy (a 0-d array), not a Python float
# cell: def predict(model, x):
# loses: q5
def predict(model, x):
    with torch.no_grad():
        return model(x)


def distill_backward(student, teacher, x):
    loss = F.mse_loss(student(x), teacher(x).detach())
    loss.backward()
    return loss.detach().numpy()
