# mutant: "freezes" by zeroing the gradients of the earlier layers, which the next backward fills again
# cell: def freeze_all_but_last(model):
# loses: q6
def freeze_all_but_last(model):
    for module in list(model)[:-1]:
        for p in module.parameters():
            p.grad = torch.zeros_like(p)
    return model


def trainable_parameters(model):
    return [p for p in model.parameters() if p.requires_grad]
