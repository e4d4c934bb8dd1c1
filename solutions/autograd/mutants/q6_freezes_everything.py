# mutant: freezes every parameter, the last layer's too
# cell: def freeze_all_but_last(model):
# loses: q6
def freeze_all_but_last(model):
    for p in model.parameters():
        p.requires_grad_(False)
    return model

def trainable_parameters(model):
    return [p for p in model.parameters() if p.requires_grad]
