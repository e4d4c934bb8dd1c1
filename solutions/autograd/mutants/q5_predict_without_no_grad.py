# mutant: predict runs the model without torch.no_grad(), so the result still requires grad
# cell: def predict(model, x):
# loses: q5
def predict(model, x):
    return model(x)

def distill_backward(student, teacher, x):
    loss = F.mse_loss(student(x), teacher(x).detach())
    loss.backward()
    return loss.item()
