# mutant: the forward pre-hook is written as hook(module, args, output), but a pre-hook is called with (module, args) only
# cell: def add_input_scale(module, factor):
# loses: q6
def add_input_scale(module, factor):
    def hook(module, args, output):
        return (args[0] * factor,) + tuple(args[1:])

    return module.register_forward_pre_hook(hook)


def add_output_clamp(module, low, high):
    def hook(module, args, output):
        return output.clamp(low, high)

    return module.register_forward_hook(hook)
