# mutant: add_gain creates one gain Parameter and gives the same object to every Linear, so the layers share it
# cell: def apply_order(model):
# loses: q10
def apply_order(model):
    names = {m: name for name, m in model.named_modules()}
    order = []
    model.apply(lambda m: order.append(names[m]))
    return order


def add_gain(model):
    shared = {}

    def add(m):
        if isinstance(m, nn.Linear):
            key = (m.out_features, m.weight.dtype)
            if key not in shared:
                shared[key] = nn.Parameter(torch.ones(m.out_features, dtype=m.weight.dtype))
            m.register_parameter("gain", shared[key])

    model.apply(add)
