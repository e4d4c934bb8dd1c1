# mutant: apply_order returns the order of the visible example model for every model
# cell: def apply_order(model):
# loses: q10
def apply_order(model):
    return ["0", "1.0", "1.1", "1", ""]


def add_gain(model):
    def add(m):
        if isinstance(m, nn.Linear):
            gain = torch.ones(m.out_features, dtype=m.weight.dtype, device=m.weight.device)
            m.register_parameter("gain", nn.Parameter(gain))

    model.apply(add)
