# mutant: trainable_parameters returns all parameters, frozen ones included
# cell: def freeze_all_but_last(model):
# loses: q6
def freeze_all_but_last(model):
    model.requires_grad_(False)
    model[-1].requires_grad_(True)
    return model


def trainable_parameters(model):
    return list(model.parameters())
