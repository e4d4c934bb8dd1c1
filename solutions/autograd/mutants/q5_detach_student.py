# mutant: detach in the wrong place: the student's output is detached instead of the teacher's
# cell: def predict(model, x):
# loses: q5
def predict(model, x):
    with torch.no_grad():
        return model(x)


def distill_backward(student, teacher, x):
    loss = F.mse_loss(student(x).detach(), teacher(x))
    loss.backward()
    return loss.item()
