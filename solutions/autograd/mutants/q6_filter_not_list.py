# mutant: trainable_parameters returns a filter object (an iterator), not a list
# cell: def freeze_all_but_last(model):
# loses: q6
def freeze_all_but_last(model):
    model.requires_grad_(False)
    model[-1].requires_grad_(True)
    return model


def trainable_parameters(model):
    return filter(lambda p: p.requires_grad, model.parameters())
