# mutant: parameter_names returns the keys of state_dict(), which also contain the buffers
# cell: def child_names(model):
# loses: q4
def child_names(model):
    return [name for name, _ in model.named_children()]


def module_names(model):
    return [name for name, _ in model.named_modules() if name != ""]


def parameter_names(model):
    return list(model.state_dict().keys())


def buffer_names(model):
    return [name for name, _ in model.named_buffers()]
