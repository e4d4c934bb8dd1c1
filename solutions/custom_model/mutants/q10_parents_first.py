# mutant: apply_order returns the named_modules() order (parents before children) instead of the order apply really uses
# cell: def apply_order(model):
# loses: q10
def apply_order(model):
    return [name for name, _ in model.named_modules()]


def add_gain(model):
    def add(m):
        if isinstance(m, nn.Linear):
            gain = torch.ones(m.out_features, dtype=m.weight.dtype, device=m.weight.device)
            m.register_parameter("gain", nn.Parameter(gain))

    model.apply(add)
