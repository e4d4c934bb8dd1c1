# mutant: the teacher's output is not detached, so the teacher gets gradients too
# cell: def predict(model, x):
# loses: q5
def predict(model, x):
    with torch.no_grad():
        return model(x)


def distill_backward(student, teacher, x):
    loss = F.mse_loss(student(x), teacher(x))
    loss.backward()
    return loss.item()
