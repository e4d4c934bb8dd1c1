# mutant: apply_order walks the model by hand with named_children, recording each module before its children, instead of the order apply uses
# cell: def apply_order(model):
# loses: q10
def apply_order(model):
    order = []

    def visit(module, name):
        order.append(name)
        for child_name, child in module.named_children():
            visit(child, f"{name}.{child_name}" if name else child_name)

    visit(model, "")
    return order


def add_gain(model):
    def add(m):
        if isinstance(m, nn.Linear):
            gain = torch.ones(m.out_features, dtype=m.weight.dtype, device=m.weight.device)
            m.register_parameter("gain", nn.Parameter(gain))

    model.apply(add)
