# mutant: add_gain checks hasattr(m, 'weight') instead of isinstance(m, nn.Linear), so BatchNorm layers get a gain too
# cell: def apply_order(model):
# loses: q10
def apply_order(model):
    names = {m: name for name, m in model.named_modules()}
    order = []
    model.apply(lambda m: order.append(names[m]))
    return order


def add_gain(model):
    def add(m):
        if hasattr(m, "weight"):
            m.register_parameter("gain", nn.Parameter(torch.ones(m.weight.shape[0], dtype=m.weight.dtype)))

    model.apply(add)
