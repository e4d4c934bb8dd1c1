# mutant: module_names uses named_children(), so it misses the submodules deeper than one level
# cell: def child_names(model):
# loses: q4
def child_names(model):
    return [name for name, _ in model.named_children()]


def module_names(model):
    return [name for name, _ in model.named_children()]


def parameter_names(model):
    return [name for name, _ in model.named_parameters()]


def buffer_names(model):
    return [name for name, _ in model.named_buffers()]
