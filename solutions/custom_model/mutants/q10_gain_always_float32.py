# mutant: add_gain always creates a float32 gain, ignoring the dtype of the layer's weight (wrong after model.double())
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
            m.register_parameter("gain", nn.Parameter(torch.ones(m.out_features)))

    model.apply(add)
