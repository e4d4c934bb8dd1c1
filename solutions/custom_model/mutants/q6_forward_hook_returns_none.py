# mutant: the forward hook computes output.clamp(low, high) but does not return it, so the output is unchanged
# cell: def add_input_scale(module, factor):
# loses: q6
def add_input_scale(module, factor):
    def hook(module, args):
        return (args[0] * factor,) + tuple(args[1:])

    return module.register_forward_pre_hook(hook)


def add_output_clamp(module, low, high):
    def hook(module, args, output):
        output.clamp(low, high)

    return module.register_forward_hook(hook)
