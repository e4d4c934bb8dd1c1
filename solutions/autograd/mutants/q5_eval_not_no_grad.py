# mutant: predict calls model.eval() and detaches instead of running the model under torch.no_grad()
# cell: def predict(model, x):
# loses: q5
def predict(model, x):
    model.eval()
    return model(x).detach()


def distill_backward(student, teacher, x):
    loss = F.mse_loss(student(x), teacher(x).detach())
    loss.backward()
    return loss.item()
