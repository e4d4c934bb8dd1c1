# mutant: the forward hook clamps to the public example's bounds (-0.1, 0.1) instead of low and high
# cell: def add_input_scale(module, factor):
# loses: q6
def add_input_scale(module, factor):
    def hook(module, args):
        return (args[0] * factor,) + tuple(args[1:])

    return module.register_forward_pre_hook(hook)


def add_output_clamp(module, low, high):
    def hook(module, args, output):
        return output.clamp(-0.1, 0.1)

    return module.register_forward_hook(hook)
