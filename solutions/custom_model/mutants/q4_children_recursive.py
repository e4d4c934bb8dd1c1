# mutant: child_names uses named_modules(), so it lists grandchildren too instead of only the direct children
# cell: def child_names(model):
# loses: q4
def child_names(model):
    return [name for name, _ in model.named_modules() if name != ""]


def module_names(model):
    return [name for name, _ in model.named_modules() if name != ""]


def parameter_names(model):
    return [name for name, _ in model.named_parameters()]


def buffer_names(model):
    return [name for name, _ in model.named_buffers()]
