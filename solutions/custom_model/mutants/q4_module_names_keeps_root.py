# mutant: module_names keeps the model itself (the empty name "") in the list
# cell: def child_names(model):
# loses: q4
def child_names(model):
    return [name for name, _ in model.named_children()]


def module_names(model):
    return [name for name, _ in model.named_modules()]


def parameter_names(model):
    return [name for name, _ in model.named_parameters()]


def buffer_names(model):
    return [name for name, _ in model.named_buffers()]
