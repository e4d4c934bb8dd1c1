# mutant: unfreezes model[4], the last layer of the public example, instead of model[-1]
# cell: def freeze_all_but_last(model):
# loses: q6
def freeze_all_but_last(model):
    model.requires_grad_(False)
    model[4].requires_grad_(True)
    return model


def trainable_parameters(model):
    return [p for p in model.parameters() if p.requires_grad]
