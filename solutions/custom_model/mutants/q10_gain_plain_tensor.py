# mutant: add_gain stores gain as a plain tensor attribute (m.gain = torch.ones(...)), which is not registered as a parameter
# cell: def apply_order(model):
# loses: q10
def apply_order(model):
    names = {m: name for name, m in model.named_modules()}
    order = []
    model.apply(lambda m: order.append(names[m]))
    return order


def add_gain(model):
    def add(m):
        if isinstance(m, nn.Linear):
            m.gain = torch.ones(m.out_features, dtype=m.weight.dtype, device=m.weight.device)

    model.apply(add)
