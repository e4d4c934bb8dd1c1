# mutant: every function returns the answer of the visible example model instead of looking at the model it is given
# cell: def child_names(model):
# loses: q4
def child_names(model):
    return ["0", "1", "2"]


def module_names(model):
    return ["0", "1", "2", "2.0", "2.1"]


def parameter_names(model):
    return ["0.weight", "0.bias", "1.weight", "1.bias", "2.1.weight", "2.1.bias"]


def buffer_names(model):
    return ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
