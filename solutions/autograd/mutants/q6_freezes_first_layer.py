# mutant: freezes the first layer instead of everything but the last
# cell: def freeze_all_but_last(model):
# loses: q6
def freeze_all_but_last(model):
    model.requires_grad_(True)
    model[0].requires_grad_(False)
    return model

def trainable_parameters(model):
    return [p for p in model.parameters() if p.requires_grad]
