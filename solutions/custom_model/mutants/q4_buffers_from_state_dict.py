# mutant: buffer_names takes the state_dict() keys that are not parameters, which leaves out the non-persistent buffers
# cell: def child_names(model):
# loses: q4
def child_names(model):
    return [name for name, _ in model.named_children()]


def module_names(model):
    return [name for name, _ in model.named_modules() if name != ""]


def parameter_names(model):
    return [name for name, _ in model.named_parameters()]


def buffer_names(model):
    params = set(parameter_names(model))
    return [name for name in model.state_dict() if name not in params]
