# mutant: sets module.requires_grad = False, an ordinary attribute that does not touch the parameters
# cell: def freeze_all_but_last(model):
# loses: q6
def freeze_all_but_last(model):
    for module in model[:-1]:
        module.requires_grad = False
    return model

def trainable_parameters(model):
    return [p for p in model.parameters() if p.requires_grad]
